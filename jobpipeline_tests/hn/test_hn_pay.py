"""HN pay is read by the one salary extractor and labelled "extracted", never "api".

HN has no structured pay: a comment states it in prose ("$130-150k + equity" in the headline, or
a sentence in the body). Real comments of the recorded 2019-11 thread go through the real path —
parse, sync into a SQLite store, enrich with the rules backend — and the cached pay must be what
``lib/extract`` reads from the comment, with ``salary_source="extracted"``.
"""

from __future__ import annotations

from datetime import date

from jobpipeline.lib.extract import cache
from jobpipeline.lib.extract.backends import RulesBackend
from jobpipeline.lib.extract.enrich import JobInput, apply_api_values, enrich_jobs, read_jobs
from jobpipeline.lib.extract.rules import extract_rules
from jobpipeline.lib.hn import parse_thread
from jobpipeline.lib.postings import BoardOutcome, postings_frame
from jobpipeline.lib.sync import sync_postings
from jobpipeline_tests.hn.conftest import recorded_thread

MONTH = "2019-11"
# Read by hand from the recorded comment HTML.
PAY = {
    "21420394": ("$130-150k + equity", (130_000, 150_000, "USD", "year")),  # "Co—Star Astrology | … | $130-150k + equity"
    "21425082": ("$150,000+", (150_000, None, "USD", "year")),  # "… | $150,000+ | …": from 150k, no ceiling
    # Pay only in the body: "Compensation commensurate with experience, but somewhere in the range of $80-135k."
    "21468813": (None, (80_000, 135_000, "USD", "year")),
}


def _pay(row) -> tuple:
    return (row["salary_min"], row["salary_max"], row["salary_currency"], row["salary_period"])


def test_hn_comment_pay_is_the_main_extractors_reading_labelled_extracted(engine) -> None:
    postings, _ = parse_thread(recorded_thread(MONTH), MONTH)
    chosen = [p for p in postings if p.source_job_id in PAY]
    assert len(chosen) == len(PAY)
    for p in chosen:
        # The headline's pay segment stays as text; no structured pay is claimed for a comment.
        assert p.salary_text == PAY[p.source_job_id][0]
        assert (p.salary_min, p.salary_max, p.salary_currency, p.salary_period) == (None, None, None, None)

    sync_postings(engine, postings_frame(chosen), seen_on=date(2019, 11, 1), outcomes=[BoardOutcome(source="hn", board=MONTH, ok=True)])
    jobs = read_jobs(engine)
    enrich_jobs(engine, jobs, RulesBackend())
    cached = {row["content_hash"]: row for row in cache.load(engine)}

    by_description = {p.description: p for p in chosen}
    assert len(jobs) == len(chosen)
    for job in jobs:
        posting, row = by_description[job.description], cached[job.content_hash]
        ruled = extract_rules(job.title, job.location, job.description)
        assert _pay(row) == (ruled.salary_min, ruled.salary_max, ruled.salary_currency, ruled.salary_period)
        assert _pay(row) == PAY[posting.source_job_id][1], posting.source_job_id
        assert row["salary_source"] == "extracted", posting.source_job_id


def test_hn_pay_stored_by_the_old_headline_parser_is_not_taken_as_the_apis() -> None:
    """A raw partition written before holds the old parser's reading ($150,000+ → 150k–150k) in the
    salary columns; the enrichment keeps the extractor's reading and says it was extracted."""
    postings, _ = parse_thread(recorded_thread(MONTH), MONTH)
    p = next(p for p in postings if p.source_job_id == "21425082")
    location = ", ".join(p.locations)
    stale = JobInput("h", p.title, location, p.description, 150_000.0, 150_000.0, "USD", "year", source="hn")
    fields, salary_source, _ = apply_api_values(extract_rules(p.title, location, p.description), stale)
    assert (fields.salary_min, fields.salary_max, fields.salary_currency, salary_source) == (150_000, None, "USD", "extracted")
    # The same columns on a source whose API states pay are the API's.
    api = JobInput("h", p.title, location, p.description, 150_000.0, 150_000.0, "USD", "year", source="ashby")
    fields, salary_source, _ = apply_api_values(extract_rules(p.title, location, p.description), api)
    assert (fields.salary_min, fields.salary_max, salary_source) == (150_000, 150_000, "api")


# Money in real comments that is not this job's pay, or pay whose "$" the code after it names.
NOT_PAY = {
    ("2019-11", "21421237"): "$300 monthly limit on work related expenses",
    ("2020-02", "22226825"): "$300 monthly limit on work related expenses",
    ("2019-11", "21422021"): "We'll pay a $5,000 referral bonus",
}


def test_referral_bonuses_and_expense_limits_in_real_comments_are_not_pay() -> None:
    for (month, comment_id), phrase in NOT_PAY.items():
        postings, _ = parse_thread(recorded_thread(month), month)
        (posting,) = [p for p in postings if p.source_job_id == comment_id]
        assert phrase in posting.description
        fields = extract_rules(posting.title, ", ".join(posting.locations), posting.description)
        assert (fields.salary_min, fields.salary_max) == (None, None), (comment_id, fields)


def test_a_dollar_amount_followed_by_its_currency_code_is_in_that_currency() -> None:
    postings, _ = parse_thread(recorded_thread("2019-11"), "2019-11")
    (posting,) = [p for p in postings if p.source_job_id == "21438898"]
    assert "$120-$132k AUD base salary" in posting.description
    fields = extract_rules(posting.title, ", ".join(posting.locations), posting.description)
    assert (fields.salary_min, fields.salary_max, fields.salary_currency, fields.salary_period) == (120_000, 132_000, "AUD", "year")


def test_hn_work_mode_read_from_the_headline_is_recorded_as_extracted() -> None:
    """HN has no API fields: the work mode the parser read from a comment's headline is kept, and
    ``remote_source`` says it was extracted; the same column on an ATS posting is the API's."""
    postings, _ = parse_thread(recorded_thread(MONTH), MONTH)
    p = next(p for p in postings if p.workplace_type == "remote")
    location = ", ".join(p.locations)
    for source, expected in (("hn", "extracted"), ("ashby", "api")):
        job = JobInput("h", p.title, location, p.description, workplace_type=p.workplace_type, remote=p.remote, source=source)
        fields, _, remote_source = apply_api_values(extract_rules(p.title, location, p.description), job)
        assert (fields.remote, remote_source) == ("remote", expected), source
