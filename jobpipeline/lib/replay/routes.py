"""Replay routes for the five ATS kinds: each API's own paths, answered from ``<kind>/<token>.json``.

Bodies are served as recorded where the recording is the API's body (Ashby). Where the recording
is one page or a capture wrapper, the server reshapes it into the API's shape: Greenhouse capture
records (``{company, fetched_at, job_count, jobs}``) become ``{"jobs": [...], "meta": {"total": n}}``;
Lever, SmartRecruiters and Workday page through the recorded list, with totals rewritten to the
number of recorded items so paging ends where the recording does.

SmartRecruiters and Workday also answer their detail paths from ``<token>.details/<key>.json``
(a posting id; a Workday ``jobPostingId``, the external path's last segment), and 404 for a
posting whose detail is not recorded. A recorded detail whose posting the recorded list lacks is
listed too, by its own list fields, so every recorded detail is reachable from its board's list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jobpipeline.lib.replay.corpus import DETAILS_SUFFIX, recording_paths
from jobpipeline.lib.replay.registry import register_kind

JSON = "application/json"


def is_detail_file(path: Path, kind_dir: Path) -> bool:
    """Whether ``path`` is a posting's detail recording (under a ``<token>.details/`` folder), not a board."""
    return any(part.endswith(DETAILS_SUFFIX) for part in path.relative_to(kind_dir).parts[:-1])


class Recordings:
    """The recordings (``*.json``, ``*.xml``) of one kind folder by token (path without suffix), read lazily.

    Detail recordings (``<token>.details/<key>.json``, a posting's own body) are not boards: they are
    in ``detail(token, key)``, and a board may have details only (its list is then derived from them).
    """

    def __init__(self, kind_dir: Path):
        self.kind_dir = kind_dir
        files = recording_paths(kind_dir)
        self.paths = {p.relative_to(kind_dir).with_suffix("").as_posix(): p for p in files if not is_detail_file(p, kind_dir)}
        self.detail_paths: dict[str, dict[str, Path]] = {}
        for p in files:
            if is_detail_file(p, kind_dir):
                token = p.parent.relative_to(kind_dir).as_posix().removesuffix(DETAILS_SUFFIX)
                self.detail_paths.setdefault(token, {})[p.stem] = p
        self._bytes: dict[str, bytes] = {}
        self._json: dict[str, Any] = {}

    def detail(self, token: str, key: str) -> bytes | None:
        """The recorded detail body ``key`` of board ``token``, as recorded; None if not recorded."""
        path = self.detail_paths.get(token, {}).get(key)
        return None if path is None else path.read_bytes()

    def details(self, token: str) -> list[Any]:
        """Every recorded detail body of board ``token``, decoded, in file-name order."""
        return [json.loads(p.read_bytes()) for _, p in sorted(self.detail_paths.get(token, {}).items())]

    def raw(self, token: str) -> bytes | None:
        if token not in self._bytes:
            if token not in self.paths:
                return None
            self._bytes[token] = self.paths[token].read_bytes()
        return self._bytes[token]

    def data(self, token: str) -> Any:
        if token not in self._json:
            raw = self.raw(token)
            self._json[token] = None if raw is None else json.loads(raw)
        return self._json[token]


def not_found(kind: str, token: str) -> Response:
    return Response(json.dumps({"error": f"no recording for {kind}/{token}"}), status_code=404, media_type=JSON)


def _int(value: str | int | None, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except ValueError:
        return default


def build_greenhouse(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)
    served: dict[str, bytes] = {}

    async def jobs(request: Request) -> Response:
        token = request.path_params["token"]
        if token not in served:
            data = recordings.data(token)
            if data is None:
                return not_found("greenhouse", token)
            # A capture record wraps the API's items; the API's own body also carries meta.total.
            body = {"jobs": data.get("jobs", []), "meta": data.get("meta") or {"total": len(data.get("jobs", []))}}
            served[token] = json.dumps(body).encode()
        return Response(served[token], media_type=JSON)

    return [Route("/v1/boards/{token}/jobs", jobs, methods=["GET"])]


def build_ashby(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def job_board(request: Request) -> Response:
        token = request.path_params["token"]
        raw = recordings.raw(token)
        return not_found("ashby", token) if raw is None else Response(raw, media_type=JSON)

    return [Route("/posting-api/job-board/{token}", job_board, methods=["GET"])]


def build_lever(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def postings(request: Request) -> Response:
        token = request.path_params["token"]
        data = recordings.data(token)
        if data is None:
            return not_found("lever", token)
        skip = _int(request.query_params.get("skip"), 0)
        limit = request.query_params.get("limit")
        page = data[skip:] if limit is None else data[skip : skip + _int(limit, len(data))]
        return Response(json.dumps(page), media_type=JSON)

    return [Route("/v0/postings/{token}", postings, methods=["GET"])]


def build_smartrecruiters(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def postings(request: Request) -> Response:
        token = request.path_params["token"]
        data = recordings.data(token)
        if data is None and token in recordings.detail_paths:
            # Only details recorded: the list is their list fields (a detail is its list item plus ``jobAd``).
            data = {"content": [{k: v for k, v in d.items() if k != "jobAd"} for d in recordings.details(token)]}
        if data is None:
            return not_found("smartrecruiters", token)
        everything = list(data.get("content", []))
        listed_ids = {str(job.get("id")) for job in everything if isinstance(job, dict)}
        everything += [
            {k: v for k, v in d.items() if k != "jobAd"}
            for d in (recordings.details(token) if recordings.data(token) is not None else [])
            if isinstance(d, dict) and str(d.get("id")) not in listed_ids
        ]
        offset = _int(request.query_params.get("offset"), 0)
        limit = min(_int(request.query_params.get("limit"), 10), 100)  # the API's default and maximum
        body = {**data, "offset": offset, "limit": limit, "totalFound": len(everything)}
        body["content"] = everything[offset : offset + limit]
        return Response(json.dumps(body), media_type=JSON)

    async def detail(request: Request) -> Response:
        token, posting = request.path_params["token"], request.path_params["posting"]
        raw = recordings.detail(token, posting)
        return not_found("smartrecruiters", f"{token}/postings/{posting}") if raw is None else Response(raw, media_type=JSON)

    return [
        Route("/v1/companies/{token}/postings", postings, methods=["GET"]),
        Route("/v1/companies/{token}/postings/{posting}", detail, methods=["GET"]),
    ]


def build_workday(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)
    # The URL names tenant and site; a corpus file may be saved under 'tenant.wdN/site'.
    by_url_token = {f"{t.split('/')[0].split('.')[0]}/{t.partition('/')[2]}": t for t in [*recordings.paths, *recordings.detail_paths]}

    def listed_from_details(token: str, listed_paths: set[str]) -> list[dict]:
        """List items for recorded details the recorded list lacks: the detail's own list fields."""
        items = []
        for detail in recordings.details(token):
            info = detail.get("jobPostingInfo") or {}
            path = "/job/" + (info.get("externalUrl") or "").partition("/job/")[2]
            if path != "/job/" and path not in listed_paths:
                items.append(
                    {
                        "title": info.get("title"),
                        "externalPath": path,
                        "locationsText": info.get("location"),
                        "postedOn": info.get("postedOn"),
                        "bulletFields": [info.get("jobReqId")],
                    }
                )
        return items

    async def jobs(request: Request) -> Response:
        url_token = request.path_params["token"]
        token = by_url_token.get(url_token, url_token)
        data = recordings.data(token)
        if data is None and token in recordings.detail_paths:
            data = {"jobPostings": []}
        if data is None:
            return not_found("workday", url_token)
        try:
            query = await request.json()
        except ValueError:
            return Response(json.dumps({"error": "expected a JSON body"}), status_code=400, media_type=JSON)
        everything = list(data.get("jobPostings", []))
        everything += listed_from_details(token, {str(j.get("externalPath")) for j in everything if isinstance(j, dict)})
        offset = _int(query.get("offset"), 0)
        limit = min(_int(query.get("limit"), 20), 20)
        # Like Workday itself: the total is reported on the first page only.
        body = {**data, "total": len(everything) if offset == 0 else 0}
        body["jobPostings"] = everything[offset : offset + limit]
        return Response(json.dumps(body), media_type=JSON)

    async def job(request: Request) -> Response:
        # Details are saved as <token>.details/<jobPostingId>.json: the path's last segment.
        url_token = f"{request.path_params['tenant']}/{request.path_params['site']}"
        key = request.path_params["external"].rstrip("/").rpartition("/")[2]
        raw = recordings.detail(by_url_token.get(url_token, url_token), key)
        return not_found("workday", f"{url_token}/job/{request.path_params['external']}") if raw is None else Response(raw, media_type=JSON)

    return [
        Route("/wday/cxs/{token:path}/jobs", jobs, methods=["POST"]),
        Route("/wday/cxs/{tenant}/{site}/job/{external:path}", job, methods=["GET"]),
    ]


register_kind("greenhouse", build_greenhouse)
register_kind("ashby", build_ashby)
register_kind("lever", build_lever)
register_kind("smartrecruiters", build_smartrecruiters)
register_kind("workday", build_workday)
