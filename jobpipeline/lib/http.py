"""Polite HTTP for scraping: bounded concurrency (overall and per host), timeouts, and retries.

Retries use tenacity: exponential backoff with jitter on connect/read errors, 5xx and 429, where a
``Retry-After`` header (seconds or HTTP date) replaces the computed wait, capped so one slow board
cannot stall a partition. Semaphores are held only while a request is in flight, never while
backing off.

``HttpSession`` holds the shared client, settings and semaphores for one scrape; each board gets a
``Fetcher`` from it, which source adapters call and which remembers the board's last HTTP status.
``make_client`` builds the shared ``aiohttp.ClientSession``. Requests that get no HTTP answer raise
``TransportError`` (``RequestTimeout`` for timeouts), answers that are not 2xx ``HttpStatusError``.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import ssl
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import tenacity
import yarl

USER_AGENT = "jobpipeline/0.1 (job-board scraper; public posting APIs only)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_HEADER_BYTES = 16 * 1024


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


def make_client(settings: HttpSettings | None = None) -> aiohttp.ClientSession:
    """The shared ``aiohttp.ClientSession`` of one scrape: as many pooled connections as requests in flight.

    Call it inside the event loop that uses it (``async with make_client(...) as client``). Why aiohttp
    and not httpx: against the replay server httpx spent ~0.55 ms of CPU per request in its client,
    pool and stream layers, aiohttp ~0.1 ms, and a scrape is one CPU-bound core (``bench/scrape.py``).
    Timeouts are httpx's kind: ``timeout_s`` to connect (at most 10 s) and between reads, not per answer.
    """
    settings = settings or HttpSettings()
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=settings.max_concurrency, limit_per_host=0, ssl=_ssl_context()),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=min(10.0, settings.timeout_s), sock_read=settings.timeout_s),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        # aiohttp refuses a header over 8 KiB by default; httpx (h11) read header blocks up to 16 KiB,
        # and a long Content-Security-Policy or Set-Cookie must not fail a board that httpx read.
        max_line_size=MAX_HEADER_BYTES,
        max_field_size=MAX_HEADER_BYTES,
        # Not trust_env: it looks the proxy up in a thread on every request (~0.5 CPU-s of a 1,000-board
        # scrape); HttpSession honours HTTP(S)_PROXY / NO_PROXY itself, once per host.
    )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """certifi's CA bundle, as httpx used; loading it costs ~50 ms, so once per process."""
    return ssl.create_default_context(cafile=certifi.where())


class TransportError(Exception):
    """A request that got no HTTP answer: refused or failed connection, timeout, dropped connection.

    The message starts with the kind (``ConnectError``, ``ReadTimeout``, ...) and names the URL.
    """

    def __init__(self, kind: str, method: str, url: str, detail: str = ""):
        super().__init__(f"{kind} on {method} {url}" + (f": {detail}" if detail else ""))


class RequestTimeout(TransportError):
    """No connection or no data within ``HttpSettings.timeout_s``."""


def _transport_error(exc: Exception, method: str, url: str, settings: HttpSettings) -> TransportError:
    """``exc`` (raised by aiohttp while ``method url`` was in flight) as a ``TransportError``."""
    if isinstance(exc, TimeoutError):  # aiohttp's connect and read timeouts are TimeoutErrors
        kind = "ConnectTimeout" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "ReadTimeout"
        return RequestTimeout(kind, method, url, f"no answer within {settings.timeout_s:g}s")
    if isinstance(exc, aiohttp.ClientConnectorError):
        kind = "ConnectError"
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        kind = "RemoteProtocolError"
    else:
        kind = "ReadError"
    return TransportError(kind, method, url, str(exc) or type(exc).__name__)


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
    # Connect/read errors, timeouts and dropped connections; not e.g. an invalid URL (a ValueError).
    return isinstance(exc, TransportError)


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
    """One scrape's shared HTTP state: the client, the settings, and the concurrency semaphores.

    Requests go through the proxies the environment names when the session is made (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``NO_PROXY``: the variables every HTTP client reads), looked up once per host.
    """

    def __init__(self, client: aiohttp.ClientSession, settings: HttpSettings | None = None):
        self.client = client
        self.settings = settings or HttpSettings()
        self.wait = _WaitRetryAfterOrBackoff(self.settings)
        self._overall = asyncio.Semaphore(self.settings.max_concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._proxy_environment = urllib.request.getproxies_environment()
        self._proxies: dict[tuple[str, str], str | None] = {}

    def fetcher(self) -> Fetcher:
        """A fresh per-board view of this session."""
        return Fetcher(self)

    def _host_semaphore(self, url: yarl.URL) -> asyncio.Semaphore:
        host = f"{url.host}:{url.port or ''}"
        if host not in self._per_host:
            self._per_host[host] = asyncio.Semaphore(self.settings.per_host)
        return self._per_host[host]

    def _proxy(self, url: yarl.URL) -> str | None:
        """The proxy for ``url``: its scheme's, unless ``NO_PROXY`` names its host."""
        key = (url.scheme, url.host or "")
        if key not in self._proxies:
            bypass = urllib.request.proxy_bypass_environment(key[1], self._proxy_environment)
            self._proxies[key] = None if bypass else self._proxy_environment.get(key[0])
        return self._proxies[key]

    async def _send_once(self, method: str, url: yarl.URL, body: bytes | None) -> tuple[int, str | None, bytes]:
        """One attempt: the status, the ``Retry-After`` header and the whole body of the answer."""
        headers = _JSON_BODY if body is not None else None
        # Host first, then overall: a task queued on a busy host must not hold an overall slot.
        async with self._host_semaphore(url), self._overall:
            try:
                async with self.client.request(method, url, data=body, headers=headers, proxy=self._proxy(url)) as response:
                    return response.status, response.headers.get("Retry-After"), await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                if isinstance(exc, aiohttp.InvalidURL):
                    raise ValueError(f"invalid URL {str(url)!r}: {exc}") from exc
                raise _transport_error(exc, method, str(url), self.settings) from exc


_JSON_BODY = {"Content-Type": "application/json"}


class Fetcher:
    """What a source adapter fetches with: ``get``/``post_json`` return the body bytes of a 2xx answer.

    Non-2xx answers raise ``HttpStatusError`` (after retries where retryable); requests that get no
    answer raise ``TransportError`` once the retries are spent. ``status`` is the last HTTP status
    seen, ``requests`` the number of attempts made, ``bytes`` the body bytes received.
    """

    def __init__(self, session: HttpSession):
        self.session = session
        self.status: int | None = None
        self.requests = 0
        self.bytes = 0

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> bytes:
        return await self.request("GET", url, params=params)

    async def post_json(self, url: str, payload: Any, params: Mapping[str, Any] | None = None) -> bytes:
        # Compact JSON with UTF-8 as is, byte for byte what httpx sent before.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        return await self.request("POST", url, params=params, body=body)

    async def request(self, method: str, url: str, params: Mapping[str, Any] | None = None, body: bytes | None = None) -> bytes:
        settings = self.session.settings
        target = yarl.URL(url)
        if params:
            target = target.update_query({key: str(value) for key, value in params.items()})
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(settings.retries + 1),
            wait=self.session.wait,
            retry=tenacity.retry_if_exception(_is_retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, target, body)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _attempt(self, method: str, url: yarl.URL, body: bytes | None) -> bytes:
        self.requests += 1
        status, retry_after, content = await self.session._send_once(method, url, body)
        self.status = status
        self.bytes += len(content)
        if not 200 <= status < 300:
            raise HttpStatusError(status, method, str(url), content, parse_retry_after(retry_after))
        return content
