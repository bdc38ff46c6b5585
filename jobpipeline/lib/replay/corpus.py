"""The shipped replay corpus: which real recordings it holds, and how ``build-corpus`` copies them.

Every file is a byte-for-byte copy of a recording in the shared real-data folder (``SOURCES.md``
there says where each one came from); a few are saved under the board's token instead of the
recording's descriptive name. Small boards are preferred so the corpus stays at a few MB.
Company names come from the payloads where the API gives one (Greenhouse ``company_name``,
SmartRecruiters ``company.name``), else from the postings' own text.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jobpipeline.lib.postings import Board

DETAILS_SUFFIX = ".details"  # <token>.details/<key>.json: one posting's recorded detail body per file


@dataclass(frozen=True, slots=True)
class CorpusFile:
    ats: str
    token: str
    company: str
    source: str  # path under the real-data folder
    note: str = ""
    detail: str = ""  # a posting's detail body: its key (posting id, Workday jobPostingId), else a board's list

    @property
    def path(self) -> str:
        """Where it goes in the corpus: ``<ats>/<token>.json`` (``.xml`` for an XML recording), a detail
        ``<ats>/<token>.details/<key>.json``."""
        if self.detail:
            return f"{self.ats}/{self.token}{DETAILS_SUFFIX}/{self.detail}.json"
        return f"{self.ats}/{self.token}{Path(self.source).suffix}"

    @property
    def board(self) -> Board:
        return Board(self.ats, self.token, self.company)


def _same_name(ats: str, names: str) -> list[CorpusFile]:
    """``token=Company`` pairs whose recording is ``<ats>/<token>.json`` in the real-data folder."""
    files = []
    for pair in names.split(";"):
        token, company = (part.strip() for part in pair.split("="))
        files.append(CorpusFile(ats, token, company, f"{ats}/{token}.json"))
    return files


CORPUS: list[CorpusFile] = [
    *_same_name(
        "greenhouse",
        "lattice=Lattice; planetscale=PlanetScale; modernhealth=Modern Health; amplitude=Amplitude;"
        "discord=Discord; faire=Faire; duolingo=Duolingo; chime=Chime; dropbox=Dropbox; airbnb=Airbnb;"
        "openspace=OpenSpace; 3playmedia=3Play Media; tigergraph=TigerGraph; marqeta=Marqeta;"
        "10xgenomics=10x Genomics; narvar=Narvar; simscale=SimScale",
    ),
    CorpusFile(
        "greenhouse",
        "stripe",
        "Stripe",
        "greenhouse/stripe.trimmed12.fullbody.json",
        "the API's own body (jobs + meta.total=572), trimmed to 12 jobs by its source repository",
    ),
    CorpusFile(
        "greenhouse",
        "generalassembly",
        "General Assembly",
        "greenhouse/legacy2013_generalassembly.jobs_with_content.json",
        "2013 body with `content` (HTML-escaped), departments and offices: the only real `content` recording",
    ),
    *_same_name(
        "ashby",
        "answersnow=AnswersNow; materialsecurity=Material Security; Xlabs=xLabs; pawp=Pawp;"
        "turbopuffer=turbopuffer; invert=Invert; centari=Centari; noise-labs=Noise; skimmer=Skimmer;"
        "boon=Boon; brainly=Brainly; continua=Continua; nabucasa=Nabu Casa; deltia=Deltia;"
        "sorcerer=Sorcerer; cluely=Cluely; auctor=Auctor; root-access=Root Access; gridium=Gridium;"
        "mangomint=Mangomint; vanilla=Vanilla; casium=Casium; anterior=Anterior; nelo=Nelo;"
        "vorticity=Vorticity; vitalize=Vitalize; sola=Sola; primary=Primary; lindy=Lindy; omi=Omi;"
        "vercept=Vercept; physicalintelligence=Physical Intelligence; Windsurf=Windsurf; Catio=Catio;"
        "Moonlake=Moonlake; enode=Enode; suzy=Suzy; inkeep=Inkeep; kraken=Kraken",
    ),
    CorpusFile(
        "ashby",
        "etched",
        "Etched",
        "ashby/etched.trimmed10.json",
        "without includeCompensation, trimmed to 10 jobs; the recording that has `workplaceType`",
    ),
    CorpusFile("lever", "palantir", "Palantir", "lever/palantir.trimmed10.json", "trimmed to 10 postings"),
    CorpusFile(
        "smartrecruiters",
        "WesternDigital",
        "Western Digital",
        "smartrecruiters/westerndigital.page1.limit10.json",
        "first page (limit=10) of totalFound=359",
    ),
    CorpusFile(
        "workday",
        "nvidia/NVIDIAExternalCareerSite",
        "NVIDIA",
        "workday/nvidia.cxs_jobs.page1.json",
        "first page (10) of total=2000",
    ),
    # Detail bodies (issue 13b): served under the API's detail paths, fetched once per changed posting.
    CorpusFile(
        "smartrecruiters",
        "Wise",
        "Wise",
        "smartrecruiters/Wise.json",
        "list page trimmed to 8 of totalFound=412 by its repository; salary in the 'Job Ad Salary Range' custom field",
    ),
    CorpusFile(
        "smartrecruiters",
        "Vitol",
        "Vitol",
        "smartrecruiters/Vitol.detail.json",
        "detail of posting 744000133666057; no list recorded: the replay server lists it by its own list fields",
        detail="744000133666057",
    ),
    CorpusFile(
        "smartrecruiters",
        "ServiceNow",
        "ServiceNow",
        "smartrecruiters/ServiceNow.detail.json",
        "detail of posting 744000153504297 (re-serialised, indent=1); no list recorded: listed by its own list fields",
        detail="744000153504297",
    ),
    CorpusFile(
        "workday",
        "nvidia/NVIDIAExternalCareerSite",
        "NVIDIA",
        "workday/nvidia.detail.json",
        "detail (jobPostingInfo) of /job/Israel-Yokneam/Software-Engineer--SPE_JR2015623; not on the recorded "
        "list page: the replay server lists it by its own fields",
        detail="Software-Engineer--SPE_JR2015623",
    ),
    CorpusFile(
        "workday",
        "nvidia/NVIDIAExternalCareerSite",
        "NVIDIA",
        "workday/nvidia.detail2.json",
        "detail of /job/Israel-Yokneam/Practical-Hardware-Electronics-Test-Engineer_JR2021705, listed the same way",
        detail="Practical-Hardware-Electronics-Test-Engineer_JR2021705",
    ),
    CorpusFile(
        "bamboohr",
        "holisticai",
        "Holistic AI",
        "bamboohr/holisticai.json",
        "composite: the list body with each job's detail (result.jobOpening) under an added 'detail' key, "
        "descriptions cut at ~300 chars by its repository; the replay server serves it as the API's two bodies",
    ),
    CorpusFile("rippling", "portside", "Portside", "rippling/portside.json", "bare-list shape, 4 jobs"),
    CorpusFile(
        "rippling",
        "portside",
        "Portside",
        "rippling/portside.detail.json",
        "detail of f7008ce4-…; description cut mid-tag by its repository",
        detail="f7008ce4-5157-4ba9-b75b-ed2a6448b579",
    ),
    CorpusFile(
        "rippling",
        "rippling",
        "Rippling",
        "rippling/paged.json",
        "newer paged shape, page 0 of pageSize=2 (one job in two locations); no detail recorded (404s, posting kept)",
    ),
    # Issue 13a: list APIs that carry everything (provenance sections below the table).
    CorpusFile("workable", "vortexa", "Vortexa", "workable/vortexa.json", "widget API with details=true"),
    CorpusFile("recruitee", "channable", "Channable", "recruitee/channable.json", "8 offers, re-serialised"),
    CorpusFile("teamtailor", "upcloud", "UpCloud", "teamtailor/upcloud.json", "4th item broken on purpose"),
    CorpusFile("pinpoint", "workwithus", "Pinpoint", "pinpoint/workwithus.json", "bare list; served as {data: [...]}"),
    CorpusFile("breezy", "breezy", "MS Breezy Trial", "breezy/breezy.json", "Breezy's own trial board"),
    CorpusFile(
        "personio",
        "personio-integration-test",
        "Personio integration test",
        "personio/personio-integration-test.xml",
        "XML; a vendor test tenant",
    ),
    CorpusFile("icims", "careers.garmin.com", "Garmin", "icims/garmin.json", "3 of totalCount=303; host inferred"),
]


RECORDING_SUFFIXES = (".json", ".xml")  # XML APIs (Personio) are recorded and served as XML


def recording_paths(kind_dir: Path) -> list[Path]:
    """The recordings of one kind folder, sorted: every ``*.json`` / ``*.xml`` file below it."""
    return [p for p in sorted(kind_dir.rglob("*")) if p.is_file() and p.suffix in RECORDING_SUFFIXES]


def recorded_boards(corpus_dir: str | Path, kinds: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """``(kind, token)`` of every recording under ``corpus_dir`` (or its ``kinds`` folders), sorted.

    A token is the file's path under its kind folder without ``.json`` (or ``.xml``), so Workday's
    ``workday/nvidia/NVIDIAExternalCareerSite.json`` is board ``nvidia/NVIDIAExternalCareerSite``.
    """
    corpus_dir = Path(corpus_dir)
    if kinds is None:
        kinds = sorted(d.name for d in corpus_dir.iterdir() if d.is_dir()) if corpus_dir.is_dir() else []
    boards: set[tuple[str, str]] = set()
    for kind in kinds:
        kind_dir = corpus_dir / kind
        for path in recording_paths(kind_dir):
            if any(part.endswith(DETAILS_SUFFIX) for part in path.relative_to(kind_dir).parts[:-1]):
                # A posting's detail: its board is the folder's name (which may have no list recording).
                folder = next(p for p in [path.parent, *path.parents] if p.name.endswith(DETAILS_SUFFIX))
                boards.add((kind, folder.relative_to(kind_dir).as_posix().removesuffix(DETAILS_SUFFIX)))
            else:
                boards.add((kind, path.relative_to(kind_dir).with_suffix("").as_posix()))
    return sorted(boards)


def corpus_boards() -> list[Board]:
    """The boards of the shipped corpus, in manifest order (what ``data/boards.csv`` lists)."""
    return list(dict.fromkeys(f.board for f in CORPUS))


def build_corpus(source_dir: str | Path, out_dir: str | Path, files: list[CorpusFile] | None = None) -> list[Path]:
    """Byte-copy the manifest's recordings from ``source_dir`` into ``out_dir`` and write its SOURCES.md.

    Only the manifest's own files are written; other kinds' folders in ``out_dir`` are left alone.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    files = CORPUS if files is None else files
    provenance = _provenance_rows(source_dir / "SOURCES.md")
    sections = _provenance_sections(source_dir / "SOURCES.md")
    missing = [f.source for f in files if not (source_dir / f.source).is_file()]
    if missing:
        raise FileNotFoundError(f"{source_dir}: recordings not found: {', '.join(missing)}")
    written = []
    for f in files:
        target = out_dir / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_dir / f.source, target)
        written.append(target)
    (out_dir / "SOURCES.md").write_text(_sources_md(files, provenance, sections), encoding="utf-8")
    return written


def _provenance_rows(sources_md: Path) -> dict[str, list[str]]:
    """The real-data SOURCES.md table as ``{file: [repo, path, commit, api, captured, postings]}``.

    Files described by a section of their own (``## <file>`` with ``* repo:`` … bullets, as the
    additional ATS payloads are) get a row built from those bullets; ``_provenance_sections`` keeps
    the sections themselves, which say how each recording was trimmed or re-serialised.
    """
    rows: dict[str, list[str]] = {}
    if not sources_md.is_file():
        return rows
    text = sources_md.read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and (m := re.fullmatch(r"`([^`]+)`", cells[0])):
            rows[m.group(1)] = cells[1:]
    for name, section in _provenance_sections(sources_md).items():
        bullets = dict(re.findall(r"^\* ([a-z ]+): (.*)$", section, flags=re.MULTILINE))
        endpoint = bullets.get("live endpoint", "-").split(" — ")[0].replace("|", "/")
        rows.setdefault(
            name,
            [
                bullets.get("repo", "-"),
                bullets.get("path", "-"),
                bullets.get("commit", "-"),
                endpoint,
                "see its section below",
                bullets.get("postings", "-"),
            ],
        )
    return rows


def _provenance_sections(sources_md: Path) -> dict[str, str]:
    """``{file: its '## <file>' section}`` for the files the real-data SOURCES.md describes one by one."""
    if not sources_md.is_file():
        return {}
    text = sources_md.read_text(encoding="utf-8")
    return {
        m.group(1): m.group(0).strip()
        for m in re.finditer(r"^## ([\w.-]+/[\w.-]+\.(?:json|xml))\n.*?(?=^#{1,2} |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    }


def _sources_md(files: list[CorpusFile], provenance: dict[str, list[str]], sections: dict[str, str]) -> str:
    lines = [
        "# Replay corpus: provenance",
        "",
        "The default offline corpus of `jobpipeline run` and the tests, written by",
        "`jobpipeline replay build-corpus`. Each file is a byte-for-byte copy of a real recorded API",
        "response from the shared real-data folder; nothing was edited, trimmed or generated here.",
        "The columns after the first two are copied from that folder's SOURCES.md.",
        "",
        "Greenhouse `*.json` (except `stripe` and `generalassembly`) are a scraper's capture records",
        "`{company, fetched_at, job_count, jobs}` around the API's verbatim items, fetched without",
        "`content=true`; the replay server serves them in the API's own shape.",
        "",
        "Detail bodies (one posting each) are saved as `<ats>/<board>.details/<key>.json` and served",
        "under the API's detail path; a recorded detail whose posting the recorded list lacks is listed",
        "by its own list fields (SmartRecruiters: the detail without `jobAd`; Workday: its title, path,",
        "location and requisition id), and a posting whose detail is not recorded gets a 404.",
        "`bamboohr/holisticai.json` is a scraper's composite (the list body with each job's detail,",
        "`result.jobOpening`, added under a `detail` key): kept byte for byte, and split by the replay",
        "server into the API's two real bodies, `/careers/list` and `/careers/<id>/detail`.",
        "",
        "| corpus file | copied from | repo | path | commit | API / URL | captured | postings | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in files:
        cells = provenance.get(f.source, ["?"] * 6)
        lines.append(f"| `{f.path}` | `{f.source}` | " + " | ".join(cells) + f" | {f.note} |")
    described = [f for f in files if f.source in sections]
    if described:
        lines += [
            "",
            "## Recordings with a provenance section of their own",
            "",
            "Copied from the real-data SOURCES.md: how each of these was trimmed or re-serialised by the",
            "repository it came from. The parsers follow the APIs' documented shapes, not those accidents.",
        ]
        for f in described:
            lines += ["", f"### `{f.path}` (from `{f.source}`)", "", sections[f.source].split("\n", 1)[1].strip()]
    return "\n".join(lines) + "\n"
