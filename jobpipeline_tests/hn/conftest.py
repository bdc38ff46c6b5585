"""Fixtures for the HN source: the shipped ``hn`` recordings, read from disk or served on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobpipeline.lib.hn.comments import ThreadComments, comments_from_algolia_item, comments_from_firebase_items
from jobpipeline.lib.replay import ReplayServer
from jobpipeline.settings import replay_corpus_dir

HN_DIR = replay_corpus_dir() / "hn"


def read_gz_json(relative: str):
    return json.loads(gzip.decompress((HN_DIR / relative).read_bytes()))


def recorded_thread(month: str) -> ThreadComments:
    """The recorded top-level comments of 2011-04 (Algolia items), 2019-11 or 2020-02 (Firebase items)."""
    if month == "2011-04":
        return comments_from_algolia_item(read_gz_json("algolia/items/2396027.json.gz"))
    bundle = {"2019-11": "2019-11_21419536", "2020-02": "2020-02_22225314"}[month]
    lines = gzip.decompress((HN_DIR / f"firebase/item/{bundle}.jsonl.gz").read_bytes()).splitlines()
    story, *kids = (json.loads(line) for line in lines)
    return comments_from_firebase_items(story, kids)


def recorded_search_hits() -> list[dict]:
    pages = sorted((HN_DIR / "algolia/search_by_date").glob("page*.json.gz"))
    return [hit for page in pages for hit in json.loads(gzip.decompress(page.read_bytes()))["hits"]]


@pytest.fixture(scope="session")
def hn_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus holding only the shipped ``hn`` folder."""
    root = tmp_path_factory.mktemp("hn_corpus")
    (root / "hn").symlink_to(HN_DIR, target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def hn_replay(hn_corpus: Path) -> Iterator[ReplayServer]:
    with ReplayServer(hn_corpus) as server:
        yield server


@pytest.fixture(scope="session")
def hn_base(hn_replay: ReplayServer) -> str:
    """Both HN APIs' base URL on the replay server (their paths do not clash)."""
    return hn_replay.base_urls["hn"]
