"""Replay routes for Workable, Recruitee, Teamtailor, Pinpoint, Breezy HR, Personio and iCIMS (Jibe).

Workable names the account in the path (``/api/v1/widget/accounts/{token}``). The others name the
board in the host (``{token}.recruitee.com``): on the one replay server the token is the first
path segment instead and the rest is the API's own path (see ``lib/sources/hosted.py``).

Bodies are served as recorded, except where the recording is not the API's body: Pinpoint's
recording is the bare list its repository extracted, served in the API's ``{"data": [...]}``;
iCIMS pages through the recorded jobs with ``totalCount`` rewritten to the number recorded, so
paging ends where the recording does. Personio's recording is XML and is served as XML.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jobpipeline.lib.replay.registry import register_kind
from jobpipeline.lib.replay.routes import JSON, Recordings, _int, not_found

XML = "application/xml"


def _as_recorded(kind: str, path: str, media_type: str = JSON):
    """A builder serving ``path`` (with a ``{token}``) from the recording of that board, byte for byte."""

    def build(kind_dir: Path) -> list[BaseRoute]:
        recordings = Recordings(kind_dir)

        async def board(request: Request) -> Response:
            token = request.path_params["token"]
            raw = recordings.raw(token)
            return not_found(kind, token) if raw is None else Response(raw, media_type=media_type)

        return [Route(path, board, methods=["GET"])]

    return build


def build_pinpoint(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def postings(request: Request) -> Response:
        token = request.path_params["token"]
        data = recordings.data(token)
        if data is None:
            return not_found("pinpoint", token)
        # The live API wraps the list; a recording may be the API's body or the bare list.
        body = data if isinstance(data, dict) else {"data": data}
        return Response(json.dumps(body), media_type=JSON)

    return [Route("/{token}/postings.json", postings, methods=["GET"])]


def build_icims(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def jobs(request: Request) -> Response:
        token = request.path_params["token"]
        data = recordings.data(token)
        if data is None:
            return not_found("icims", token)
        everything = data.get("jobs", [])
        page = max(1, _int(request.query_params.get("page"), 1))
        limit = max(1, min(_int(request.query_params.get("limit"), 10), 100))
        body = {**data, "totalCount": len(everything), "count": len(everything)}
        body["jobs"] = everything[(page - 1) * limit : page * limit]
        return Response(json.dumps(body), media_type=JSON)

    return [Route("/{token}/api/jobs", jobs, methods=["GET"])]


register_kind("workable", _as_recorded("workable", "/api/v1/widget/accounts/{token}"))
register_kind("recruitee", _as_recorded("recruitee", "/{token}/api/offers/"))
register_kind("teamtailor", _as_recorded("teamtailor", "/{token}/jobs.json"))
register_kind("pinpoint", build_pinpoint)
register_kind("breezy", _as_recorded("breezy", "/{token}/json"))
register_kind("personio", _as_recorded("personio", "/{token}/xml", XML))
register_kind("icims", build_icims)
