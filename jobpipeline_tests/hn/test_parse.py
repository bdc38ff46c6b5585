"""Comment → Posting on the three recorded threads (2011-04 Algolia, 2019-11 and 2020-02 Firebase).

Expected values were read by hand from the recorded comment HTML.
"""

from __future__ import annotations

import functools
import html
import re
from datetime import UTC, datetime

import pytest

from jobpipeline.lib.hn import parse_thread
from jobpipeline.lib.hn.fields import looks_like_salary, remote_wording
from jobpipeline.lib.postings import POSTING_SCHEMA, postings_frame
from jobpipeline_tests.hn.conftest import recorded_thread

# month: (top-level comments, deleted, dead, postings); SOURCES.md of the recordings agrees:
# 2019-11 "680 top-level (647 live, 17 dead, 16 deleted)", 2020-02 "414 (408 live, 1 dead, 5 deleted)".
COUNTS = {"2011-04": (219, 0, 0, 219), "2019-11": (680, 16, 17, 647), "2020-02": (414, 5, 1, 408)}
# How the headlines split between the pipe layout and free-form, as this parser sees them.
LAYOUTS = {"2011-04": (0, 219), "2019-11": (609, 38), "2020-02": (386, 22)}


@pytest.fixture(scope="module", params=sorted(COUNTS))
def month_postings(request):
    month = request.param
    thread = recorded_thread(month)
    postings, counts = parse_thread(thread, month)
    return month, thread, postings, counts


@functools.cache
def by_id(month: str) -> dict:
    postings, _ = parse_thread(recorded_thread(month), month)
    return {p.source_job_id: p for p in postings}


def test_every_live_comment_becomes_one_posting_and_deleted_or_dead_ones_none(month_postings):
    month, thread, postings, counts = month_postings
    assert (counts.seen, counts.deleted, counts.dead, len(postings)) == COUNTS[month]
    assert (counts.pipe, counts.free_form) == LAYOUTS[month]
    gone = {str(c.id) for c in thread.comments if c.deleted or c.dead}
    assert len(gone) == counts.deleted + counts.dead
    assert not gone & {p.source_job_id for p in postings}
    assert len({p.source_job_id for p in postings}) == len(postings)


def test_postings_are_clean_text_with_utc_times_and_fit_the_schema(month_postings):
    month, thread, postings, _ = month_postings
    written = {str(c.id): html.unescape(re.sub(r"<[^>]+>", "", c.text or "")) for c in thread.comments}
    for p in postings:
        assert (p.source, p.board) == ("hn", month)
        assert p.description and p.posted_at.tzinfo == UTC and p.posted_at.strftime("%Y-%m") == month
        for leftover in ("<p>", "</p>", "<a ", "<pre>", "<code>", "<i>", "&#x2F;", "&#x27;", "&quot;", "&amp;"):
            # unless the poster typed it ("NodeJS &amp;amp; NPM" shows as "NodeJS &amp; NPM")
            assert leftover not in p.description or leftover in written[p.source_job_id], (p.source_job_id, leftover)
        if month == "2011-04":  # its Algolia text wrote newlines as a backslash and an n
            assert "\\n" not in p.description, p.source_job_id
        assert p.apply_url is None or (p.apply_url.startswith("http") and "&#x2F;" not in p.apply_url)
    frame = postings_frame(postings)
    assert frame.schema == POSTING_SCHEMA and frame.height == len(postings)


def test_deleted_and_dead_comments_are_the_recorded_ones():
    thread = recorded_thread("2019-11")
    dead = next(c for c in thread.comments if c.id == 21519618)
    assert dead.dead and dead.by == "forbrkfst" and not dead.is_live  # keeps author and text
    deleted = next(c for c in thread.comments if c.id == 21517952)
    assert deleted.deleted and deleted.by is None and deleted.text is None


def test_pipe_headline_with_salary_range_and_code_block_2019_11():
    p = by_id("2019-11")["21420394"]  # "Co—Star Astrology | Full-time | On-site | New York | $130-150k + equity"
    assert (p.company, p.title, p.locations) == ("Co—Star Astrology", "", ["New York"])
    assert (p.remote, p.workplace_type, p.employment_type) == (False, "onsite", "full-time")
    # The pay segment is kept as written; its amount is the enrich stage's reading (test_hn_pay.py).
    assert (p.salary_text, p.salary_min, p.salary_max, p.salary_currency, p.salary_period) == ("$130-150k + equity", None, None, None, None)
    assert p.apply_url == "https://www.costarastrology.com"  # href had https:&#x2F;&#x2F;
    assert p.posted_at == datetime(2019, 11, 1, 16, 13, 39, tzinfo=UTC)
    # <pre><code> lines stay lines; &amp; and &#x2F; are decoded inside them.
    assert "\n• Transforming NASA data into astrological patterns" in p.description
    assert "• Shipping new features & A/B tests in our Apple-lauded iOS app" in p.description


def test_several_pipe_lines_of_one_company_join_their_roles_2019_11():
    p = by_id("2019-11")["21536974"]
    assert (p.company, p.locations) == ("MAARK", ["Boston, MA"])
    assert p.title == "Senior Frontend Engineer / Wordpress Developer"


def test_company_with_a_linked_url_and_remote_first_2019_11():
    # "Sourcegraph (<a …>https://sourcegraph.com</a>) | Software Engineer | REMOTE FIRST and San Francisco, CA"
    p = by_id("2019-11")["21506136"]
    assert (p.company, p.title, p.remote) == ("Sourcegraph", "Software Engineer", True)
    assert p.locations == ["San Francisco, CA"]
    assert p.apply_url == "https://sourcegraph.com"


def test_salary_and_remote_wording_in_other_segments_2019_11():
    p = by_id("2019-11")["21421535"]
    assert (p.company, p.title) == ("Replicated", "Backend Engineer - All Levels")
    assert p.salary_text == "$100k - $160k + equity"
    assert p.remote is True  # "Los Angeles onsite preferred, open to remote candidates"
    talend = by_id("2019-11")["21543332"]
    assert talend.locations == ["Paris", "Nantes in France", "Bonn in Germany"]
    assert talend.apply_url.endswith("?lever-origin=applied&lever-source%5B%5D=Hackernews")  # &amp; decoded


def test_remote_region_and_second_city_2020_02():
    p = by_id("2020-02")["22225570"]
    assert (p.company, p.title) == ("ClearVoice", "Frontend Software Engineer")
    assert p.locations == ["Phoenix, AZ", "REMOTE (AZ, CA, MI, MN, TX, WA)"] and p.remote is True
    assert p.apply_url == "https://www.clearvoice.com/"


def test_free_form_2011_headlines_lead_with_the_place():
    postings = by_id("2011-04")
    p = postings["2396134"]  # "<p>Chicago, IL (or anywhere) - Rails Programmer @ 37signals</p>…"
    assert (p.company, p.title, p.remote) == ("37signals", "Rails Programmer", True)
    assert p.locations == ["Chicago, IL (or anywhere)"]
    assert p.apply_url == "http://jobs.37signals.com/jobs/8508"
    assert p.posted_at == datetime(2011, 4, 1, 13, 41, 45, tzinfo=UTC)
    # "Austin, TX - Ruby Programmer\\nAcademicWorks - …": a literal backslash-n in the 2011 data
    p = postings["2396235"]
    assert (p.title, p.locations) == ("Ruby Programmer", ["Austin, TX"])
    assert p.description.startswith("Austin, TX - Ruby Programmer\nAcademicWorks - Scholarship Management")
    p = postings["2396439"]  # "Bangalore, India (Sorry, no remote)."
    assert (p.remote, p.workplace_type) == (False, "onsite")
    p = postings["2397148"]  # "Etsy, the global marketplace …, is hiring across the board …"
    assert (p.company, p.apply_url) == ("Etsy", "http://www.etsy.com/jobs")
    # "New York City, Seattle, and San Francisco - iSEC Partners - Application Security Consultants"
    p = postings["2396956"]
    assert (p.company, p.title) == ("iSEC Partners", "Application Security Consultants")


def test_a_backslash_n_in_firebase_text_is_text_not_a_newline_2020_02():
    # "\\newline | Book Author &amp; Course Content Creators| Multiple Positions | REMOTE |…"
    p = by_id("2020-02")["22226700"]
    assert (p.company, p.remote) == ("\\newline", True)
    assert p.description.startswith("\\newline | Book Author & Course Content Creators")


def test_unparseable_comments_are_kept_with_their_text():
    p = by_id("2011-04")["2397919"]  # "<p>Skype! Help us fix Mac version 5 :)</p>…"
    assert (p.company, p.title, p.locations) == ("", "", [])
    assert p.description.startswith("Skype! Help us fix Mac version 5 :)")
    assert p.apply_url == "http://skypecareers.com/results"


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("$130-150k + equity", True),
        ("$100k - $160k + equity", True),
        ("100-135k (DOE)", True),
        ("Full time (CDI) @35k€", True),
        ("competitive salary", True),
        ("North Brunswick, NJ", False),
        ("Senior Software Engineer", False),
    ],
)
def test_pay_segments_of_recorded_headlines_are_told_from_places_and_roles(segment, expected):
    assert looks_like_salary(segment) is expected


@pytest.mark.parametrize(
    ("headline", "expected"),
    [
        ("Codacy | Lisbon | Remote or Onsite | Full-time", (True, None)),
        ("Talend | Senior Security Architect | Paris | Full-Time | Onsite", (False, "onsite")),
        ("Bangalore, India (Sorry, no remote).", (False, "onsite")),
        ("Automattic | Remote Global | Remote Only", (True, "remote")),
        ("Helsinki, Finland - engineering, computational geometry and distributed systems", (None, None)),
    ],
)
def test_remote_wording_of_recorded_headlines(headline, expected):
    assert remote_wording(headline) == expected
