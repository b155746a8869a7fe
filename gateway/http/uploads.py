"""Uploads: the one request body allowed over ``max_body_bytes`` (a CSV for ``voucherifyCustomersImport``,
sent as a GraphQL multipart request), and so the one that needs its own guard at the edge.

A multipart POST is admitted, before a byte of its body is read, only when it
- carries ``Apollo-Require-Preflight`` or ``X-Apollo-Operation-Name``: a header no HTML form can send, so a
  browser must ask first (CORS preflight), as Apollo's router requires against CSRF;
- carries Voucherify server keys of the right shape (they are checked upstream; no keys, no upload);
- says its ``Content-Length`` (no chunked uploads: the length bounds what the reader keeps), at most
  ``max_upload_bytes``;
- finds one of ``max_concurrent_uploads`` slots free (else 503 at once): one per key pair, and keys that
  Voucherify has not accepted lately share one, proven by a small call before the body is read.
The body is then read here (``read_upload``) within ``body_timeout_s``: the spec's three parts and no other
(``operations`` and ``map`` within ``max_body_bytes``, one file), and the view accepts only an operation whose
one root field is ``voucherifyCustomersImport``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from ..settings import Settings
from .bodies import decode_json
from .voucherify_keys import voucherify_credentials

PREFLIGHT_HEADERS = ("Apollo-Require-Preflight", "X-Apollo-Operation-Name")
UPLOAD_FIELD = "voucherifyCustomersImport"
NO_SERVER_KEYS = "An upload needs Voucherify server keys: 'X-Voucherify-App-Id' and 'X-Voucherify-App-Token'."
UPLOADS_BUSY = (
    "As many uploads as this gateway takes at once are in progress (setting max_concurrent_uploads; one per "
    "key pair); retry shortly."
)
ONLY_IMPORT = f"Multipart requests (uploads) are accepted for one operation only: a mutation of {UPLOAD_FIELD}."


def is_multipart(request: web.BaseRequest) -> bool:
    return request.method == "POST" and request.content_type == "multipart/form-data"


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def upload_refusal(request: web.BaseRequest, settings: Settings) -> Refusal | None:
    """Why a multipart POST may not be read, or None when it may (see the module's rules)."""
    if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        return Refusal(400, (
            "A multipart request (an upload) must carry the header 'Apollo-Require-Preflight: true' (or "
            "'X-Apollo-Operation-Name'), so that no other site's form can send it."))  # fmt: skip
    keys = voucherify_credentials(request.headers).keys
    if keys is None or keys.client_side:
        return Refusal(401, NO_SERVER_KEYS)
    length = request.content_length
    if length is None:
        return Refusal(411, "An upload must state its Content-Length.")
    if length > settings.max_upload_bytes:
        return Refusal(413, f"The upload is over {settings.max_upload_bytes} bytes (setting max_upload_bytes).")
    return None


class UploadRefused(Exception):
    """An upload whose body is not what the spec and these rules say; the message is a fixed text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UploadedFile(io.BytesIO):
    """The file of an upload, as resolvers read it: ``read()`` and its ``filename``."""

    def __init__(self, content: bytes, filename: str) -> None:
        super().__init__(content)
        self.filename = filename


MALFORMED = (
    "The upload is not a GraphQL multipart request: send the parts 'operations' (JSON), 'map' (JSON naming "
    "one variable) and one file, in that order, and nothing else."
)


async def read_upload(request: web.Request, settings: Settings) -> dict[str, Any]:
    """The operation of an upload, its file in place in the variables: the three parts of the
    graphql-multipart-request spec, read from the stream (``Content-Length`` bounds it). Anything else in the
    body, a part of the wrong kind or size, or a map that does not name exactly one variable is
    ``UploadRefused``. aiohttp's part reader is driven through its public calls only."""
    try:
        reader = await request.multipart()
        operations = _json(await _field(await reader.next(), "operations", settings.max_body_bytes))
        files_map = _json(await _field(await reader.next(), "map", settings.max_body_bytes))
        part = await reader.next()
        if not isinstance(part, BodyPartReader) or not part.filename or part.name is None:
            raise UploadRefused(MALFORMED)
        content = await _bytes(part, settings.max_upload_bytes)
        if await reader.next() is not None:
            raise UploadRefused(MALFORMED)
    except (ValueError, RuntimeError, LookupError, AssertionError, TypeError) as error:  # malformed framing
        raise UploadRefused(MALFORMED) from error
    if not isinstance(operations, dict):  # a batch, or no operation at all
        raise UploadRefused(ONLY_IMPORT)
    if not isinstance(operations.get("variables") or {}, dict):
        raise UploadRefused(MALFORMED)
    if not isinstance(files_map, dict) or list(files_map) != [part.name]:
        raise UploadRefused(MALFORMED)
    paths = files_map[part.name]
    if not isinstance(paths, list) or len(paths) != 1 or not isinstance(paths[0], str):
        raise UploadRefused(MALFORMED)
    scope, _, variable = paths[0].partition(".")
    if scope != "variables" or not variable or "." in variable:
        raise UploadRefused(MALFORMED)
    variables = dict(operations.get("variables") or {})
    variables[variable] = UploadedFile(content, part.filename[:255])
    return {**operations, "variables": variables}


async def _field(part: object, name: str, limit: int) -> bytes:
    if not isinstance(part, BodyPartReader) or part.name != name or part.filename is not None:
        raise UploadRefused(MALFORMED)
    return await _bytes(part, limit)


async def _bytes(part: BodyPartReader, limit: int) -> bytes:
    """A part's raw bytes (no transfer decoding: the spec has none), refused past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk():
        size += len(chunk)
        if size > limit:
            raise UploadRefused(f"A part of the upload is over {limit} bytes.", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _json(raw: bytes) -> object:
    try:
        return decode_json(raw)
    except json.JSONDecodeError as error:
        raise UploadRefused(MALFORMED) from error
