"""Subscriptions over WebSocket on ``/graphql``: Strawberry's two protocols (``graphql-transport-ws`` and the
legacy ``graphql-ws``), held to the gateway's rules through the hooks Strawberry offers for it.

- Frames are text: the view's JSON encoder returns bytes, which Strawberry would send as binary frames,
  and graphql-ws clients refuse those.
- Only subscriptions run over a socket. Queries and mutations go over HTTP, where each request has its
  deadline, its upstream budget and its body limit.
- A new document is admitted by the same byte budget as over HTTP (``GatewayView._admit``).
- The token comes from ``connectionParams`` (``{"Authorization": "Bearer ..."}``, as Apollo Client and
  graphql-ws send it) or else from the upgrade request's ``Authorization`` header. A connection without a
  usable token, or over ``max_connections_per_token``, is closed at ``connection_init`` with 4403 and a
  reason that names what is missing, before any upstream call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from json import JSONDecodeError
from typing import Any

from aiohttp import ClientConnectionResetError, WSMsgType
from graphql import GraphQLError
from multidict import CIMultiDict
from strawberry.aiohttp.views import AiohttpWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from ..http.keys import PERSISTED, SETTINGS
from ..http.tokens import MALFORMED, SEVERAL, TokenKind, credentials, token_kind
from ..live.service import CallerCounts
from ..observability.metrics import EDGE_CLOSED
from ..persisted.documents import not_trusted
from ..settings import Settings
from ..upstream import budget
from ..upstream.budget import caller_key
from ..upstream.errors import UpstreamError, UpstreamUnauthorized
from .context import Context
from .document_cache import ByteBudget

log = logging.getLogger("gateway.graphql")
CLOSE_FORBIDDEN = 4403
CLOSE_POLICY = 1008
CLOSE_BAD_MESSAGE = 4400
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY_INITS = 4429
# Close reasons: at most 123 bytes, as WebSocket allows.
NO_TOKEN = 'Send connectionParams {"Authorization": "Bearer <token>"}, or an Authorization header.'
BAD_TOKEN = "The Authorization value is not 'Bearer <token>' with a token of RFC 6750 characters."
TWO_TOKENS = "Send one Authorization value, not several."
REFUSED_TOKEN = "Polar refused this token: it is unknown, expired or revoked."
TOO_MANY_MESSAGES = "Too many messages (setting websocket_messages_per_s)."
BAD_MESSAGE = "Invalid message: an object with a string 'type' (and a string 'id' where the protocol has one)."
INIT_TIMEOUT = "Connection initialisation timeout"
TOO_MANY_SUBSCRIBES = "Too many subscriptions started on this connection (setting websocket_subscribes_per_minute)."
_SUBSCRIPTIONS_ONLY = (OperationType.SUBSCRIPTION,)
ONLY_SUBSCRIPTIONS = "Over WebSocket this gateway runs subscriptions only: send queries and mutations over HTTP."


class TextFrames(AiohttpWebSocketAdapter):
    """Every message as a text frame; messages from the client at most ``websocket_messages_per_s`` (with a
    burst of five seconds' worth), else the socket is closed with 1008."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        """Strawberry's, with every frame counted before it is decoded: the legacy protocol skips frames that
        are not JSON, which were not counted when the decoded messages were."""
        rate = self.request.app[SETTINGS].websocket_messages_per_s
        allowance = ByteBudget(rate, rate * 5)
        async for frame in self.ws:
            if not allowance.take(1):
                await self.ws.close(code=CLOSE_POLICY, message=TOO_MANY_MESSAGES.encode())
                return
            if frame.type == WSMsgType.BINARY:
                raise NonTextMessageReceived
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                message = self.view.decode_json(frame.data)
            except JSONDecodeError as error:
                if ignore_parsing_errors:
                    continue
                raise NonJsonMessageReceived from error
            yield message

    async def send_json(self, message: Mapping[str, object]) -> None:
        """A message for a socket the gateway has closed (a subscription ended with a close code, then
        Strawberry's ``complete``) has nowhere to go, and is dropped."""
        if self.ws.closed:
            return
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_str(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except (RuntimeError, ClientConnectionResetError) as error:
            raise WebSocketDisconnected from error


class SubscriptionsOnly:
    """The schema as the socket handlers see it: ``stream`` runs subscriptions only (a query or a mutation
    gets an error naming HTTP), ``subscribe`` is the schema's."""

    def __init__(self, schema: BaseSchema) -> None:
        self._schema = schema

    async def stream(self, query: str | None, *args: Any, **kwargs: Any) -> Any:
        kwargs["allowed_operation_types"] = _SUBSCRIPTIONS_ONLY
        return _saying_why(await self._schema.stream(query, *args, **kwargs))

    async def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        """The legacy protocol's path: a query or a mutation fails there too, and is told the same way."""
        results = await self._schema.subscribe(*args, **kwargs)
        return _saying_why(results) if hasattr(results, "__aiter__") else results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)


async def _saying_why(results: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The stream, with graphql-core's "queries are not allowed" told as what to do instead."""
    async with aclosing(results):
        async for result in results:
            errors = getattr(result, "errors", None) or []
            if isinstance(result, PreExecutionError) and any(
                isinstance(error.original_error, InvalidOperationTypeError) for error in errors
            ):
                result.errors = [GraphQLError(ONLY_SUBSCRIPTIONS, extensions={"code": "BAD_USER_INPUT"})]
            yield result


def _well_formed(message: object) -> bool:
    """The envelope both protocols need before Strawberry reads it (it indexes what it is sent)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return False
    if ("id" in message or message["type"] in {"subscribe", "complete", "start", "stop"}) and not isinstance(
        message.get("id"), str
    ):
        return False
    payload = message.get("payload")
    return message["type"] not in {"subscribe", "start"} or (
        isinstance(payload, dict) and isinstance(payload.get("query"), str)
    )


class _Admission:
    """What every new operation on one socket passes: the per-socket rate of subscriptions started, with
    ``trusted_documents_only`` the manifest (as over HTTP, before the document is parsed), and the view's
    budget of new document bytes (as over HTTP)."""

    def __init__(self, view: Any, settings: Settings, websocket: object) -> None:
        assert isinstance(websocket, TextFrames)  # the view's websocket_adapter_class
        self.view = view
        per_minute = settings.websocket_subscribes_per_minute
        self.subscribes = ByteBudget(per_minute / 60, per_minute)
        persisted = websocket.request.app[PERSISTED]
        self.manifest = persisted.manifest
        self.trusted = persisted.manifest if persisted.trusted_only else None

    def name_manifest_document(self, payload: dict[str, Any]) -> None:
        """A subscription that names a manifest document by ``extensions.persistedQuery`` (Apollo's links send
        the id beside the text) runs the manifest's text, as over HTTP by id: the text a link prints need
        not be the manifest's byte for byte (the manifest generator sorts definitions)."""
        extensions = payload.get("extensions")
        reference = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        digest = reference.get("sha256Hash") if isinstance(reference, dict) else None
        if self.manifest is not None and isinstance(digest, str) and (text := self.manifest.find(digest)):
            payload["query"] = text

    def refusal(self, query: object) -> GraphQLError | None:
        if not self.subscribes.take(1):
            return GraphQLError(TOO_MANY_SUBSCRIBES, extensions={"code": "GATEWAY_BUSY"})
        if self.trusted is not None and not (isinstance(query, str) and self.trusted.trusts(query)):
            refused = not_trusted()
            return GraphQLError(refused.message, extensions={"code": refused.code})
        try:
            self.view._admit(query)
        except Exception as busy:  # cross_web's HTTPException, with the reason
            return GraphQLError(str(getattr(busy, "reason", busy)), extensions={"code": "GATEWAY_BUSY"})
        return None


class TransportWsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = SubscriptionsOnly(self.schema)  # type: ignore[assignment]
        self.admission = _Admission(self.view, self.context.settings, self.websocket)

    async def handle_task_exception(self, error: Exception) -> None:
        log.warning("subscription task failed: %s", type(error).__name__)  # one line: no traceback, no message

    async def handle_message(self, message: Any) -> None:
        if not _well_formed(message):
            await self.websocket.close(CLOSE_BAD_MESSAGE, BAD_MESSAGE)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        self.admission.name_manifest_document(message["payload"])  # type: ignore[arg-type]
        query = message["payload"]["query"]
        if self.connection_acknowledged and message["id"] not in self.operations:
            error = self.admission.refusal(query)
            if error is not None:
                await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
                return
        await super().handle_subscribe(message)


class LegacyWsHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy protocol, held to what graphql-transport-ws does on its own: ``connection_init`` within
    ``websocket_init_timeout_s`` and only once (each one started a keep-alive task, and could swap the token)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = SubscriptionsOnly(self.schema)  # type: ignore[assignment]
        self.admission = _Admission(self.view, self.context.settings, self.websocket)
        self.initialised = False

    async def handle(self) -> None:
        deadline = asyncio.get_running_loop().create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.context.settings.websocket_init_timeout_s)
        if not self.initialised:
            await self.websocket.close(CLOSE_INIT_TIMEOUT, INIT_TIMEOUT)

    async def handle_message(self, message: Any) -> None:
        if not _well_formed(message):
            await self.websocket.close(CLOSE_BAD_MESSAGE, BAD_MESSAGE)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        if self.initialised:
            await self.websocket.close(CLOSE_TOO_MANY_INITS, "Too many initialisation requests")
            return
        self.initialised = True
        await super().handle_connection_init(message)

    async def handle_start(self, message: StartMessage) -> None:
        self.admission.name_manifest_document(message["payload"])  # type: ignore[arg-type]
        query = message["payload"]["query"]
        if self.connection_acknowledged:
            error = self.admission.refusal(query)
            if error is not None:
                await self.send_message({"type": "error", "id": message["id"], "payload": error.formatted})
                return
        await super().handle_start(message)


async def authenticate(context: Context, counts: CallerCounts, per_token: int) -> None:
    """At ``connection_init``: the connection's token (``connectionParams`` first), proven with Polar (one
    small call, none for a token it accepted lately) and counted against ``max_connections_per_token``; else
    the connection is closed with 4403 and the reason. A Polar that cannot answer now is not held against the
    token: each subscription checks it again."""
    params = context.connection_params if isinstance(context.connection_params, dict) else {}
    sent = [params[name] for name in ("Authorization", "authorization") if name in params]
    if len(sent) > 1:
        await _refuse(context, TWO_TOKENS)
    if sent:
        value = sent[0]
        if not isinstance(value, str):
            await _refuse(context, BAD_TOKEN)
            return
        context.credentials = credentials(CIMultiDict([("Authorization", value)]))
    token = context.credentials.token
    problem = context.credentials.problem
    if token is None:
        await _refuse(context, {None: NO_TOKEN, SEVERAL: TWO_TOKENS, MALFORMED: BAD_TOKEN}.get(problem, NO_TOKEN))
        return
    key = caller_key(token)
    too_many = f"Too many connections for this token (setting max_connections_per_token, {per_token})."
    if counts.held(key) >= per_token:  # before asking Polar: a token at its limit costs no call
        await _refuse(context, too_many)
    if not await _accepted(context, token):
        await _refuse(context, REFUSED_TOKEN)
    if not counts.claim(key, per_token):  # others of the token may have connected while Polar was asked
        await _refuse(context, too_many)
    context.connection_key = key


async def _accepted(context: Context, token: str) -> bool:
    budget.start(context.settings.request_deadline_s, 1)
    try:
        if token_kind(token) is TokenKind.CUSTOMER_SESSION:
            await context.polar_client.get_portal_customer(token)
        else:
            await context.polar_client.prove_token(token)
    except UpstreamUnauthorized:
        return False
    except UpstreamError:
        return True
    finally:
        budget.end()
    return True


def release(context: Context, counts: CallerCounts) -> None:
    """The connection's place in its token's count, given back when it closes."""
    if context.connection_key is not None:
        counts.release(context.connection_key)
        context.connection_key = None


async def _refuse(context: Context, reason: str) -> None:
    socket = context.websocket
    if socket is not None:
        await socket.close(code=CLOSE_FORBIDDEN, message=reason.encode()[:123])
    raise ConnectionRejectionError({"message": reason})


class _HandshakeRefusals(logging.Filter):
    """Strawberry logs every refused cross-origin upgrade with its Origin and Host headers, and aiohttp every
    upgrade whose subprotocols match none with the caller's list: text the caller writes (8 KB a header,
    without limit). Counted instead (``gateway_edge_closed{reason="websocket_origin"|"websocket_protocol"}``)."""

    REFUSALS = (
        ("Rejected WebSocket connection from origin", "websocket_origin"),
        ("Client protocols %r don", "websocket_protocol"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        for start, reason in self.REFUSALS:
            if start in message:
                EDGE_CLOSED.labels(reason).inc()
                return False
        return True


for _logger in ("strawberry.ws", "aiohttp.websocket"):
    logging.getLogger(_logger).addFilter(_HandshakeRefusals())
