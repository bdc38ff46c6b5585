"""``serving``: the one way the pipeline starts a replay server (the scrape, HN and ``jobpipeline run``).

The ``jobpipeline replay`` verb and the tests start ``ReplayServer`` themselves, for its knobs
(port, latency, faults); everything that only needs base URLs for a corpus comes through here.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from jobpipeline.lib.replay.server import ReplayServer


@contextlib.contextmanager
def serving(corpus_dir: str | Path, sources: Iterable[str] | None = None) -> Iterator[dict[str, str]]:
    """Base URL per served source of a replay server over ``corpus_dir``, for the duration.

    With ``sources``, only those folders of the corpus are served (through a temporary corpus of
    symlinks): the server then loads no recordings it would not serve."""
    corpus = Path(corpus_dir).resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"replay corpus {corpus} is not a directory")
    if sources is None:
        with ReplayServer(corpus) as server:
            yield dict(server.base_urls)
        return
    with tempfile.TemporaryDirectory(prefix="replay-") as tmp:
        for source in sources:
            recordings = corpus / source
            if not recordings.is_dir():
                raise FileNotFoundError(f"replay mode, but the corpus has no {source} recordings ({recordings} is not a directory)")
            (Path(tmp) / source).symlink_to(recordings, target_is_directory=True)
        with ReplayServer(tmp) as server:
            yield dict(server.base_urls)
