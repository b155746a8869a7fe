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

import logging
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

from aiohttp import ClientConnectionResetError
from graphql import GraphQLError
from multidict import CIMultiDict
from strawberry.aiohttp.views import AiohttpWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from ..http.tokens import MALFORMED, SEVERAL, credentials
from ..upstream.budget import caller_key
from .context import Context

log = logging.getLogger("gateway.graphql")
CLOSE_FORBIDDEN = 4403
# Close reasons: at most 123 bytes, as WebSocket allows.
NO_TOKEN = 'Send connectionParams {"Authorization": "Bearer <token>"}, or an Authorization header.'
BAD_TOKEN = "The Authorization value is not 'Bearer <token>' with a token of RFC 6750 characters."
TWO_TOKENS = "Send one Authorization value, not several."
_SUBSCRIPTIONS_ONLY = (OperationType.SUBSCRIPTION,)
ONLY_SUBSCRIPTIONS = "Over WebSocket this gateway runs subscriptions only: send queries and mutations over HTTP."


class TextFrames(AiohttpWebSocketAdapter):
    """Every message as a text frame."""

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
        return await self._schema.subscribe(*args, **kwargs)

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


def _admitted(view: Any, query: object) -> str | None:
    """Why a new document is not taken now (the view's byte budget), or None."""
    try:
        view._admit(query)
    except Exception as refused:  # cross_web's HTTPException, with the reason
        return str(getattr(refused, "reason", refused))
    return None


class TransportWsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = SubscriptionsOnly(self.schema)  # type: ignore[assignment]

    async def handle_task_exception(self, error: Exception) -> None:
        log.warning("subscription task failed: %s", type(error).__name__)  # one line: no traceback, no message

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if self.connection_acknowledged and message.get("id") not in self.operations:
            reason = _admitted(self.view, query)
            if reason is not None:
                error = GraphQLError(reason, extensions={"code": "GATEWAY_BUSY"})
                await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
                return
        await super().handle_subscribe(message)


class LegacyWsHandler(BaseGraphQLWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = SubscriptionsOnly(self.schema)  # type: ignore[assignment]

    async def handle_start(self, message: StartMessage) -> None:
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if self.connection_acknowledged:
            reason = _admitted(self.view, query)
            if reason is not None:
                await self.send_message({"type": "error", "id": message["id"], "payload": {"message": reason}})
                return
        await super().handle_start(message)


async def authenticate(context: Context, counts: dict[str, int], per_token: int) -> None:
    """At ``connection_init``: the connection's token (``connectionParams`` first), counted against
    ``max_connections_per_token``; else the connection is closed with 4403 and the reason."""
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
    if counts.get(key, 0) >= per_token:
        await _refuse(context, f"Too many connections for this token (setting max_connections_per_token, {per_token}).")
    counts[key] = counts.get(key, 0) + 1
    context.connection_key = key


def release(context: Context, counts: dict[str, int]) -> None:
    """The connection's place in its token's count, given back when it closes."""
    key = context.connection_key
    if key is None:
        return
    context.connection_key = None
    left = counts.get(key, 1) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


async def _refuse(context: Context, reason: str) -> None:
    socket = context.websocket
    if socket is not None:
        await socket.close(code=CLOSE_FORBIDDEN, message=reason.encode()[:123])
    raise ConnectionRejectionError({"message": reason})
