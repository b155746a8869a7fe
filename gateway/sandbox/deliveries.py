"""Webhook deliveries as Polar's worker makes them (``server/polar/webhook/tasks.py``): one event per subscribed
endpoint, signed with the Standard Webhooks scheme, POSTed in the background, retried with exponential backoff.

- **Signature.** Headers ``webhook-id`` (the event id), ``webhook-timestamp`` (unix seconds of the attempt) and
  ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``), made by the ``standardwebhooks``
  library as Polar's server makes them. A secret in the Standard Webhooks form (``whsec_`` and the base64 of
  24 to 64 bytes, what Polar generates since 2026-09-08) is the base64 of the key; any other secret (Polar's
  older ``whsec_<43-character token>``, a secret the caller chose) keys the HMAC with its own UTF-8 bytes,
  prefix included, as Polar still signs for endpoints made before then.
- **Order.** Each endpoint's events get their first attempt one at a time, oldest first (Polar's FIFO guard
  holds an event while an earlier one has had no attempt); a retry waits on its own and does not hold the
  events after it.
- **Retries.** Anything but a 2xx answer, or no answer within the timeout (10 s), fails the attempt. After
  attempt *n* the next comes after dramatiq's ``compute_backoff(n, factor=2000 ms, max_backoff=20 min)``: 4 s,
  8 s, 16 s ... 1024 s, each jittered down to half, times the sandbox's ``backoff_scale``. The 10th failed
  attempt fails the event for good (``WEBHOOK_MAX_RETRIES``); when an endpoint's 10 most recent events have
  all failed, the endpoint is disabled and its pending events are skipped (``WEBHOOK_FAILURE_THRESHOLD``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
import string
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from standardwebhooks import Webhook

from ..polar_rules import WEBHOOK_SECRET_PREFIX, webhook_signing_key
from .clock import iso
from .model import Json, WebhookEndpoint
from .store import Store

SECRET_PREFIX = WEBHOOK_SECRET_PREFIX
SECRET_KEY_BYTES = 32
MAX_ATTEMPTS = 10  # settings.WEBHOOK_MAX_RETRIES: attempts, the first included
FAILURE_THRESHOLD = 10  # settings.WEBHOOK_FAILURE_THRESHOLD: failed events in a row that disable an endpoint
BACKOFF_FACTOR_MS = 2_000  # settings.WORKER_MIN_BACKOFF_MILLISECONDS
MAX_BACKOFF_MS = 20 * 60_000
TIMEOUT_SECONDS = 10.0
RESPONSE_CHARS = 2048  # what Polar keeps of an answer's body
USER_AGENT = "polar.sh webhooks"
LOG_EVENTS = 2_000  # events the delivery log keeps, oldest dropped first (their delivery goes on)
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def generate_secret(*, legacy: bool = False) -> str:
    """Polar's ``generate_webhook_secret``: ``whsec_`` and the base64 of 32 random bytes; ``legacy``: what it
    generated before 2026-09-08, ``generate_token(prefix="whsec_")`` (37 letters and digits, then their CRC32
    in base 62)."""
    if not legacy:
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_KEY_BYTES)).decode()
    token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(37))
    number = zlib.crc32(token.encode()) & 0xFFFFFFFF
    checksum = ""
    while number:
        number, remainder = divmod(number, 62)
        checksum = _BASE62[remainder] + checksum
    return SECRET_PREFIX + token + checksum.zfill(6)


def signer(secret: str) -> Webhook:
    """The key Polar signs with (``polar_rules.webhook_signing_key``: the decoded key for a Standard Webhooks
    secret, else the secret's own bytes, as Polar's server does for those)."""
    return Webhook(webhook_signing_key(secret))


def backoff_seconds(attempt: int, rng: random.Random) -> float:
    """dramatiq's ``compute_backoff(attempt, factor=2000, max_backoff=20 min)`` with its jitter, in seconds."""
    delay: float = min(BACKOFF_FACTOR_MS * 2 ** min(attempt, 32), MAX_BACKOFF_MS) / 2
    return (delay + rng.uniform(0, delay)) / 1000


@dataclass
class DeliverySettings:
    """What a test may change through ``POST /__sandbox/webhooks``; a reset restores the sandbox's start values."""

    backoff_scale: float = 1.0  # multiplies every retry delay: 0.001 turns Polar's 4 s into 4 ms
    timeout_seconds: float = TIMEOUT_SECONDS
    legacy_secrets: bool = False  # generate Polar's pre-2026-09-08 secrets, signed with their UTF-8 bytes

    def as_json(self) -> Json:
        return {**asdict(self), "max_attempts": MAX_ATTEMPTS, "failure_threshold": FAILURE_THRESHOLD}

    def updated(self, changes: dict[str, Any]) -> DeliverySettings:
        """A copy with ``changes`` applied; ValueError names the first bad key or value."""
        merged = asdict(self)
        for key, value in changes.items():
            if key not in merged:
                raise ValueError(f"unknown setting {key!r}; known: {', '.join(sorted(merged))}")
            merged[key] = value
        scale, timeout = merged["backoff_scale"], merged["timeout_seconds"]
        if not _is_number(scale) or not 0 <= scale <= 10:
            raise ValueError("backoff_scale must be a number between 0 and 10")
        if not _is_number(timeout) or not 0 < timeout <= 60:
            raise ValueError("timeout_seconds must be a number of seconds above 0 and at most 60")
        if not isinstance(merged["legacy_secrets"], bool):
            raise ValueError("legacy_secrets must be true or false")
        return DeliverySettings(**merged)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class Attempt:
    number: int
    at: str  # when it started, wall clock
    duration_ms: float
    http_code: int | None  # None: no answer (refused, reset, timed out)
    succeeded: bool
    response: str | None  # the answer's body (2048 characters at most), or why there was none
    retry_in_seconds: float | None = None  # when the next attempt comes; None: none comes


@dataclass
class OutgoingEvent:
    """One event for one endpoint (Polar's ``WebhookEvent``): its body is fixed, each attempt signs it anew."""

    id: str
    type: str
    endpoint: WebhookEndpoint
    created_at: datetime
    payload: str
    succeeded: bool | None = None  # None: pending
    skipped: bool = False  # the endpoint was disabled or deleted before it could succeed
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        return "pending" if self.succeeded is None else "succeeded" if self.succeeded else "failed"

    def as_json(self) -> Json:
        return {
            "id": self.id,
            "type": self.type,
            "endpoint_id": self.endpoint.id,
            "organization_id": self.endpoint.organization_id,
            "url": self.endpoint.url,
            "created_at": iso(self.created_at),
            "status": self.status,
            "payload": self.payload,
            "attempts": [asdict(attempt) for attempt in self.attempts],
        }


class Deliveries:
    """The outbox of one sandbox: events waiting, being sent or retried, and the log of what happened."""

    def __init__(self, settings: DeliverySettings | None = None) -> None:
        self.initial = settings or DeliverySettings()
        self.settings = self.initial
        self.rng = random.Random()
        self._queues: dict[str, asyncio.Queue[OutgoingEvent]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_endpoint: dict[str, deque[OutgoingEvent]] = {}
        self._log: deque[OutgoingEvent] = deque(maxlen=LOG_EVENTS)
        self._pending: dict[str, OutgoingEvent] = {}  # by id: waiting for a first attempt or a retry
        self._session: aiohttp.ClientSession | None = None

    # Emitting --------------------------------------------------------------------------------

    def subscribed(self, store: Store, organization_id: str, event_type: str) -> list[WebhookEndpoint]:
        """The endpoints an event goes to: the organization's, live, enabled, listening to it. Only the ``raw``
        format is sent: the Discord and Slack renderings are not emulated."""
        return [
            endpoint
            for endpoint in store.webhook_endpoints.values()
            if endpoint.organization_id == organization_id
            and endpoint.deleted_at is None
            and endpoint.enabled
            and endpoint.format == "raw"
            and event_type in endpoint.events
        ]

    def emit(
        self, store: Store, now: datetime, organization_id: str, event_type: str, data: Callable[[], Json]
    ) -> list[OutgoingEvent]:
        """Queues ``event_type`` for every subscribed endpoint and returns at once; ``data`` is rendered only
        when some endpoint listens. Must be called on the running event loop."""
        endpoints = self.subscribed(store, organization_id, event_type)
        if not endpoints:
            return []
        rendered = data()
        events = []
        for endpoint in endpoints:
            # polar-sdk 1.0.2 requires api_version (its payloads order it so); the 2026-08 server sends none
            envelope: Json = {"type": event_type, "timestamp": iso(now), "api_version": endpoint.api_version}
            envelope["data"] = rendered
            payload = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
            event = OutgoingEvent(str(uuid.uuid4()), event_type, endpoint, now, payload)
            self._log.append(event)
            self._by_endpoint.setdefault(endpoint.id, deque(maxlen=FAILURE_THRESHOLD)).append(event)
            self._pending[event.id] = event
            self._queue(endpoint.id).put_nowait(event)
            events.append(event)
        return events

    def _queue(self, endpoint_id: str) -> asyncio.Queue[OutgoingEvent]:
        queue = self._queues.get(endpoint_id)
        if queue is None:
            queue = self._queues[endpoint_id] = asyncio.Queue()
            self._spawn(self._first_attempts(queue))
        return queue

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Sending ---------------------------------------------------------------------------------

    async def _first_attempts(self, queue: asyncio.Queue[OutgoingEvent]) -> None:
        """One endpoint's events, each tried once in the order they were made."""
        while True:
            event = await queue.get()
            await self._attempt(event)

    async def _retry(self, event: OutgoingEvent, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._attempt(event)

    async def _attempt(self, event: OutgoingEvent) -> None:
        if event.id not in self._pending:  # skipped while it waited
            return
        endpoint = event.endpoint
        if endpoint.deleted_at is not None or not endpoint.enabled:
            self._finish(event, skipped=True)
            return
        number = len(event.attempts) + 1
        sent_at = datetime.now(UTC)
        headers = {
            "user-agent": USER_AGENT,
            "content-type": "application/json",
            "webhook-id": event.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signer(endpoint.secret).sign(event.id, sent_at, event.payload),
            "webhook-api-version": endpoint.api_version,
        }
        started = time.monotonic()
        http_code: int | None = None
        answer: str | None = None
        try:
            async with self._client().post(
                endpoint.url,
                data=event.payload.encode(),
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            ) as response:
                http_code = response.status
                answer = (await response.read()).decode("utf-8", "replace").replace("\x00", "")[:RESPONSE_CHARS]
                answer = answer or None
        except Exception as error:  # refused, reset, timed out, a URL aiohttp cannot send to: no answer
            answer = str(error) or type(error).__name__
        succeeded = http_code is not None and 200 <= http_code < 300
        attempt = Attempt(number, str(iso(sent_at)), round((time.monotonic() - started) * 1000, 3), http_code,
                          succeeded, answer)  # fmt: skip
        event.attempts.append(attempt)
        if succeeded:
            self._finish(event, succeeded=True)
        elif number >= MAX_ATTEMPTS:
            self._finish(event, succeeded=False)
            self._disable_if_failing(endpoint)
        else:
            attempt.retry_in_seconds = round(backoff_seconds(number, self.rng) * self.settings.backoff_scale, 6)
            self._spawn(self._retry(event, attempt.retry_in_seconds))

    def _finish(self, event: OutgoingEvent, *, succeeded: bool | None = None, skipped: bool = False) -> None:
        event.skipped = skipped
        if succeeded is not None:
            event.succeeded = succeeded
        self._pending.pop(event.id, None)

    def _disable_if_failing(self, endpoint: WebhookEndpoint) -> None:
        """Polar's ``on_event_failed``: the endpoint's most recent events all failed for good, so it stops."""
        recent = self._by_endpoint.get(endpoint.id, ())
        if len(recent) < FAILURE_THRESHOLD or any(event.succeeded is not False for event in recent):
            return
        endpoint.enabled = False
        endpoint.modified_at = datetime.now(UTC)
        for event in [event for event in self._pending.values() if event.endpoint is endpoint]:
            self._finish(event, skipped=True)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    # Log, reset, close -----------------------------------------------------------------------

    def log(self, endpoint_ids: Iterable[str] | None = None, types: Iterable[str] | None = None) -> Json:
        wanted_endpoints = set(endpoint_ids) if endpoint_ids else None
        wanted_types = set(types) if types else None
        events = [
            event.as_json()
            for event in self._log
            if (wanted_endpoints is None or event.endpoint.id in wanted_endpoints)
            and (wanted_types is None or event.type in wanted_types)
        ]
        return {"pending": len(self._pending), "events": events}

    def reset(self) -> None:
        """Drops every event, pending or not, and stops every send; the settings go back to their start."""
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._queues.clear()
        self._by_endpoint.clear()
        self._log.clear()
        self._pending.clear()
        self.settings = self.initial

    async def close(self) -> None:
        tasks = list(self._tasks)
        self.reset()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
