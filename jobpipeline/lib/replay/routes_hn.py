"""Replay routes for corpus kind ``hn``: the recorded Algolia and Firebase answers under their real paths.

Layout of ``data/replay/hn/`` (every body gzipped, byte-identical once unzipped; see its SOURCES.md):

- ``algolia/search_by_date/page<N>.json.gz`` — ``GET /api/v1/search_by_date?page=N`` with exactly the
  recorded ``query`` and ``tags`` (``discovery.ALGOLIA_SEARCH_PARAMS``); other queries are unrecorded;
- ``algolia/items/<id>.json.gz`` — ``GET /api/v1/items/<id>``;
- ``firebase/item/<label>.jsonl.gz`` — bundles of ``GET /v0/item/<id>.json`` bodies, one per line,
  found by their ``id``;
- ``firebase/user/<name>.json.gz`` — ``GET /v0/user/<name>.json``.

Anything unrecorded answers 404, which the source turns into a clear error naming the month.
Both APIs live under one base URL here (``…/hn``): their paths (``/api/v1``, ``/v0``) do not clash.

``simulated_algolia_item`` builds an ``items/<id>`` body from Firebase bodies, for simulated
corpora only (``bench/history.py``, tests that need both APIs to answer for one thread); the shipped
corpus serves only what was recorded.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jobpipeline.lib.hn.discovery import ALGOLIA_SEARCH_PARAMS
from jobpipeline.lib.replay.registry import register_kind

JSON = "application/json"


class HNRecordings:
    """The recorded bodies of one ``hn`` corpus folder, indexed by request: Firebase items are read
    once and kept in memory (tens of thousands of small bodies); the rest is read per request."""

    def __init__(self, kind_dir: Path):
        self.kind_dir = Path(kind_dir)
        self.search_pages = self._by_stem("algolia/search_by_date", "page", ".json.gz")
        self.algolia_items = self._by_stem("algolia/items", "", ".json.gz")
        self.users = self._by_stem("firebase/user", "", ".json.gz")
        self.firebase_items: dict[str, bytes] = {}
        for bundle in sorted((self.kind_dir / "firebase/item").glob("*.jsonl.gz")):
            for line in gzip.decompress(bundle.read_bytes()).splitlines():
                if line.strip():
                    # First body wins: it is the one of the recording's own thread snapshot.
                    self.firebase_items.setdefault(str(json.loads(line)["id"]), line)

    def _by_stem(self, folder: str, prefix: str, suffix: str) -> dict[str, Path]:
        paths = sorted((self.kind_dir / folder).glob(f"{prefix}*{suffix}"))
        return {p.name[len(prefix) : -len(suffix)]: p for p in paths}

    @staticmethod
    def body(path: Path | None) -> bytes | None:
        return gzip.decompress(path.read_bytes()) if path is not None else None


def _algolia_time(seconds: int) -> dict[str, Any]:
    return {"created_at": datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "created_at_i": seconds}


def simulated_algolia_item(story: dict[str, Any], kids: list[dict[str, Any]]) -> dict[str, Any]:
    """A *simulated* Algolia ``items/<story id>`` body: Firebase's story and top-level comment bodies
    in the field layout of a real one (``realdata/hn/2011-04_2396027.json``), as Algolia answers it.

    Deleted and dead comments are left out, as Algolia leaves them out. What it cannot reproduce:
    Algolia's own HTML dialect (the text stays Firebase's) and the nested replies (``children`` of a
    comment is empty), so a simulated body is smaller than a real one of the same thread.
    """
    story_id = int(story["id"])
    children = [
        {
            "id": int(kid["id"]),
            **_algolia_time(int(kid["time"])),
            "type": "comment",
            "author": kid["by"],
            "title": None,
            "url": None,
            "text": kid["text"],
            "points": None,
            "parent_id": story_id,
            "story_id": story_id,
            "children": [],
            "options": [],
        }
        for kid in kids
        if kid.get("by") and kid.get("text") and not kid.get("dead") and not kid.get("deleted")
    ]
    return {
        "id": story_id,
        **_algolia_time(int(story["time"])),
        "type": "story",
        "author": story.get("by"),
        "title": story.get("title"),
        "url": story.get("url", ""),
        "text": story.get("text"),
        "points": story.get("score"),
        "parent_id": None,
        "story_id": None,
        "children": children,
        "options": [],
    }


def _json(body: bytes | None, what: str) -> Response:
    if body is None:
        return Response(json.dumps({"error": f"no recording for hn {what}"}), status_code=404, media_type=JSON)
    return Response(body, media_type=JSON)


def build_hn_routes(kind_dir: Path) -> list[BaseRoute]:
    """Starlette routes answering the HN APIs from ``kind_dir`` (the ``hn`` corpus folder)."""
    rec = HNRecordings(kind_dir)

    async def search_by_date(request: Request) -> Response:
        params = request.query_params
        what = f"search_by_date?{params}"
        if any(params.get(k) != v for k, v in ALGOLIA_SEARCH_PARAMS.items()):
            return _json(None, what)
        return _json(rec.body(rec.search_pages.get(params.get("page", "0"))), what)

    async def algolia_item(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        return _json(rec.body(rec.algolia_items.get(item_id)), f"algolia items/{item_id}")

    async def firebase_item(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        return _json(rec.firebase_items.get(item_id), f"firebase item/{item_id}.json")

    async def firebase_user(request: Request) -> Response:
        name = request.path_params["name"]
        return _json(rec.body(rec.users.get(name)), f"firebase user/{name}.json")

    return [
        Route("/api/v1/search_by_date", search_by_date),
        Route("/api/v1/items/{item_id:str}", algolia_item),
        Route("/v0/item/{item_id:str}.json", firebase_item),
        Route("/v0/user/{name:str}.json", firebase_user),
    ]


register_kind("hn", build_hn_routes)
