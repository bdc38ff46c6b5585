"""Polite HTTP for scraping: bounded concurrency (overall and per host), timeouts, and retries.

Retries use tenacity: exponential backoff with jitter on connect/read errors, 5xx and 429, where a
``Retry-After`` header (seconds or HTTP date) replaces the computed wait, capped so one slow board
cannot stall a partition. Semaphores are held only while a request is in flight, never while
backing off.

``HttpSession`` holds the shared client, settings and semaphores for one scrape; each board gets a
``Fetcher`` from it, which source adapters call and which remembers the board's last HTTP status.
``make_client`` builds the shared ``httpx.AsyncClient`` (its pool split into small shards: see
``ShardedTransport`` for why).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

USER_AGENT = "jobpipeline/0.1 (job-board scraper; public posting APIs only)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How hard to hit the job-board APIs. The defaults suit the live APIs."""

    max_concurrency: int = 32  # requests in flight overall
    per_host: int = 8  # requests in flight per host (the ATSs serve every board from one host)
    timeout_s: float = 30.0
    retries: int = 3  # extra attempts after the first
    backoff_base_s: float = 0.5  # first retry waits about this long, then doubles
    backoff_cap_s: float = 8.0  # no computed wait exceeds this
    retry_after_cap_s: float = 30.0  # a server's Retry-After is honoured up to this

    def __post_init__(self) -> None:
        if self.max_concurrency < 1 or self.per_host < 1:
            raise ValueError(f"max_concurrency and per_host must be >= 1, got {self.max_concurrency}, {self.per_host}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")


POOL_SHARD_SIZE = 4


def make_client(settings: HttpSettings | None = None) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` sized for ``settings``: as many pooled connections as requests in flight.

    Pools larger than ``POOL_SHARD_SIZE`` are split into shards (see ``ShardedTransport``).
    """
    settings = settings or HttpSettings()
    return httpx.AsyncClient(
        transport=ShardedTransport(settings.max_concurrency),
        timeout=httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s)),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=True,
    )


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small httpx connection pools behind one transport; each request goes to the least busy.

    Why: httpcore's pool rescans every connection (quadratically, for idle ones) on each request it
    queues or releases, so one pool of 100+ connections spends more CPU on bookkeeping than on HTTP.
    Pools of ``POOL_SHARD_SIZE`` keep that cost flat while keeping keep-alive.
    """

    def __init__(self, max_connections: int, shard_size: int = POOL_SHARD_SIZE):
        n_shards = max(1, -(-max_connections // shard_size))
        per_shard = -(-max_connections // n_shards)
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        ssl_context = httpx.create_ssl_context()  # loading CA certificates costs ~50 ms: once, not per shard
        self._shards = [httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits) for _ in range(n_shards)]
        self._busy = [0] * n_shards

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._shards)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        # The connection stays busy until the body is read and closed, not just until the headers.
        response.stream = _ReleasingStream(response.stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body stream that calls ``release`` once, when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]):
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._stream.aclose()
        finally:
            if release is not None:
                release()


class HttpStatusError(Exception):
    """A final non-2xx answer (after retries where the status is retryable)."""

    def __init__(self, status: int, method: str, url: str, body: bytes, retry_after: float | None = None):
        self.status = status
        self.url = url
        self.retry_after = retry_after
        snippet = body[:120].decode("utf-8", "replace").strip().replace("\n", " ")
        super().__init__(f"HTTP {status} from {method} {url}" + (f": {snippet!r}" if snippet else ""))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, HttpStatusError):
        return exc.status in RETRY_STATUSES
    # Connect/read/write errors, timeouts and dropped connections; not e.g. an invalid URL.
    return isinstance(exc, (httpx.TransportError,)) and not isinstance(exc, httpx.UnsupportedProtocol)


class _WaitRetryAfterOrBackoff(tenacity.wait.wait_base):
    """Wait what the server asked for (capped) when it said so, else exponential backoff with jitter."""

    def __init__(self, settings: HttpSettings):
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=settings.backoff_base_s, max=settings.backoff_cap_s, jitter=settings.backoff_base_s
        )
        self._retry_after_cap = settings.retry_after_cap_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, HttpStatusError) and exc.retry_after is not None:
            return min(exc.retry_after, self._retry_after_cap)
        return self._backoff(retry_state)


class HttpSession:
    """One scrape's shared HTTP state: the client, the settings, and the concurrency semaphores."""

    def __init__(self, client: httpx.AsyncClient, settings: HttpSettings | None = None):
        self.client = client
        self.settings = settings or HttpSettings()
        self.wait = _WaitRetryAfterOrBackoff(self.settings)
        self._overall = asyncio.Semaphore(self.settings.max_concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}

    def fetcher(self) -> Fetcher:
        """A fresh per-board view of this session."""
        return Fetcher(self)

    def _host_semaphore(self, url: httpx.URL) -> asyncio.Semaphore:
        host = f"{url.host}:{url.port or ''}"
        if host not in self._per_host:
            self._per_host[host] = asyncio.Semaphore(self.settings.per_host)
        return self._per_host[host]

    async def _send_once(self, method: str, url: httpx.URL, **kwargs: Any) -> httpx.Response:
        # Host first, then overall: a task queued on a busy host must not hold an overall slot.
        async with self._host_semaphore(url), self._overall:
            return await self.client.request(method, url, **kwargs)


class Fetcher:
    """What a source adapter fetches with: ``get``/``post_json`` return the body bytes of a 2xx answer.

    Non-2xx answers raise ``HttpStatusError`` (after retries where retryable); transport errors that
    outlast the retries propagate as ``httpx.TransportError``. ``status`` is the last HTTP status seen,
    ``requests`` the number of attempts made, ``bytes`` the body bytes received.
    """

    def __init__(self, session: HttpSession):
        self.session = session
        self.status: int | None = None
        self.requests = 0
        self.bytes = 0

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> bytes:
        return await self.request("GET", url, params=params)

    async def post_json(self, url: str, payload: Any, params: Mapping[str, Any] | None = None) -> bytes:
        return await self.request("POST", url, params=params, json=payload)

    async def request(self, method: str, url: str, **kwargs: Any) -> bytes:
        settings = self.session.settings
        target = httpx.URL(url, params=kwargs.pop("params", None))
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(settings.retries + 1),
            wait=self.session.wait,
            retry=tenacity.retry_if_exception(_is_retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, target, **kwargs)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _attempt(self, method: str, url: httpx.URL, **kwargs: Any) -> bytes:
        self.requests += 1
        response = await self.session._send_once(method, url, **kwargs)
        self.status = response.status_code
        body = response.content
        self.bytes += len(body)
        if not response.is_success:
            raise HttpStatusError(response.status_code, method, str(url), body, parse_retry_after(response.headers.get("Retry-After")))
        return body
