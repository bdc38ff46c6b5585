"""How ``hn_postings`` reaches Hacker News: through the scrape domain's ``job_boards`` resource.

No resource of its own: ``JobBoardsResource.mode`` picks live or replay for HN as for the ATSs, and
``base_urls["hn"]`` points both HN APIs somewhere else (the replay server serves Algolia's and
Firebase's paths under one base URL). In replay mode without that override, a replay server over
the corpus's ``hn`` folder only is started for the run.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jobpipeline.defs.scrape.resources import JobBoardsResource
from jobpipeline.lib.hn import ALGOLIA_BASE, FIREBASE_BASE
from jobpipeline.lib.http import HttpSettings

HN_CONCURRENCY = 16  # Firebase items in flight per month (both APIs are one host each)


@dataclass(frozen=True)
class HNEndpoints:
    algolia_base: str
    firebase_base: str


def hn_http_settings(job_boards: JobBoardsResource) -> HttpSettings:
    """The resource's timeouts and retries, with HN's own concurrency bound (one host per API)."""
    return HttpSettings(
        max_concurrency=HN_CONCURRENCY, per_host=HN_CONCURRENCY, timeout_s=job_boards.timeout_s, retries=job_boards.retries
    )


@contextlib.contextmanager
def hn_endpoints(job_boards: JobBoardsResource) -> Iterator[HNEndpoints]:
    """The two HN base URLs for the duration of one fetch (starting a replay server when needed)."""
    if "hn" in job_boards.base_urls:
        base = job_boards.base_urls["hn"]
        yield HNEndpoints(base, base)
        return
    if job_boards.mode == "live":
        yield HNEndpoints(ALGOLIA_BASE, FIREBASE_BASE)
        return
    from jobpipeline.lib.replay import ReplayServer

    recordings = job_boards.corpus_dir().resolve() / "hn"
    if not recordings.is_dir():
        raise FileNotFoundError(f"replay mode, but the corpus has no hn recordings ({recordings} is not a directory)")
    # A corpus of the hn folder alone: the server then loads no ATS recordings it would not serve.
    with tempfile.TemporaryDirectory(prefix="hn-replay-") as tmp:
        (Path(tmp) / "hn").symlink_to(recordings, target_is_directory=True)
        with ReplayServer(tmp) as server:
            base = server.base_urls["hn"]
            yield HNEndpoints(base, base)
