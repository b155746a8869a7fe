"""Uploads: the one request body allowed over ``max_body_bytes`` (a CSV for ``voucherifyCustomersImport``,
sent as a GraphQL multipart request), and so the one that needs its own guard at the edge.

A multipart POST is admitted, before a byte of its body is read, only when it
- carries ``Apollo-Require-Preflight`` or ``X-Apollo-Operation-Name``: a header no HTML form can send, so a
  browser must ask first (CORS preflight), as Apollo's router requires against CSRF;
- carries Voucherify server keys of the right shape (they are checked upstream; no keys, no upload);
- says its ``Content-Length`` (no chunked uploads: the length bounds what the reader keeps), at most
  ``max_upload_bytes``;
- finds one of ``max_concurrent_uploads`` slots free (else 503 at once).
The body is then read within ``body_timeout_s``, and the view accepts only an operation whose one root field
is ``voucherifyCustomersImport``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..settings import Settings
from .voucherify_keys import voucherify_credentials

PREFLIGHT_HEADERS = ("Apollo-Require-Preflight", "X-Apollo-Operation-Name")
UPLOAD_FIELD = "voucherifyCustomersImport"
NO_SERVER_KEYS = "An upload needs Voucherify server keys: 'X-Voucherify-App-Id' and 'X-Voucherify-App-Token'."
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


class UploadSlots:
    """At most ``size`` uploads read or sent at once in this process; no waiting for one."""

    def __init__(self, size: int) -> None:
        self.free = size

    def try_acquire(self) -> bool:
        if self.free <= 0:
            return False
        self.free -= 1
        return True

    def release(self) -> None:
        self.free += 1
