"""``ReplayServer``: a real HTTP server on 127.0.0.1 answering from a replay corpus, with faults on demand.

starlette + uvicorn (both come with dagster-webserver) in a background thread, so one test or one
``jobpipeline run --replay`` gets a server that takes hundreds of concurrent connections::

    with ReplayServer(corpus_dir, latency_ms=0) as srv:
        srv.inject("greenhouse", "stripe", [Fault(status=429, retry_after=1), Fault(status=503)])
        results = await scrape_boards(boards, client=client, base_urls=srv.base_urls, settings=settings)
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from jobpipeline.lib.replay import routes as _builtin_routes  # noqa: F401  (registers the ATS kinds)
from jobpipeline.lib.replay import routes_a as _routes_a  # noqa: F401  (registers Workable … iCIMS)
from jobpipeline.lib.replay import routes_b as _routes_b  # noqa: F401  (BambooHR, Rippling)
from jobpipeline.lib.replay import routes_hn as _routes_hn  # noqa: F401  (Hacker News)
from jobpipeline.lib.replay.corpus import recorded_boards
from jobpipeline.lib.replay.registry import builder_for

HTML_PAGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"


@dataclass(frozen=True, slots=True)
class Fault:
    """What to answer instead of the recording, once, for the next request of one board.

    ``Fault(status=429, retry_after=1)`` / ``Fault(status=503)`` / ``Fault(status=404)`` answer that
    status; ``Fault.html()`` answers 200 with an HTML page; ``Fault.truncated()`` answers 200 with the
    real body cut in half.
    """

    status: int = 503
    retry_after: float | None = None
    body: bytes | None = None
    content_type: str = "application/json"
    truncate: bool = False

    @classmethod
    def html(cls) -> Fault:
        return cls(status=200, body=HTML_PAGE, content_type="text/html; charset=utf-8")

    @classmethod
    def truncated(cls) -> Fault:
        return cls(status=200, truncate=True)


@dataclass
class ReplayStats:
    """What the server saw: requests per board and per URL path, their start times, the peak in flight."""

    requests: Counter = field(default_factory=Counter)  # (kind, token) -> count
    paths: Counter = field(default_factory=Counter)  # URL path ("/workday/wday/cxs/.../job/...") -> count
    started_at: dict = field(default_factory=lambda: defaultdict(list))  # (kind, token) -> [monotonic s]
    in_flight: int = 0
    max_in_flight: int = 0


class ReplayServer:
    """Serve ``corpus_dir`` (``<kind>/<token>.json``) under each API's own paths on 127.0.0.1.

    ``port=0`` picks a free port. ``latency_ms`` is added to every request; ``fail_rate`` answers that
    share of board requests with a 503 (``seed`` makes it repeatable). Use as a context manager;
    ``base_urls`` maps each kind to its ``http://127.0.0.1:PORT/{kind}`` once started.
    """

    def __init__(
        self,
        corpus_dir: str | Path,
        *,
        port: int = 0,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        seed: int = 0,
        host: str = "127.0.0.1",
    ):
        self.corpus_dir = Path(corpus_dir)
        if not self.corpus_dir.is_dir():
            raise FileNotFoundError(f"replay corpus {self.corpus_dir} is not a directory")
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be within [0, 1], got {fail_rate}")
        self.host = host
        self.port = port
        self.latency_s = latency_ms / 1000
        self.fail_rate = fail_rate
        self._random = random.Random(seed)
        self._faults: dict[tuple[str, str], deque[Fault]] = defaultdict(deque)
        self._sticky: dict[tuple[str, str], Fault] = {}
        self._path_faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.stats = ReplayStats()
        self.kinds = self._served_kinds()
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- what is served ------------------------------------------------------------------------

    def _served_kinds(self) -> list[str]:
        return [d.name for d in sorted(self.corpus_dir.iterdir()) if d.is_dir() and builder_for(d.name)]

    def boards(self) -> list[tuple[str, str]]:
        """``(kind, token)`` of every recording this server answers for, sorted."""
        return recorded_boards(self.corpus_dir, self.kinds)

    @property
    def base_urls(self) -> dict[str, str]:
        """Each served kind's base URL, to pass as the adapters' ``base_urls``."""
        if self._server is None:
            raise RuntimeError("ReplayServer is not started: use it as a context manager or call start()")
        return base_urls_at(self.host, self.port, self.kinds)

    # -- faults --------------------------------------------------------------------------------

    def inject(self, kind: str, token: str, faults: Fault | Sequence[Fault], *, sticky: bool = False) -> None:
        """Answer the next requests of board ``kind/token`` with ``faults``, one each, in order.

        With ``sticky=True`` the last fault keeps being served after the others are used up.
        """
        faults = [faults] if isinstance(faults, Fault) else list(faults)
        with self._lock:
            self._faults[(kind, token)].extend(faults)
            if sticky and faults:
                self._sticky[(kind, token)] = faults[-1]

    def inject_path(self, path: str, faults: Fault | Sequence[Fault]) -> None:
        """Answer the next requests of URL ``path`` (as in ``stats.paths``) with ``faults``, one each.

        For routes that serve one posting of a board (a detail), where ``inject`` would hit the
        board's list too.
        """
        with self._lock:
            self._path_faults[path].extend([faults] if isinstance(faults, Fault) else faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._sticky.clear()
            self._path_faults.clear()

    def _next_fault(self, kind: str, token: str | None, path: str = "") -> Fault | None:
        with self._lock:
            if self._path_faults.get(path):
                return self._path_faults[path].popleft()
            if token is None:
                return None
            queue = self._faults.get((kind, token))
            if queue:
                return queue.popleft()
            if (kind, token) in self._sticky:
                return self._sticky[(kind, token)]
            if self.fail_rate and self._random.random() < self.fail_rate:
                return Fault(status=503)
        return None

    # -- the ASGI app --------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        async def healthz(request: Request) -> Response:
            return JSONResponse({"ok": True, "kinds": self.kinds})

        mounts: list[BaseRoute] = [Route("/healthz", healthz)]
        for kind in self.kinds:
            builder = builder_for(kind)
            assert builder is not None
            kind_routes = [self._guarded(kind, r) for r in builder(self.corpus_dir / kind)]
            mounts.append(Mount(f"/{kind}", routes=kind_routes))
        return Starlette(routes=mounts)

    def _guarded(self, kind: str, route: BaseRoute) -> BaseRoute:
        if not isinstance(route, Route):
            return route
        endpoint = route.endpoint

        async def guarded(request: Request) -> Response:
            token = request.path_params.get("token")
            key = (kind, token)
            stats = self.stats
            stats.requests[key] += 1
            stats.paths[request.url.path] += 1
            stats.started_at[key].append(time.monotonic())
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            try:
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                fault = self._next_fault(kind, token, request.url.path)
                if fault is None:
                    return await endpoint(request)
                return await _fault_response(fault, endpoint, request)
            finally:
                stats.in_flight -= 1

        return Route(route.path, guarded, methods=sorted(route.methods or ["GET"]), name=route.name)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ReplayServer:
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            backlog=4096,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="replay-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"replay server did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def base_urls_at(host: str, port: int, kinds: Iterable[str]) -> dict[str, str]:
    """The base URL of each kind on a replay server listening at ``host:port``."""
    return {kind: f"http://{host}:{port}/{kind}" for kind in kinds}


async def _fault_response(fault: Fault, endpoint, request: Request) -> Response:
    if fault.truncate:
        real = await endpoint(request)
        cut = real.body[: max(1, len(real.body) // 2)]
        return Response(cut, status_code=fault.status, media_type=real.media_type or "application/json")
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    body = fault.body if fault.body is not None else f'{{"error": "injected fault {fault.status}"}}'.encode()
    return Response(body, status_code=fault.status, headers=headers, media_type=fault.content_type)
