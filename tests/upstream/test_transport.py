"""Narrow unit tests of the transport with httpx's MockTransport: retries, deadline, breaker, mapping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.observability import request_id, tracing
from gateway.settings import Settings
from gateway.upstream import budget
from gateway.upstream.errors import (
    UpstreamCallLimit,
    UpstreamCircuitOpen,
    UpstreamForbidden,
    UpstreamLookupTooBroad,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
    UpstreamValidation,
)
from gateway.upstream.polar import PolarClient
from gateway.upstream.polar_wire import POLAR
from gateway.upstream.transport import Transport, create_client
from gateway.upstream.voucherify_wire import VOUCHERIFY
from gateway.upstream.wire import Wire

Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def _transport(handler: Handler, share: float = 1.0, **settings: float) -> Transport:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://polar.test")
    defaults: dict[str, Any] = {"retry_backoff_s": 0.0, "retry_backoff_max_s": 0.0, "request_deadline_s": 5.0}
    return Transport(client, Settings.model_validate({**defaults, **settings}), deadline_share=share)


def _answers(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering the given responses in turn (an exception is raised instead)."""
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


async def test_get_is_retried_on_503_then_succeeds() -> None:
    handler, seen = _answers(httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"ok": True}))
    assert await _transport(handler).request("GET", "/v1/customers/", "t") == {"ok": True}
    assert len(seen) == 3
    assert seen[0].headers["authorization"] == "Bearer t"


async def test_a_create_is_never_repeated() -> None:
    handler, seen = _answers(httpx.Response(503), httpx.Response(201, json={}))
    with pytest.raises(UpstreamUnavailable) as raised:
        await _transport(handler).request("POST", "/v1/customers/", "t", json={"email": "a@b.c"})
    assert len(seen) == 1
    assert raised.value.attempts == 1
    assert not raised.value.outcome_unknown  # a 503 is an answer: nothing was applied


async def test_retries_stop_after_the_configured_attempts() -> None:
    handler, seen = _answers(httpx.Response(502))
    with pytest.raises(UpstreamUnavailable) as raised:
        await _transport(handler, retry_attempts=4).request("GET", "/x", "t")
    assert (len(seen), raised.value.attempts) == (4, 4)


async def test_429_is_retried_when_retry_after_fits_the_deadline() -> None:
    handler, seen = _answers(httpx.Response(429, headers={"retry-after": "0"}), httpx.Response(200, json=[]))
    assert await _transport(handler).request("GET", "/x", "t") == []
    assert len(seen) == 2


async def test_429_past_the_deadline_is_rate_limited_at_once() -> None:
    handler, seen = _answers(httpx.Response(429, headers={"retry-after": "60"}))
    budget.start(2.0)
    started = time.monotonic()
    with pytest.raises(UpstreamRateLimited) as raised:
        await _transport(handler).request("GET", "/x", "t")
    assert raised.value.retry_after == 60
    assert len(seen) == 1
    assert time.monotonic() - started < 30  # it did not wait the 60 s for a retry that could not fit


@pytest.mark.parametrize(("share", "attempts"), [(1.0, 2), (0.25, 1)])
async def test_an_upstream_uses_only_its_share_of_the_deadline(share: float, attempts: int) -> None:
    """A 429 asking for 1 s fits a 2 s deadline, but not a quarter of it: the upstream with that share gives
    up at once, leaving the rest of the request its time."""
    handler, seen = _answers(httpx.Response(429, headers={"retry-after": "1"}), httpx.Response(200, json=[]))
    budget.start(2.0)
    transport = _transport(handler, share=share)
    if attempts == 2:
        assert await transport.request("GET", "/x", "t") == []
    else:
        with pytest.raises(UpstreamRateLimited):
            await transport.request("GET", "/x", "t")
    assert len(seen) == attempts


async def test_a_share_of_the_deadline_ends_that_much_earlier() -> None:
    budget.start(10.0)
    whole, share = budget.remaining(), budget.remaining(0.6)
    assert whole is not None
    assert share is not None
    earlier = whole - share
    assert abs(earlier - 4.0) < 0.1  # 40% of the 10 s deadline, whenever it is read


async def test_a_stalled_upstream_is_a_timeout_within_the_deadline() -> None:
    async def stall(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(60)
        return httpx.Response(200, json={})

    budget.start(0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as raised:
        await _transport(stall).request("GET", "/x", "t")
    assert time.monotonic() - started < 30  # the 0.3 s deadline's doing, not the upstream's 60 s answer
    assert raised.value.outcome_unknown


async def test_the_breaker_opens_fails_fast_and_closes_after_a_probe() -> None:
    handler, seen = _answers(httpx.Response(503), httpx.Response(503), httpx.Response(200, json={}))
    transport = _transport(handler, retry_attempts=1, breaker_failure_threshold=2, breaker_reset_s=0.2)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await transport.request("GET", "/x", "t")
    assert transport.breaker.state == "open"
    with pytest.raises(UpstreamCircuitOpen):
        await transport.request("GET", "/x", "t")
    assert len(seen) == 2  # failing fast: nothing was sent
    await asyncio.sleep(0.25)
    assert transport.breaker.state == "half_open"
    assert await transport.request("GET", "/x", "t") == {}
    assert transport.breaker.state == "closed"


async def test_a_dropped_connection_is_unavailable_and_its_outcome_unknown() -> None:
    handler, _ = _answers(httpx.RemoteProtocolError("Server disconnected"))
    with pytest.raises(UpstreamUnavailable) as raised:
        await _transport(handler, retry_attempts=1).request("PATCH", "/x", "t", json={}, repeatable=True)
    assert raised.value.outcome_unknown


async def test_a_refused_connection_was_never_sent() -> None:
    handler, _ = _answers(httpx.ConnectError("refused"))
    with pytest.raises(UpstreamUnavailable) as raised:
        await _transport(handler, retry_attempts=1).request("GET", "/x", "t")
    assert not raised.value.outcome_unknown


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(401), UpstreamUnauthorized),
        (httpx.Response(403), UpstreamForbidden),
        (httpx.Response(404), UpstreamNotFound),
        (
            httpx.Response(422, json={"detail": [{"loc": ["body", "email"], "msg": "bad", "type": "x"}]}),
            UpstreamValidation,
        ),
        (httpx.Response(500), UpstreamUnavailable),
        (httpx.Response(200, content=b"<html>"), UpstreamUnavailable),
    ],
)
async def test_answers_map_to_one_error_each(response: httpx.Response, error: type[Exception]) -> None:
    handler, seen = _answers(response)
    with pytest.raises(error):
        await _transport(handler, retry_attempts=1).request("GET", "/x", "t")
    assert len(seen) == 1


async def test_client_errors_are_not_retried() -> None:
    handler, seen = _answers(httpx.Response(404))
    with pytest.raises(UpstreamNotFound):
        await _transport(handler).request("GET", "/x", "t")
    assert len(seen) == 1


async def test_a_delete_whose_first_answer_was_lost_is_a_success() -> None:
    handler, seen = _answers(httpx.ReadTimeout("lost"), httpx.Response(404))
    await PolarClient(_transport(handler)).delete_customer("t", "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60", anonymize=False)
    assert [r.method for r in seen] == ["DELETE", "DELETE"]


async def test_a_delete_of_nobody_after_a_plain_503_is_still_not_found() -> None:
    handler, _ = _answers(httpx.Response(503), httpx.Response(404))
    with pytest.raises(UpstreamNotFound):
        await PolarClient(_transport(handler)).delete_customer(
            "t", "6f1c2a4e-8b7d-4c3e-9f2a-1b2c3d4e5f60", anonymize=False
        )


async def test_the_request_id_and_traceparent_go_upstream() -> None:
    handler, seen = _answers(httpx.Response(200, json={}))
    transport = _transport(handler)
    exporter = InMemorySpanExporter()
    tracing.use_exporter(exporter)
    token = request_id.CURRENT.set("req-7")
    try:
        await transport.request("GET", "/v1/customers/", "t")
    finally:
        request_id.CURRENT.reset(token)
        tracing.shutdown()
        tracing.use_exporter(None)
    (span,) = exporter.get_finished_spans()
    assert span.name == "upstream GET /v1/customers/"
    assert span.context is not None
    assert seen[0].headers["x-request-id"] == "req-7"
    version, trace_id, parent_id, flags = seen[0].headers["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}")
    assert int(flags, 16) & 1  # sampled


async def test_without_tracing_or_request_id_no_such_header_is_sent() -> None:
    handler, seen = _answers(httpx.Response(200, json={}))
    await _transport(handler).request("GET", "/v1/customers/", "t")
    assert "traceparent" not in seen[0].headers
    assert "x-request-id" not in seen[0].headers


async def test_cookies_set_by_the_upstream_are_never_kept_or_sent() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"Set-Cookie": "session=caller-a; Path=/"})

    client = create_client("http://polar.test", Settings())
    client._transport = httpx.MockTransport(handler)
    transport = Transport(client, Settings())
    await transport.request("GET", "/v1/customers/", "token-a")
    await transport.request("GET", "/v1/customers/", "token-b")
    assert "cookie" not in seen[1].headers
    assert len(client.cookies) == 0


async def test_a_request_makes_at_most_its_share_of_upstream_calls() -> None:
    handler, seen = _answers(httpx.Response(404))
    transport = _transport(handler, max_upstream_calls=5)
    budget.start(5.0, 5)
    outcomes = await asyncio.gather(
        *(transport.request("GET", f"/v1/customers/{n}", "t") for n in range(40)), return_exceptions=True
    )
    assert len(seen) == 5
    assert sum(isinstance(o, UpstreamCallLimit) for o in outcomes) == 35
    assert transport.breaker.failures == 0


async def test_a_refused_token_is_sent_once_per_request_however_many_calls_it_asks_for() -> None:
    handler, seen = _answers(httpx.Response(401))
    transport = _transport(handler)
    budget.start(5.0, 300)
    outcomes = await asyncio.gather(
        *(transport.request("GET", f"/v1/customers/{n}", "not_a_real_token") for n in range(200)),
        return_exceptions=True,
    )
    assert len(seen) == 1
    assert all(isinstance(o, UpstreamUnauthorized) for o in outcomes)


async def test_an_accepted_token_is_trusted_with_concurrent_calls() -> None:
    in_flight = 0
    most = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return httpx.Response(200, json={})

    transport = _transport(slow, upstream_max_concurrency_per_caller=8)
    budget.start(5.0, 300)
    await asyncio.gather(*(transport.request("GET", f"/x/{n}", "good") for n in range(20)))
    assert most == 8  # the first call went alone; once Polar accepted the token, its share at once


async def test_waiting_for_a_slot_counts_against_the_deadline_but_not_against_the_upstream() -> None:
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json={})

    transport = _transport(held, upstream_max_concurrency=1)
    transport.trust.accept(budget.caller_key("t"))
    holder = asyncio.create_task(transport.request("GET", "/held", "t"))
    await asyncio.sleep(0.01)
    budget.start(0.3, 300)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as raised:
        await transport.request("GET", "/x", "other")
    assert 0.25 < time.monotonic() - started < 30  # the deadline ended the wait; the slot never freed
    assert not raised.value.outcome_unknown  # nothing was sent
    assert transport.breaker.failures == 0
    release.set()
    await holder


async def test_a_call_that_fails_before_it_is_sent_leaves_no_probe_waiting() -> None:
    """A body httpx cannot encode failed inside the call the half-open breaker let through, and the breaker
    waited for that probe's verdict forever: every caller got UPSTREAM_UNAVAILABLE until a restart."""
    handler, _seen = _answers(httpx.Response(503), httpx.Response(200, json={"ok": True}))
    transport = _transport(handler, retry_attempts=1, breaker_failure_threshold=1, breaker_reset_s=0.05)
    with pytest.raises(UpstreamUnavailable):
        await transport.request("GET", "/x", "t")
    await asyncio.sleep(0.06)
    with pytest.raises(UnicodeEncodeError):
        await transport.request("POST", "/v1/customers/", "t", json={"name": "\ud800"})
    assert await transport.request("GET", "/x", "t") == {"ok": True}
    assert transport.breaker.state == "closed"


async def test_only_a_success_proves_a_token() -> None:
    """A 400 or 429 may come from a proxy before Polar reads the token: the token stays unproven, tried one
    call at a time; a 401 forgets one proven before."""
    in_flight = 0
    most = 0
    answers = iter([httpx.Response(400)] + [httpx.Response(404)] * 30 + [httpx.Response(401)])

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return next(answers)

    transport = _transport(handler)
    budget.start(5.0, 300)
    await asyncio.gather(*(transport.request("GET", f"/x/{n}", "made_up") for n in range(20)), return_exceptions=True)
    assert most == 1
    assert not transport.trust.accepted(budget.caller_key("made_up"))
    transport.trust.accept(budget.caller_key("revoked"))
    await asyncio.gather(*(transport.request("GET", f"/y/{n}", "revoked") for n in range(11)), return_exceptions=True)
    with pytest.raises(UpstreamUnauthorized):
        await transport.request("GET", "/z", "revoked")
    assert not transport.trust.accepted(budget.caller_key("revoked"))


@pytest.mark.parametrize(
    ("wire", "token", "body"),
    [(POLAR, "good", {"error": "ResourceNotFound", "detail": "Not found"}),
     (VOUCHERIFY, "app\nsecret",
      {"code": 404, "key": "not_found", "message": "Resource not found", "resource_type": "customer"})],
    ids=["polar", "voucherify"],
)  # fmt: skip
async def test_the_vendors_own_404_proves_a_token(wire: Wire, token: str, body: dict[str, Any]) -> None:
    """A page of lookups that all miss (a joined page of customers Voucherify does not know) went one call at a
    time on a fresh gateway: only a success proved the credential. The vendor's own 404 says it took it."""
    in_flight = 0
    most = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return httpx.Response(404, json=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://vendor.test")
    settings = Settings.model_validate({"retry_backoff_s": 0.0, "request_deadline_s": 5.0,
                                        "upstream_max_concurrency_per_caller": 8})  # fmt: skip
    transport = Transport(client, settings, wire=wire)
    budget.start(5.0, 300)
    outcomes = await asyncio.gather(*(transport.request("GET", f"/x/{n}", token) for n in range(20)),
                                    return_exceptions=True)  # fmt: skip
    assert all(isinstance(outcome, UpstreamNotFound) for outcome in outcomes), outcomes
    assert most == 8  # the first call went alone; its 404 proved the token
    assert transport.trust.accepted(budget.caller_key(token))


async def test_unproven_tokens_share_one_callers_slots() -> None:
    """A thousand made-up tokens are not a thousand callers each owed its share."""
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(401)

    transport = _transport(held, upstream_max_concurrency=8, upstream_max_concurrency_per_caller=4)
    budget.start(5.0, 300)
    calls = [asyncio.create_task(transport.request("GET", "/x", f"made_up_{n}")) for n in range(50)]
    await asyncio.sleep(0.05)
    assert transport.slots.in_flight == 4  # the unproven share, whatever the number of tokens
    release.set()
    await asyncio.gather(*calls, return_exceptions=True)


async def test_a_lookup_through_the_search_reads_at_most_five_pages() -> None:
    """An external id with '/' after a backslash searched with an empty prefix, reading every customer."""
    page = {"items": [{"id": "a", "external_id": "other"}] * 100, "pagination": {"total_count": 9000, "max_page": 90}}
    handler, seen = _answers(httpx.Response(200, json=page))
    polar = PolarClient(_transport(handler))
    with pytest.raises(UpstreamLookupTooBroad):
        await polar.get_customer_by_external_id("t", "\\/0")
    assert len(seen) == 5
