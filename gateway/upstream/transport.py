"""One shared httpx client per upstream, on aiohttp's transport, and the one place where HTTP
outcomes become ``errors``, with timeouts, retries, the circuit breaker and a concurrency bound.

httpx's own connection pool is slow under fan-out; ``httpx-aiohttp`` keeps the httpx API on
aiohttp's client, which is not. Retries use tenacity: exponential backoff with full jitter,
``retry-after`` honoured, never past the GraphQL request's deadline, and only for calls that are
safe to repeat (a POST that creates never is).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import orjson
from opentelemetry.trace import SpanKind
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base

from ..observability import request_id, tracing
from ..observability.metrics import (
    BREAKER_OPEN,
    BREAKER_OPENINGS,
    UPSTREAM_REQUESTS,
    UPSTREAM_RETRIES,
    UPSTREAM_SECONDS,
)
from ..settings import Settings
from . import budget
from .breaker import BreakerState, CircuitBreaker
from .errors import (
    UpstreamBusy,
    UpstreamCallLimit,
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRequestEnded,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from .exact_urls import ExactUrlTransport
from .polar_wire import POLAR
from .slots import FairSlots
from .trust import TokenTrust
from .wire import Wire

QueryParams = list[tuple[str, str | int | float | bool | None]]
Files = dict[str, tuple[str, bytes, str]]  # multipart part name -> (file name, content, content type)
UNPROVEN = "unproven"  # the slots' caller for every token Polar has not accepted lately
RETRYABLE = (UpstreamUnavailable, UpstreamTimeout, UpstreamRateLimited)


def request_headers(wire: Wire, token: str) -> dict[str, str]:
    """The caller's credential, and this request's id so upstream-side logs can be matched with ours."""
    headers = wire.credentials(token)
    if (current := request_id.current()) is not None:
        headers[request_id.HEADER] = current
    return headers


def create_client(
    base_url: str, settings: Settings, max_connections: int | None = None, wire: Wire = POLAR
) -> httpx.AsyncClient:
    connections = max_connections or settings.upstream_max_connections
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    timeout = httpx.Timeout(settings.upstream_read_timeout_s, connect=settings.upstream_connect_timeout_s)
    pool = (
        ExactUrlTransport(limits=limits)
        if settings.upstream_transport == "aiohttp"
        else httpx.AsyncHTTPTransport(limits=limits)
    )
    client = httpx.AsyncClient(
        base_url=base_url,
        transport=pool,
        timeout=timeout,
        headers=dict(wire.headers),
    )
    client._cookies = NoCookies()  # the setter would wrap it in a plain Cookies
    return client


class NoCookies(httpx.Cookies):
    """A jar that keeps nothing. The client is shared by every caller, so a cookie an upstream set for one must
    never ride on another's request; not parsing ``Set-Cookie`` also saves a few percent of CPU."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class Transport:
    """Sends a request with the caller's token and returns its JSON, or raises an UpstreamError
    whose ``attempts`` says how many tries were made."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        breaker: CircuitBreaker | None = None,
        slots: FairSlots | None = None,
        trust: TokenTrust | None = None,
        wire: Wire = POLAR,
        deadline_share: float = 1.0,
    ) -> None:
        """``breaker``: each upstream has its own; an export's transport shares its API's."""
        self.client = client
        self.settings = settings
        self.wire = wire
        self.deadline_share = deadline_share  # of each request's deadline, the part this upstream's calls may use
        self.breaker = breaker or CircuitBreaker(
            settings.breaker_failure_threshold, settings.breaker_reset_s, on_change=_breaker_metrics(wire.name.lower())
        )
        self.label = wire.name.lower()  # the ``upstream`` label of its metrics
        BREAKER_OPEN.labels(self.label).set(0 if self.breaker.state is BreakerState.CLOSED else 1)
        BREAKER_OPENINGS.labels(self.label)  # shown from the start, at 0
        # No more in flight than the pool has connections: a wait for a connection inside the pool would be
        # a local wait that looks like a slow upstream (and would count in the breaker).
        total = min(settings.upstream_max_concurrency, settings.upstream_max_connections)
        self.slots = slots or FairSlots(total, settings.upstream_max_concurrency_per_caller)
        self.trust = trust or TokenTrust(settings.token_trust_s)
        self._backoff = wait_random_exponential(multiplier=settings.retry_backoff_s, max=settings.retry_backoff_max_s)

    async def request(
        self,
        method: str,
        path: str,
        token: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        files: Files | None = None,
        repeatable: bool | None = None,
    ) -> Any:
        """``repeatable``: whether the call may be retried; by default only GET is. ``files``: a multipart
        body instead of JSON. Every failure names this transport's upstream (``UpstreamError.upstream``)."""
        body = Body(json, files)
        try:
            return await self._request(method, path, token, params, body, repeatable)
        except UpstreamError as error:
            error.upstream = self.wire.name
            raise

    async def _request(
        self, method: str, path: str, token: str, params: QueryParams | None, body: Body, repeatable: bool | None
    ) -> Any:
        """The first attempt is made directly: tenacity's machinery is only set up once it has failed, so
        the common case (it succeeds) pays nothing for retries."""
        may_retry = method == "GET" if repeatable is None else repeatable
        try:
            return await self._attempt(method, path, token, params, body)
        except UpstreamError as error:
            if not may_retry or self.settings.retry_attempts == 1 or not _retryable(error):
                error.attempts = 1
                raise
            first_failure = error
        return await self._retry(method, path, token, params, body, first_failure)

    async def _retry(
        self, method: str, path: str, token: str, params: QueryParams | None, body: Body, first_failure: UpstreamError
    ) -> Any:
        """Attempts 2 and later, with tenacity's backoff and stop rules; attempt 1 is the failure given."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            wait=self._wait,
            stop=stop_after_attempt(self.settings.retry_attempts) | _PastDeadline(self.deadline_share),
            reraise=True,
        )
        failures: list[UpstreamError] = []
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number == 1:
                        failures.append(first_failure)
                        raise first_failure
                    UPSTREAM_RETRIES.labels(self.label, method, self.wire.route(path)).inc()
                    try:
                        return await self._attempt(method, path, token, params, body)
                    except UpstreamError as error:
                        failures.append(error)
                        raise
        except UpstreamError as error:
            error.attempts = len(failures)
            error.earlier = tuple(failures[:-1])
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    @asynccontextmanager
    async def stream(self, path: str, token: str, read_timeout_s: float) -> AsyncIterator[httpx.Response]:
        """A GET whose body is read as it arrives, holding one of this transport's slots throughout: there is
        no waiting for one (``UpstreamBusy`` at once). Errors before the first byte are mapped as for
        ``request``; nothing is retried, and no deadline applies beyond ``read_timeout_s`` of silence."""
        caller = budget.caller_key(token)
        if not self.slots.try_acquire(caller):
            raise UpstreamBusy(f"upstream GET {path}: every slot for it is taken")
        try:
            async with self._streamed(path, token, read_timeout_s) as response:
                yield response
        except UpstreamError as error:
            error.upstream = self.wire.name
            raise
        finally:
            self.slots.release(caller)

    @asynccontextmanager
    async def _streamed(self, path: str, token: str, read_timeout_s: float) -> AsyncIterator[httpx.Response]:
        if not self.breaker.allow():
            raise UpstreamCircuitOpen("upstream unavailable: failing fast while its circuit is open")
        timeout = httpx.Timeout(read_timeout_s, connect=self.settings.upstream_connect_timeout_s)
        request = self.client.build_request("GET", path, headers=request_headers(self.wire, token), timeout=timeout)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as error:
            self.breaker.failed()
            if _is_timeout(error):
                raise UpstreamTimeout(f"upstream GET {path} timed out") from error
            raise UpstreamUnavailable(f"upstream GET {path} failed: {type(error).__name__}") from error
        try:
            if response.status_code >= 300:
                await response.aread()
                try:
                    _answer(self.wire, response, "GET", path)
                except UpstreamUnavailable:
                    self.breaker.failed()
                    raise
                except UpstreamError:
                    self.breaker.succeeded()
                    raise
            self.breaker.succeeded()
            yield response
        finally:
            await response.aclose()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        backoff = float(self._backoff(state))
        if isinstance(error, UpstreamRateLimited) and error.retry_after is not None:
            return max(backoff, error.retry_after)
        return backoff

    async def _attempt(self, method: str, path: str, token: str, params: QueryParams | None, body: Body) -> Any:
        caller = budget.caller_key(token)
        if not self.trust.accepted(caller):
            try:
                async with self.trust.probing(caller, self._time_left(method, path)):
                    if not self.trust.accepted(caller):  # still unknown: this call goes alone
                        return await self._slotted(caller, method, path, token, params, body)
            except TimeoutError:
                raise _waited_too_long(method, path) from None
        return await self._slotted(caller, method, path, token, params, body)

    async def _slotted(
        self, caller: str, method: str, path: str, token: str, params: QueryParams | None, body: Body
    ) -> Any:
        """The call, in one of the caller's fair share of slots, once the request's budget allows it. The wait
        for a slot counts against the deadline but is local: running out of time there sends nothing and
        says nothing about the upstream's health (the breaker is not told)."""
        self._spend(caller)
        # Tokens Polar has not accepted share one caller's share of the slots: a thousand made-up tokens would
        # otherwise be a thousand callers, each owed its turn.
        holder = caller if self.trust.accepted(caller) else UNPROVEN
        if not self.slots.try_acquire(holder):  # most calls find a slot free: no timer for them
            try:
                async with asyncio.timeout(self._time_left(method, path)):
                    await self.slots.acquire(holder)
            except TimeoutError:
                raise _waited_too_long(method, path) from None
        try:
            return await self._send(caller, method, path, token, params, body)
        finally:
            self.slots.release(holder)

    def _time_left(self, method: str, path: str) -> float | None:
        """Seconds this upstream's calls have left in the request (``deadline_share`` of its deadline)."""
        return _time_left(method, path, self.deadline_share)

    def _spend(self, caller: str) -> None:
        """One call of the request's budget; none with a token Polar has refused in this request."""
        current = budget.current()
        if current is None:
            return
        if current.ended:
            raise UpstreamRequestEnded("the request has ended")
        if caller in current.refused:
            raise UpstreamUnauthorized("the upstream refused the credentials earlier in this request")
        if current.calls_left is not None:
            if current.calls_left <= 0:
                raise UpstreamCallLimit(self.settings.max_upstream_calls)
            current.calls_left -= 1

    async def _send(
        self, caller: str, method: str, path: str, token: str, params: QueryParams | None, body: Body
    ) -> Any:
        """One request upstream, within what is left of the deadline, with its outcome in the breaker (which,
        once it lets a call through, must hear how it ended)."""
        left = self._time_left(method, path)
        if not self.breaker.allow():
            raise UpstreamCircuitOpen("upstream unavailable: failing fast while its circuit is open")
        route = self.wire.route(path)
        headers = request_headers(self.wire, token)
        started = time.perf_counter()
        status = "error"
        attributes = {"http.request.method": method, "url.template": route}
        with tracing.span(f"upstream {method} {route}", SpanKind.CLIENT, attributes) as span:
            tracing.inject(headers)
            try:
                async with asyncio.timeout(left):
                    response = await self.client.request(
                        method, path, params=params, json=body.json, files=body.files, headers=headers
                    )
                status = str(response.status_code)
            except TimeoutError as error:
                status = "timeout"
                if left is None or left >= self.deadline_share * self.settings.request_deadline_s / 2:
                    self.breaker.failed()
                else:  # it had only what local waits left of the deadline: no verdict on its health
                    self.breaker.abandoned()
                late = UpstreamTimeout(f"upstream {method} {path} did not answer within the deadline")
                raise _unknown(late) from error
            except httpx.TransportError as error:
                self.breaker.failed()
                if _is_timeout(error):
                    status = "timeout"
                    raise _unknown(UpstreamTimeout(f"upstream {method} {path} timed out")) from error
                failure = UpstreamUnavailable(f"upstream {method} {path} failed: {type(error).__name__}")
                raise (failure if _never_sent(error) else _unknown(failure)) from error
            except BaseException:
                # Cancelled, or failed before anything was sent (a body httpx cannot encode): no verdict on
                # the upstream, and a probe the breaker let through must not leave it waiting for one forever.
                self.breaker.abandoned()
                raise
            finally:
                UPSTREAM_REQUESTS.labels(self.label, method, route, status).inc()
                UPSTREAM_SECONDS.labels(self.label, method, route).observe(time.perf_counter() - started)
                if span is not None:
                    span.set_attribute("http.response.status_code", status)
            try:
                answer = _answer(self.wire, response, method, path)
            except UpstreamUnavailable:
                self.breaker.failed()
                raise
            except UpstreamError as refusal:
                self.breaker.succeeded()  # a 4xx is an answer: the upstream is up (and a probe is done)
                if isinstance(refusal, UpstreamUnauthorized):
                    self.trust.forget(caller)
                    if (current := budget.current()) is not None:
                        current.refused.add(caller)
                elif isinstance(refusal, UpstreamNotFound) and self.wire.found_nothing(response):
                    # The vendor looked the resource up, so it took the token: a page of lookups that all
                    # miss (a joined page of customers Voucherify does not know) had gone one call at a time.
                    refusal.looked_up = True
                    self.trust.accept(caller)
                raise
            self.breaker.succeeded()
            # A success proves the token (or the vendor's own 404, above): a 400, 414 or 429 can come from a
            # proxy before Polar looks at it.
            self.trust.accept(caller)
            return answer


@dataclass(frozen=True, slots=True)
class Body:
    """What a request sends: JSON, or (for an upload) multipart files."""

    json: Any = None
    files: Files | None = None


def _time_left(method: str, path: str, share: float = 1.0) -> float | None:
    left = budget.remaining(share)
    if left is not None and left <= 0:
        raise UpstreamTimeout(f"upstream {method} {path}: the request's deadline has passed")
    return left


def _waited_too_long(method: str, path: str) -> UpstreamTimeout:
    return UpstreamTimeout(f"upstream {method} {path}: still waiting for its turn at the request's deadline")


def _breaker_metrics(upstream: str) -> Callable[[bool], None]:
    """The breaker's changes in the gauge and counter of ``upstream``."""

    def changed(opened: bool) -> None:
        BREAKER_OPEN.labels(upstream).set(1 if opened else 0)
        if opened:
            BREAKER_OPENINGS.labels(upstream).inc()

    return changed


def _retryable(error: BaseException) -> bool:
    return isinstance(error, RETRYABLE) and not isinstance(error, UpstreamCircuitOpen)


class _PastDeadline(stop_base):
    """Stop when the next attempt would start after this upstream's part of the request's deadline."""

    def __init__(self, share: float) -> None:
        self.share = share

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = budget.remaining(self.share)
        return left is not None and left <= (retry_state.upcoming_sleep or 0)


def _unknown(error: UpstreamError) -> UpstreamError:
    error.outcome_unknown = True
    return error


def _never_sent(error: httpx.TransportError) -> bool:
    """A refused or failed connection: the request cannot have been applied."""
    cause = error.__cause__
    return isinstance(error, httpx.ConnectError) or isinstance(cause, aiohttp.ClientConnectorError)


def _is_timeout(error: httpx.TransportError) -> bool:
    """httpx-aiohttp maps every aiohttp connection error to ConnectTimeout; look at the cause."""
    cause = error.__cause__
    if cause is None:
        return isinstance(error, httpx.TimeoutException)
    return isinstance(cause, TimeoutError)


def _answer(wire: Wire, response: httpx.Response, method: str, path: str) -> Any:
    status = response.status_code
    if status == 204:
        return None
    if 200 <= status < 300:
        try:
            return orjson.loads(response.content)
        except ValueError as error:
            raise UpstreamUnavailable(f"upstream {method} {path} answered {status} without JSON") from error
    if (refusal := wire.refusal(response)) is not None:
        raise refusal
    if status == 401:
        raise UpstreamUnauthorized("the upstream refused the credentials")
    if status == 403:
        raise UpstreamForbidden("the credentials lack the scope this needs")
    if status == 404:
        raise UpstreamNotFound("not found")
    if status == 429:
        raise UpstreamRateLimited(wire.retry_after(response))
    if status >= 500:
        raise UpstreamUnavailable(f"upstream {method} {path} answered {status}")
    raise UpstreamError(f"upstream {method} {path} answered {status}")
