"""Replay routes for BambooHR and Rippling (issue 13b), each under the API's own paths.

- BambooHR: ``/{company}/careers/list`` and ``/{company}/careers/{id}/detail`` (the live host is the
  company's subdomain; the replay server has one host, so the company comes first in the path, as
  the adapter asks for it). The recording is a scraper's composite: the list body with each job's
  detail (``result.jobOpening``) added under a ``"detail"`` key. The server splits it back into the
  API's two bodies: the list without the ``detail`` keys, and ``{"result": {"jobOpening": ...}}``.
- Rippling: ``/platform/api/ats/v1/board/{board}/jobs`` (a bare list, or the paged
  ``{items, page, pageSize, totalItems, totalPages}`` shape, whose totals are rewritten to the
  recorded items so paging ends where the recording does) and ``.../jobs/{id}`` answered from
  ``<board>.details/<id>.json``.

A posting whose detail is not recorded gets a 404, like any unknown path.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jobpipeline.lib.replay.registry import register_kind
from jobpipeline.lib.replay.routes import JSON, Recordings, not_found


def build_bamboohr(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def careers_list(request: Request) -> Response:
        token = request.path_params["token"]
        data = recordings.data(token)
        if data is None:
            return not_found("bamboohr", token)
        jobs = [{k: v for k, v in job.items() if k != "detail"} if isinstance(job, dict) else job for job in data.get("result", [])]
        return Response(json.dumps({**data, "result": jobs}), media_type=JSON)

    async def careers_detail(request: Request) -> Response:
        token, job_id = request.path_params["token"], request.path_params["job_id"]
        data = recordings.data(token) or {}
        detail = next(
            (job.get("detail") for job in data.get("result", []) if isinstance(job, dict) and str(job.get("id")) == job_id),
            None,
        )
        if not isinstance(detail, dict):
            return not_found("bamboohr", f"{token}/careers/{job_id}/detail")
        return Response(json.dumps({"meta": {"isMobile": False}, "result": {"jobOpening": detail}}), media_type=JSON)

    return [
        Route("/{token}/careers/list", careers_list, methods=["GET"]),
        Route("/{token}/careers/{job_id}/detail", careers_detail, methods=["GET"]),
    ]


def build_rippling(kind_dir: Path) -> list[BaseRoute]:
    recordings = Recordings(kind_dir)

    async def jobs(request: Request) -> Response:
        token = request.path_params["token"]
        data = recordings.data(token)
        if data is None:
            return not_found("rippling", token)
        if isinstance(data, list):
            return Response(recordings.raw(token), media_type=JSON)
        page = int(request.query_params.get("page", data.get("page", 0)) or 0)
        recorded_page = data.get("page", 0)
        items = data.get("items", []) if page == recorded_page else []
        body = {**data, "items": items, "page": page, "totalItems": len(data.get("items", [])), "totalPages": 1}
        return Response(json.dumps(body), media_type=JSON)

    async def job(request: Request) -> Response:
        token, job_id = request.path_params["token"], request.path_params["job_id"]
        raw = recordings.detail(token, job_id)
        return not_found("rippling", f"{token}/jobs/{job_id}") if raw is None else Response(raw, media_type=JSON)

    return [
        Route("/platform/api/ats/v1/board/{token}/jobs", jobs, methods=["GET"]),
        Route("/platform/api/ats/v1/board/{token}/jobs/{job_id}", job, methods=["GET"]),
    ]


register_kind("bamboohr", build_bamboohr)
register_kind("rippling", build_rippling)
