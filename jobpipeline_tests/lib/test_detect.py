"""``jobpipeline boards detect`` / ``boards add``: careers-page URLs to boards, and boards into the file.

The URLs are real: the recordings' own posting links (``absolute_url``, ``hostedUrl``, ``url``,
``externalUrl``, ``postingUrl``) and careers links from the recorded Hacker News "Who is hiring"
threads, all under ../shared/realdata (a trailing "..." there is the thread's own truncation).
"""

from __future__ import annotations

import pytest

from jobpipeline.cli import main
from jobpipeline.lib.boards import load_boards
from jobpipeline.lib.detect import UndetectableURLError, detect_board, known_ats
from jobpipeline.lib.sources import ADAPTERS

# (url, ats, token, company); the comment says where the URL was recorded.
REAL_URLS = [
    # greenhouse/polyai.eu.content.json absolute_url (EU board)
    ("https://job-boards.eu.greenhouse.io/polyai/jobs/4960438101", "greenhouse", "polyai", "Polyai"),
    # greenhouse/camp.json absolute_url
    ("https://job-boards.greenhouse.io/camp/jobs/8723373002", "greenhouse", "camp", "Camp"),
    # greenhouse/10xgenomics.json absolute_url (older host)
    ("https://boards.greenhouse.io/10xgenomics/jobs/8075670?gh_jid=8075670", "greenhouse", "10xgenomics", "10xgenomics"),
    # SOURCES.md live endpoint of greenhouse/polyai.eu.content.json
    ("https://boards-api.greenhouse.io/v1/boards/polyai/jobs?content=true", "greenhouse", "polyai", "Polyai"),
    # lever/spotify.json hostedUrl / applyUrl
    ("https://jobs.lever.co/spotify/186b763a-2a61-4563-8813-ff6b40c9c8a7", "lever", "spotify", "Spotify"),
    ("https://jobs.lever.co/spotify/186b763a-2a61-4563-8813-ff6b40c9c8a7/apply", "lever", "spotify", "Spotify"),
    # ashby/1password.json jobUrl; an Ashby board name with a space (SOURCES.md: Forward%20Financing)
    ("https://jobs.ashbyhq.com/1password", "ashby", "1password", "1password"),
    ("https://jobs.ashbyhq.com/Forward%20Financing", "ashby", "Forward Financing", "Forward Financing"),
    # hn: careers links to Workable boards and jobs; SOURCES.md: workable/vortexa.json live endpoint
    ("https://apply.workable.com/colony-networks/j/A0A6C0FA50/", "workable", "colony-networks", "Colony Networks"),
    ("https://apply.workable.com/punchbowl/", "workable", "punchbowl", "Punchbowl"),
    ("https://tiledb.workable.com", "workable", "tiledb", "Tiledb"),
    ("https://apply.workable.com/api/v1/widget/accounts/vortexa?details=true", "workable", "vortexa", "Vortexa"),
    # hn, and SOURCES.md: recruitee/channable.json live endpoint
    ("https://quatt.recruitee.com", "recruitee", "quatt", "Quatt"),
    ("https://channable.recruitee.com/api/offers/", "recruitee", "channable", "Channable"),
    # hn; bamboohr/holisticai.json is served from holisticai.bamboohr.com
    ("https://erdosmiller.bamboohr.com/careers/43", "bamboohr", "erdosmiller", "Erdosmiller"),
    ("https://softiron.bamboohr.com/jobs/", "bamboohr", "softiron", "Softiron"),
    # teamtailor/upcloud.json item url; hn
    ("https://upcloud.teamtailor.com/jobs/7958695-full-stack-developer", "teamtailor", "upcloud", "Upcloud"),
    ("https://spacelift.teamtailor.com/jobs/2505050-lead-data-engi", "teamtailor", "spacelift", "Spacelift"),
    # hn: Personio on .com and .de; SOURCES.md: the personio-integration-test tenant
    ("https://deepc.jobs.personio.com/job/814071?_pc=1209346", "personio", "deepc", "Deepc"),
    ("https://exactag.jobs.personio.de/job/1071437?language=", "personio", "exactag", "Exactag"),
    ("https://personio-integration-test.jobs.personio.com/xml", "personio", "personio-integration-test", "Personio Integration Test"),
    # rippling/portside.json and rippling/paged.json url; hn (the older hosted boards)
    ("https://ats.rippling.com/portside/jobs/f7008ce4-5157-4ba9-b75b-ed2a6448b579", "rippling", "portside", "Portside"),
    ("https://ats.rippling.com/rippling/jobs/84d388b6-7656-434c-8862-0312eb6b97ac", "rippling", "rippling", "Rippling"),
    ("https://ovyl.rippling-ats.com/", "rippling", "ovyl", "Ovyl"),
    # pinpoint/workwithus.json url; hn
    ("https://workwithus.pinpointhq.com/en/postings/8fa6a0e0-0beb-4233-8ab0-409fe6bfccb1", "pinpoint", "workwithus", "Workwithus"),
    ("https://medic.pinpointhq.com/en/postings/c218f0d9-5829-41de-", "pinpoint", "medic", "Medic"),
    # breezy/breezy.json url; hn
    ("https://breezy.breezy.hr/p/98323abf2296-employee-12", "breezy", "breezy", "Breezy"),
    ("https://antithesis.breezy.hr/", "breezy", "antithesis", "Antithesis"),
    # smartrecruiters/*.detail.json postingUrl / applyUrl: the company as the URL spells it
    ("https://jobs.smartrecruiters.com/Vitol/744000133666057-platform-engineer", "smartrecruiters", "Vitol", "Vitol"),
    (
        "https://jobs.smartrecruiters.com/ServiceNow/744000153504297-senior-enterprise-account-executive-financial-services?oga=true",
        "smartrecruiters",
        "ServiceNow",
        "ServiceNow",
    ),
    # workday/nvidia.detail*.json externalUrl (wd5: the adapter's default data centre, left out)
    (
        "https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite/job/Israel-Yokneam/Software-Engineer--SPE_JR2015623",
        "workday",
        "nvidia/NVIDIAExternalCareerSite",
        "Nvidia",
    ),
    # SOURCES.md: workday/nvidia.list.json live endpoint (the CXS API URL)
    (
        "https://nvidia.wd5.myworkdayjobs.com/wday/cxs/nvidia/NVIDIAExternalCareerSite/jobs",
        "workday",
        "nvidia/NVIDIAExternalCareerSite",
        "Nvidia",
    ),
    # hn: a wd1 tenant with a locale prefix before the site
    ("https://bonterra.wd1.myworkdayjobs.com/en-US/ngpvan/details/", "workday", "bonterra.wd1/ngpvan", "Bonterra"),
]

# Forms documented by the ATSs with no recorded instance: the same rules, other spellings.
DOCUMENTED_FORMS = [
    ("https://boards.greenhouse.io/embed/job_board?for=stripe", "greenhouse", "stripe"),
    ("https://careers.smartrecruiters.com/Wise", "smartrecruiters", "Wise"),
    ("https://ats.rippling.com/en-GB/portside/jobs", "rippling", "portside"),
    ("https://wd3.myworkdaysite.com/en-US/recruiting/acme/External", "workday", "acme.wd3/External"),
    ("https://garmin.jibeapply.com/jobs", "icims", "garmin.jibeapply.com"),
    ("quatt.recruitee.com/o/some-job", "recruitee", "quatt"),  # no scheme, as pasted from an address bar
]

UNMAPPABLE = [
    # workable/vortexa.json shortlink: a job link without the account
    ("https://apply.workable.com/j/23107D5C05", "does not name the account"),
    # icims/garmin.json apply_url: an iCIMS classic portal, not the Jibe career site the adapter reads
    ("https://careers-garmin.icims.com/jobs/18411/login", "iCIMS classic portal"),
    # greenhouse/stripe.job.json absolute_url: the company's own domain
    ("https://stripe.com/jobs/search?gh_jid=8172510", "not a careers-page URL of a known ATS"),
    # recruitee/channable.json careers_url: a custom domain
    ("https://jobs.channable.com/o/head-of-people-culture", "not a careers-page URL of a known ATS"),
    ("https://bonterra.wd1.myworkdayjobs.com/en-US", "without a career site"),
    ("https://www.bamboohr.com/", "not a careers-page URL of a known ATS"),
    ("ftp://jobs.lever.co/spotify", "not an http(s) URL"),
]


@pytest.mark.parametrize(("url", "ats", "token", "company"), REAL_URLS)
def test_real_careers_urls_map_to_their_board(url: str, ats: str, token: str, company: str) -> None:
    board = detect_board(url)
    assert (board.ats, board.token, board.company) == (ats, token, company)


@pytest.mark.parametrize(("url", "ats", "token"), DOCUMENTED_FORMS)
def test_documented_url_forms_map_to_their_board(url: str, ats: str, token: str) -> None:
    board = detect_board(url)
    assert (board.ats, board.token) == (ats, token)


def test_every_required_ats_type_is_detected_from_a_real_url() -> None:
    required = {
        "greenhouse",
        "lever",
        "ashby",
        "workable",
        "recruitee",
        "bamboohr",
        "teamtailor",
        "personio",
        "rippling",
        "pinpoint",
        "breezy",
        "smartrecruiters",
        "workday",
    }
    assert required <= {ats for _, ats, _, _ in REAL_URLS}
    assert required | {"icims"} == set(known_ats())


@pytest.mark.parametrize(("url", "ats", "token", "company"), REAL_URLS)
def test_detected_tokens_are_what_the_adapter_accepts(url: str, ats: str, token: str, company: str) -> None:
    adapter = ADAPTERS.get(ats)
    if adapter is None:
        pytest.skip(f"no {ats} adapter on this branch")
    adapter.check_token(detect_board(url).token)


def test_workday_token_leads_the_adapter_back_to_the_same_host() -> None:
    """``tenant[.wdN]/site`` as the Workday adapter reads it: its API URL is on the page's host and site."""
    from jobpipeline.lib.sources import workday

    for page, api in [
        (
            "https://bonterra.wd1.myworkdayjobs.com/en-US/ngpvan/details/",
            "https://bonterra.wd1.myworkdayjobs.com/wday/cxs/bonterra/ngpvan/jobs",
        ),
        (
            "https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite/job/Israel-Yokneam/Software-Engineer--SPE_JR2015623",
            "https://nvidia.wd5.myworkdayjobs.com/wday/cxs/nvidia/NVIDIAExternalCareerSite/jobs",
        ),
    ]:
        assert workday.jobs_url(workday.DEFAULT_BASE_URL, detect_board(page).token) == api


@pytest.mark.parametrize(("url", "why"), UNMAPPABLE)
def test_urls_naming_no_board_are_refused_with_the_url_and_why(url: str, why: str) -> None:
    with pytest.raises(UndetectableURLError) as raised:
        detect_board(url)
    assert url in str(raised.value) and why in str(raised.value)


def test_detect_prints_the_mapped_lines_and_exits_2_naming_the_unmapped(capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "boards",
            "detect",
            "https://jobs.lever.co/spotify/186b763a-2a61-4563-8813-ff6b40c9c8a7",
            "https://stripe.com/jobs/search?gh_jid=8172510",
            "https://bonterra.wd1.myworkdayjobs.com/en-US/ngpvan/details/",
            "https://jobs.ashbyhq.com/Forward%20Financing",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out.splitlines() == [
        "lever,spotify,Spotify",
        "workday,bonterra.wd1/ngpvan,Bonterra",
        "ashby,Forward Financing,Forward Financing",
    ]
    assert "https://stripe.com/jobs/search?gh_jid=8172510" in err and "spotify" not in err


def test_detect_exits_0_when_every_url_maps(capsys: pytest.CaptureFixture) -> None:
    assert main(["boards", "detect", "https://jobs.smartrecruiters.com/Vitol/744000133666057-platform-engineer"]) == 0
    assert capsys.readouterr().out == "smartrecruiters,Vitol,Vitol\n"


BOARDS_FILE = "# my boards\n# kept as written\nats,board_token,company\nlever,palantir,Palantir Technologies\n"


def test_add_appends_new_boards_and_skips_those_already_there(tmp_path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "boards.csv"
    path.write_text(BOARDS_FILE, encoding="utf-8")
    code = main(
        [
            "boards",
            "add",
            "--boards",
            str(path),
            "https://jobs.lever.co/Palantir/some-job",  # already there (tokens compare case-insensitively)
            "https://jobs.smartrecruiters.com/ServiceNow/744000153504297-x",
            "https://job-boards.greenhouse.io/camp/jobs/8723373002",
            "https://boards.greenhouse.io/camp",  # the same board twice in one call
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert path.read_text(encoding="utf-8") == BOARDS_FILE + "smartrecruiters,ServiceNow,ServiceNow\ngreenhouse,camp,Camp\n"
    assert "lever/Palantir: already in" in out
    assert [b.key for b in load_boards(path)] == ["lever/palantir", "smartrecruiters/ServiceNow", "greenhouse/camp"]

    assert main(["boards", "add", "--boards", str(path), "https://boards.greenhouse.io/camp"]) == 0  # again: no change
    assert path.read_text(encoding="utf-8").count("greenhouse,camp") == 1


def test_add_creates_a_missing_file_and_defaults_to_the_configured_one(tmp_path, monkeypatch) -> None:
    path = tmp_path / "new" / "boards.csv"
    monkeypatch.setenv("JOBPIPELINE_BOARDS", str(path))
    assert main(["boards", "add", "https://jobs.ashbyhq.com/Forward%20Financing"]) == 0
    assert [(b.ats, b.token, b.company) for b in load_boards(path)] == [("ashby", "Forward Financing", "Forward Financing")]


def test_add_refuses_a_malformed_boards_file_and_leaves_it_untouched(tmp_path, capsys) -> None:
    path = tmp_path / "boards.csv"
    broken = "ats,board_token,company\nlever,palantir\n"
    path.write_text(broken, encoding="utf-8")
    assert main(["boards", "add", "--boards", str(path), "https://boards.greenhouse.io/camp"]) == 2
    assert f"{path}:2" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == broken


def test_add_names_unmapped_urls_and_still_adds_the_rest(tmp_path, capsys) -> None:
    path = tmp_path / "boards.csv"
    code = main(["boards", "add", "--boards", str(path), "https://apply.workable.com/j/23107D5C05", "https://jobs.lever.co/spotify"])
    assert code == 2
    assert "https://apply.workable.com/j/23107D5C05" in capsys.readouterr().err
    assert [b.key for b in load_boards(path)] == ["lever/spotify"]


def test_add_skips_an_ats_without_a_registered_adapter(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delitem(ADAPTERS, "lever")  # as on a branch where that adapter is not written yet
    path = tmp_path / "boards.csv"
    path.write_text("ats,board_token,company\n", encoding="utf-8")
    code = main(["boards", "add", "--boards", str(path), "https://jobs.lever.co/spotify", "https://boards.greenhouse.io/camp"])
    assert code == 2
    assert "lever has no adapter" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "ats,board_token,company\ngreenhouse,camp,Camp\n"


def test_add_check_asks_the_api_and_refuses_a_board_it_does_not_serve(tmp_path, capsys, clean_replay) -> None:
    """Against the replay server of the shipped corpus: a recorded board exists, any other is a 404."""
    path = tmp_path / "boards.csv"
    path.write_text(BOARDS_FILE, encoding="utf-8")
    base_urls = [f"--base-url={ats}={url}" for ats, url in clean_replay.base_urls.items()]
    code = main(
        [
            "boards",
            "add",
            "--boards",
            str(path),
            "--check",
            *base_urls,
            "https://job-boards.greenhouse.io/lattice/jobs/1",  # recorded: data/replay/greenhouse/lattice.json
            "https://nvidia.wd5.myworkdayjobs.com/en-US/NVIDIAExternalCareerSite",  # recorded
            "https://boards.greenhouse.io/nosuchboard",  # not recorded: the server answers 404
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert "greenhouse/nosuchboard: not added: no such board (HTTP 404" in err
    assert path.read_text(encoding="utf-8") == BOARDS_FILE + "greenhouse,lattice,Lattice\nworkday,nvidia/NVIDIAExternalCareerSite,Nvidia\n"
    assert clean_replay.stats.requests[("greenhouse", "nosuchboard")] == 1


def test_add_check_with_a_replay_corpus_dir(tmp_path, ats_corpus) -> None:
    path = tmp_path / "boards.csv"
    assert main(["boards", "add", "--boards", str(path), "--check", "--replay", str(ats_corpus), "https://jobs.lever.co/palantir"]) == 0
    assert main(["boards", "add", "--boards", str(path), "--check", "--replay", str(ats_corpus), "https://jobs.lever.co/spotify"]) == 2
    assert [b.key for b in load_boards(path)] == ["lever/palantir"]


def test_append_boards_that_would_not_load_back_leave_the_file_as_it_was(tmp_path) -> None:
    """The appended file is loaded back before it replaces the old one: a bad token fails, naming the
    real file (not the temporary one), and the file and its folder are exactly as before."""
    from jobpipeline.lib.boards import Board, BoardsConfigError, append_boards

    path = tmp_path / "boards.csv"
    path.write_text(BOARDS_FILE, encoding="utf-8")
    with pytest.raises(BoardsConfigError) as raised:
        append_boards(path, [Board("greenhouse", "camp", "Camp"), Board("greenhouse", "acme/..", "Acme")])
    assert str(raised.value).startswith(f"{path}:6: bad greenhouse board_token 'acme/..'")
    assert path.read_text(encoding="utf-8") == BOARDS_FILE
    assert [p.name for p in tmp_path.iterdir()] == ["boards.csv"]
