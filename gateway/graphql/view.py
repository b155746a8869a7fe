"""GraphQL over HTTP on aiohttp, as its specification says: POST with JSON, GET for queries only (a
mutation over GET is 405), ``application/graphql-response+json`` when the client accepts it, with
400 for requests that could not be executed, and ``application/json`` (always 200) otherwise."""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard

import orjson
from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from graphql import OperationType as OperationType_
from pydantic import SecretStr
from strawberry.aiohttp.views import GraphQLView
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from ..graphiql import render_page
from ..http import bodies
from ..http.answers import GRAPHQL_RESPONSE, error_response, wants_graphql_response
from ..http.bodies import refuse_and_close
from ..http.keys import (
    CACHE,
    LIVE,
    PERSISTED,
    POLAR_CLIENT,
    SCOPES,
    SETTINGS,
    UPLOAD_SLOTS,
    VOUCHERIFY_CLIENT,
)
from ..http.proven import credentials_proven
from ..http.tokens import credentials
from ..http.uploads import (
    ONLY_IMPORT,
    UPLOAD_FIELD,
    UPLOADS_BUSY,
    UploadRefused,
    is_multipart,
    read_upload,
    upload_refusal,
)
from ..http.voucherify_keys import voucherify_credentials
from ..observability.metrics import PERSISTED_QUERIES
from ..persisted.documents import Refusal, Registration
from ..persisted.store import caller_of
from ..upstream import budget
from ..upstream.errors import UpstreamError
from .context import NOT_CONFIGURED, Context
from .document_cache import DocumentCache
from .errors import failure_of
from .federation import ROUTER_SECRET_HEADER
from .websocket import LegacyWsHandler, TextFrames, TransportWsHandler, authenticate, release

_REQUEST = "graphql_request"
_SHAPE = (
    "The request must be a JSON object with a string 'query', optional object 'variables' and optional "
    "string 'operationName' (or a list of such objects for a batch)."
)
_REQUEST_ERROR = "graphql_request_error"
_SOCKET_CONTEXT = "graphql_socket_context"
TOO_MANY_SOCKETS = (
    "The gateway holds as many WebSocket connections as it will (setting max_websocket_connections, at most half "
    "of max_connections)."
)
NEW_DOCUMENTS_BUSY = (
    "The gateway is reading as many new documents as it will for now (settings new_document_bytes_per_s and "
    "new_document_burst_bytes); retry in a moment, or send a document it has seen."
)
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def _not_json(constant: str) -> object:
    raise json.JSONDecodeError(f"{constant} is not a JSON value", constant, 0)


def _from_router(request: web.Request, secret: SecretStr | None) -> bool:
    """Whether the request carries the federation router's shared secret (compared in constant time)."""
    sent = request.headers.get(ROUTER_SECRET_HEADER)
    if secret is None or sent is None:
        return False
    return hmac.compare_digest(sent.encode(), secret.get_secret_value().encode())


_OVER_POST = OperationType.from_http("POST")


def _is_plain_post(request: web.Request) -> bool:
    """A JSON POST that asks for no streaming transport (those answer in multipart or event streams)."""
    if request.method != "POST" or request.content_type != "application/json":
        return False
    accept = request.headers.get("Accept", "")
    return "multipart/" not in accept and "event-stream" not in accept


def _well_shaped(query: object, variables: object, operation_name: object, extensions: object = None) -> bool:
    """The shape one operation must have, on either path: the lean one and Strawberry's general one."""
    return (
        isinstance(query, str | None)
        and isinstance(variables, dict | None)
        and isinstance(operation_name, str | None)
        and isinstance(extensions, dict | None)
    )


def _caller(request: web.Request) -> str:
    """Whose automatic persisted queries: a digest of every credential the request carries."""
    token = credentials(request.headers).token
    keys = voucherify_credentials(request.headers).keys
    parts = (token or "", keys.app_id if keys else "", keys.token if keys else "", (keys.origin or "") if keys else "")
    return caller_of("\n".join(parts))


def _has_credentials(request: web.Request) -> bool:
    return credentials(request.headers).token is not None or voucherify_credentials(request.headers).keys is not None


def _ran(result: ExecutionResult) -> bool:
    """Whether the document was executed (it parsed, validated and passed the limits): only such a document
    is registered as an automatic persisted query."""
    return not (result.data is None and result.errors and all(error.path is None for error in result.errors))


def refusal_response(request: web.Request, refusal: Refusal) -> web.Response:
    """A document that cannot run, as GraphQL over HTTP answers a request error: its status under
    ``application/graphql-response+json``, 200 under ``application/json`` unless the request was malformed."""
    status = refusal.status if refusal.malformed or wants_graphql_response(request) else 200
    content_type = GRAPHQL_RESPONSE if wants_graphql_response(request) else "application/json"
    body = orjson.dumps({"errors": [{"message": refusal.message, "extensions": {"code": refusal.code}}]})
    return web.Response(body=body, status=status, content_type=content_type)


@dataclass
class PersistedRequestData(GraphQLRequestData):
    """An operation of Strawberry's general path, with what to register once it ran; in a batch, why its
    document cannot run (the batch's other operations do)."""

    register: Registration | None = None
    refusal: Refusal | None = None


def _is_import(operation: dict[str, Any]) -> bool:
    """Whether an upload's operation is a mutation whose one root field is the import."""
    query, name = operation.get("query"), operation.get("operationName")
    if not isinstance(query, str) or not _well_shaped(query, operation.get("variables"), name,
                                                      operation.get("extensions")):  # fmt: skip
        return False
    try:
        document = parse(query, max_tokens=2000)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or len(document.definitions) != 1:
        return False
    chosen = operations[0]
    if name is not None and (chosen.name is None or chosen.name.value != name):
        return False
    selections = chosen.selection_set.selections
    return (
        chosen.operation is OperationType_.MUTATION
        and len(selections) == 1
        and isinstance(selections[0], FieldNode)
        and selections[0].name.value == UPLOAD_FIELD
    )


class GatewayView(GraphQLView[Context, None]):
    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = TransportWsHandler
    graphql_ws_handler_class = LegacyWsHandler

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """GraphiQL for a browser asking for a page; not for a client's GET without ``query`` (Apollo Client's
        hash-only GET sends ``Accept: */*``, and must get its answer, not a page)."""
        params = request.query_params
        return (
            request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
            and not any(params.get(name) for name in ("query", "extensions", "documentId"))
        )

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """GraphiQL from the gateway's own assets, set up for it (see ``gateway.graphiql``)."""
        return render_page(request)

    async def get_context(self, request: web.Request, response: web.Response | web.WebSocketResponse) -> Context:
        app = request.app
        settings = app[SETTINGS]
        caches = app.get(CACHE)
        return Context(
            polar_client=app[POLAR_CLIENT],
            settings=app[SETTINGS],
            scopes=app[SCOPES],
            credentials=credentials(request.headers),
            base_url=app[SETTINGS].public_url or "",  # never the request's Host: callers choose that header
            from_router=_from_router(request, settings.router_secret),
            voucherify_client=app.get(VOUCHERIFY_CLIENT),
            voucherify_credentials=voucherify_credentials(request.headers),
            live=app.get(LIVE),
            websocket=response if isinstance(response, web.WebSocketResponse) else None,
            polar_cache=caches.polar if caches is not None else None,
            voucherify_cache=caches.voucherify if caches is not None else None,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """``connection_init``: the token, from connectionParams or the upgrade's header (``websocket.py``);
        the acknowledgement carries no payload."""
        if context.live is not None:
            await authenticate(context, context.live.connections, context.settings.max_connections_per_token)
        return UnsetType()  # the same one as UNSET (a singleton), typed

    async def get_sub_response(self, request: web.Request) -> web.Response:
        response = web.Response()
        response[_REQUEST] = request
        return response

    async def process_result(self, request: web.Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = process_result(result)
        if result.data is None and result.errors and all(error.path is None for error in result.errors):
            request[_REQUEST_ERROR] = True  # parse or validation failed: nothing was executed
            processed.pop("data", None)
        return processed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: web.Response
    ) -> web.Response:
        request: web.Request = sub_response[_REQUEST]
        sub_response.body = self.encode_json(response_data)
        if wants_graphql_response(request):
            sub_response.content_type = GRAPHQL_RESPONSE
            if request.get(_REQUEST_ERROR):
                sub_response.set_status(400)
        else:
            sub_response.content_type = "application/json"
        return sub_response

    async def execute_single(
        self,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: web.Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if isinstance(request_data, PersistedRequestData) and (refusal := request_data.refusal) is not None:
            return ExecutionResult(data=None, errors=[GraphQLError(refusal.message, extensions={"code": refusal.code})])
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, "Mutations are not allowed over GET; send them with POST.") from error
            raise
        if isinstance(request_data, PersistedRequestData) and request_data.register and _ran(result):
            await self._register(request, request_data.register)
        return result

    async def execute_operation(
        self,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: web.Response,
    ) -> Any:
        """Strawberry's, with every operation of a batch admitted before any starts, and the others cancelled
        when one fails the whole request: Strawberry gathers them, so a batch answered 400 at once for its
        second operation went on making the first one's upstream calls for seconds."""
        batch = request_data if isinstance(request_data, list) else [request_data]
        for data in batch:
            self._admit(data.query)
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        operations = [
            asyncio.ensure_future(
                self.execute_single(request, request_adapter, sub_response, context, root_value, data)
            )
            for data in request_data
        ]
        try:
            return list(await asyncio.gather(*operations))
        except BaseException:
            for operation in operations:
                operation.cancel()
            await asyncio.gather(*operations, return_exceptions=True)
            raise

    def _admit(self, query: object) -> None:
        """A document this process has not seen costs about a millisecond of CPU per kilobyte to parse and
        validate; the bytes of such documents come out of a budget (``DocumentCache.admit``). Documents
        already seen, as every app's queries are after their first use, always pass."""
        documents = getattr(self.schema, "documents", None)
        if isinstance(query, str) and isinstance(documents, DocumentCache) and not documents.admit(query):
            raise HTTPException(503, NEW_DOCUMENTS_BUSY)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        settings = request.app[SETTINGS]
        try:
            if self.is_websocket_request(request):
                return await self._run_websocket(request)
            if is_multipart(request):
                return await self._run_upload(request)
            if settings.lean_execution and _is_plain_post(request):
                plain = await self._run_plain_post(request)
                if plain is not None:
                    return plain
            return await self.run(request=request)
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                request, 413, f"The request body is over {settings.max_body_bytes} bytes (setting max_body_bytes)."
            )
        except Refusal as refusal:
            return refusal_response(request, refusal)
        except HTTPException as error:
            reason = error.reason
            if reason == "Too many operations":
                limit = settings.max_batch_operations
                reason = f"Too many operations in one batch: at most {limit} (setting max_batch_operations)."
            headers = {"Allow": "POST"} if error.status_code == 405 and request.method == "GET" else {}
            if error.status_code == 503:
                headers["Retry-After"] = "1"
            return error_response(request, error.status_code, reason, headers)

    async def _run_websocket(self, request: web.Request) -> web.StreamResponse:
        """A subscriber's connection, within ``max_websocket_connections``; Strawberry's protocols run it, with
        the context built here so that its token's place in ``max_connections_per_token`` is given back when
        it closes. A socket lives longer than a request: its subscriptions start budgets of their own."""
        live, settings = request.app[LIVE], request.app[SETTINGS]
        if len(live.sockets) >= min(settings.max_websocket_connections, settings.max_connections // 2):
            return error_response(request, 503, TOO_MANY_SOCKETS, {"Retry-After": "5"})
        budget.end()  # the upgrade's own budget; each subscription check and event starts one (``live.py``)
        context = await self.get_context(request, response=web.Response())
        request[_SOCKET_CONTEXT] = context
        try:
            return await self.run(request=request, context=context)
        finally:
            release(context, live.connections)
            if context.websocket is not None:
                live.sockets.discard(context.websocket)

    async def create_websocket_response(self, request: web.Request, subprotocol: str | None) -> web.WebSocketResponse:
        """Strawberry's, with the gateway's bounds on frames and a heartbeat that finds dead peers."""
        settings = request.app[SETTINGS]
        socket = web.WebSocketResponse(
            protocols=[subprotocol] if subprotocol else [],
            max_msg_size=settings.websocket_max_message_bytes,
            heartbeat=settings.websocket_heartbeat_s,
        )
        await socket.prepare(request)
        request.app[LIVE].sockets.add(socket)
        context: Context = request[_SOCKET_CONTEXT]
        context.websocket = socket
        context.transport = request.transport
        return socket

    async def _run_upload(self, request: web.Request) -> web.StreamResponse:
        """A multipart POST: admitted by ``gateway.http.uploads`` before a byte of it is read, in a slot of
        its caller's (keys Voucherify has not accepted lately share one, and are proven by a small call
        first), its body read within ``body_timeout_s``, then run as one operation with a deadline of its own
        from then on, as every request's starts once its body is in. A refusal closes the connection, after
        dropping what still arrives of a body within ``max_upload_bytes`` (``refuse_and_close``)."""
        settings = request.app[SETTINGS]
        refusal = upload_refusal(request, settings)
        client = request.app.get(VOUCHERIFY_CLIENT)
        keys = voucherify_credentials(request.headers).keys
        if refusal is not None or client is None or keys is None:
            status, message = (refusal.status, refusal.message) if refusal else (503, NOT_CONFIGURED)
            return await refuse_and_close(request, status, message, drain_bytes=settings.max_upload_bytes)
        slots = request.app[UPLOAD_SLOTS]
        holder = client.caller_of(keys)
        if not slots.try_acquire(holder):
            return await refuse_and_close(
                request, 503, UPLOADS_BUSY, {"Retry-After": "5"}, drain_bytes=settings.max_upload_bytes
            )
        try:
            try:
                await client.prove_keys(keys)
            except UpstreamError as error:
                failure = failure_of(error)
                return await refuse_and_close(
                    request, failure.status, failure.message, drain_bytes=settings.max_upload_bytes
                )
            try:
                async with asyncio.timeout(settings.body_timeout_s):
                    operation = await read_upload(request, settings)
            except TimeoutError:
                message = f"The upload did not arrive within {settings.body_timeout_s:g} s (setting body_timeout_s)."
                return await refuse_and_close(request, 408, message)
            except UploadRefused as refused:
                return await refuse_and_close(
                    request, refused.status, refused.message, drain_bytes=settings.max_upload_bytes
                )
            try:
                registration = await self._resolve(request, operation)
            except Refusal as cannot_run:
                return await refuse_and_close(request, cannot_run.status, cannot_run.message)
            if not _is_import(operation):
                return await refuse_and_close(request, 400, ONLY_IMPORT)
            if (spent := budget.current()) is not None:
                spent.ends_at = time.monotonic() + settings.request_deadline_s
            return await self._execute(request, operation, registration)
        finally:
            slots.release(holder)

    async def _run_plain_post(self, request: web.Request) -> web.Response | None:
        """Most requests are one operation POSTed as JSON. Strawberry's general ``run`` also handles
        batches, GET, uploads, streaming transports and websockets, and costs as much per request as
        executing a lookup; this path does only what a plain POST needs, with the same hooks (``_admit``,
        ``get_context``, ``process_result``, ``_handle_errors``, ``create_response``). Anything else (a
        batch, a body of the wrong shape) returns None and takes the general path, which reads the body
        aiohttp has kept and answers exactly as before. Part of the lean engine: off with
        ``lean_execution``, and held to ``run``'s answers by the differential test."""
        data = self.parse_json(await request.read())
        if not isinstance(data, dict) or not _well_shaped(
            data.get("query"), data.get("variables"), data.get("operationName"), data.get("extensions")
        ):
            return None
        registration = await self._resolve(request, data)
        return await self._execute(request, data, registration)

    async def _register(self, request: web.Request, registration: Registration) -> None:
        if credentials_proven(request):
            await request.app[PERSISTED].register(registration)
        else:
            PERSISTED_QUERIES.labels("unproven").inc()

    async def _resolve(self, request: web.Request, data: dict[str, Any]) -> Registration | None:
        """Puts in ``data`` the document it runs (``gateway.persisted``); what to register once it ran."""
        from_router = _from_router(request, request.app[SETTINGS].router_secret)
        resolved = await request.app[PERSISTED].resolve(
            data,
            partial(_caller, request),
            from_router=from_router,
            with_credentials=partial(_has_credentials, request),
        )
        data["query"] = resolved.query
        return resolved.register

    async def _execute(
        self, request: web.Request, data: dict[str, Any], registration: Registration | None = None
    ) -> web.Response:
        """One operation of a POST, with the hooks ``run`` calls (see ``_run_plain_post``)."""
        self._admit(data.get("query"))
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        try:
            result = await self.schema.execute(
                data.get("query"),
                variable_values=data.get("variables"),
                context_value=context,
                operation_name=data.get("operationName"),
                allowed_operation_types=_OVER_POST,
                operation_extensions=data.get("extensions"),
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        if registration is not None and _ran(result):
            await self._register(request, registration)
        response_data = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)  # as ``run`` does: Sentry's integration hooks it
        return self.create_response(response_data, sub_response)

    def decode_json(self, data: str | bytes) -> object:
        """orjson for speed, within the bounds of ``gateway.http.bodies`` (nesting, 64-bit integers)."""
        return bodies.decode_json(data)

    def parse_json(self, data: str | bytes) -> object:
        """Strawberry's, except that a body over a bound says which one instead of "Unable to parse"."""
        try:
            return bodies.decode_json(data)
        except bodies.JsonRefused as error:
            raise HTTPException(400, error.reason) from error
        except json.JSONDecodeError as error:
            raise HTTPException(400, "Unable to parse request body as JSON") from error

    def is_websocket_request(self, request: web.Request) -> TypeGuard[web.Request]:
        """An upgrade to one of the two protocols, when subscriptions are on (else it is a plain GET). Asked of
        every request, so a request without ``Upgrade: websocket`` is answered before any handshake object
        is built."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return False
        if not request.app[SETTINGS].subscriptions or LIVE not in request.app:
            return False
        return web.WebSocketResponse(protocols=self.websocket_subprotocols).can_prepare(request).ok

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's parsing, plus the checks of shape it leaves to chance."""
        try:
            parsed = await super().parse_http_body(request)
        except (AttributeError, TypeError) as error:
            raise HTTPException(400, _SHAPE) from error
        if isinstance(parsed, list) and not parsed:
            raise HTTPException(400, "A batch needs at least one operation.")
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            if not _well_shaped(item.query, item.variables, item.operation_name, item.extensions):
                raise HTTPException(400, _SHAPE)
        persisted = request.request.app[PERSISTED]  # type: ignore[attr-defined]
        http_request: web.Request = request.request  # type: ignore[attr-defined]  # aiohttp's adapter
        caller = partial(_caller, http_request)
        from_router = _from_router(http_request, http_request.app[SETTINGS].router_secret)
        document_ids = await self._document_ids(request, len(items))
        resolved_items: list[GraphQLRequestData] = []
        for item, document_id in zip(items, document_ids, strict=True):
            operation = {"query": item.query, "extensions": item.extensions, "documentId": document_id}
            try:
                resolved = await persisted.resolve(
                    operation, caller, from_router=from_router, with_credentials=partial(_has_credentials, http_request)
                )
            except Refusal as refusal:
                if not isinstance(parsed, list):
                    raise
                refused = PersistedRequestData(None, None, item.operation_name, None, item.protocol, refusal=refusal)
                resolved_items.append(refused)
                continue
            resolved_items.append(PersistedRequestData(
                resolved.query, item.variables, item.operation_name, item.extensions, item.protocol, resolved.register
            ))  # fmt: skip
        return resolved_items if isinstance(parsed, list) else resolved_items[0]

    async def _document_ids(self, request: AsyncHTTPRequestAdapter, count: int) -> list[object]:
        """Each operation's ``documentId`` (Relay's and the GraphQL-over-HTTP draft's reference to a trusted
        document), which Strawberry's parsing drops: from the query string, or the JSON body it read."""
        if request.method == "GET":
            return [request.query_params.get("documentId")]
        body = await request.get_body()
        if b'"documentId"' not in body:  # as almost always: no second decoding
            return [None] * count
        decoded = self.parse_json(body)
        operations = decoded if isinstance(decoded, list) else [decoded]
        return [item.get("documentId") if isinstance(item, dict) else None for item in operations][:count]

    def encode_json(self, data: object) -> bytes:
        """orjson for speed; the standard library for what orjson refuses (integers over 64 bits)."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()
