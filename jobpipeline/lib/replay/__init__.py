"""Offline mode: serve a corpus of recorded API responses on 127.0.0.1 under each API's own paths.

- ``ReplayServer`` / ``Fault``: the server and its fault injection (``server.py``);
- ``serving``: the one way the pipeline starts a server for a corpus (``serve.py``);
- ``ROUTE_BUILDERS`` / ``register_kind``: which routes serve which corpus folder (``registry.py``,
  whose docstring shows how another module adds a kind such as ``hn`` in one line);
- ``CORPUS`` / ``build_corpus``: the shipped corpus and how it is copied from real recordings.
"""

from __future__ import annotations

from jobpipeline.lib.replay.corpus import CORPUS, build_corpus, corpus_boards, recorded_boards
from jobpipeline.lib.replay.registry import ROUTE_BUILDERS, register_kind
from jobpipeline.lib.replay.serve import serving
from jobpipeline.lib.replay.server import Fault, ReplayServer, base_urls_at

__all__ = [
    "CORPUS",
    "ROUTE_BUILDERS",
    "Fault",
    "ReplayServer",
    "base_urls_at",
    "build_corpus",
    "corpus_boards",
    "recorded_boards",
    "register_kind",
    "serving",
]
