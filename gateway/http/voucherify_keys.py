"""Voucherify keys as callers send them to the gateway: ``X-Voucherify-App-Id`` and ``X-Voucherify-App-Token``
(server keys, forwarded as Voucherify's ``X-App-Id``/``X-App-Token``), or ``X-Voucherify-Client-Id`` and
``X-Voucherify-Client-Token`` with the request's ``Origin`` (client keys, which Voucherify accepts only from
the origins a project allows, and which reach only the client-side consents).

Like ``tokens``, a refusal is one of this module's fixed texts: it never quotes what the caller sent."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from multidict import MultiMapping

from ..upstream.voucherify_wire import VoucherifyKeys

APP_ID, APP_TOKEN = "X-Voucherify-App-Id", "X-Voucherify-App-Token"
CLIENT_ID, CLIENT_TOKEN = "X-Voucherify-Client-Id", "X-Voucherify-Client-Token"
HEADERS = (APP_ID, APP_TOKEN, CLIENT_ID, CLIENT_TOKEN)
_KEY = re.compile(r"[A-Za-z0-9_\-.]{1,200}")  # Voucherify's ids and keys: letters, digits, '-', '_' (and '.')
_ORIGIN = re.compile(r"https?://[A-Za-z0-9\-.]{1,253}(:[0-9]{1,5})?")

NO_KEYS = f"Send Voucherify keys: '{APP_ID}' and '{APP_TOKEN}' (your application's server keys)."
MALFORMED = (
    "The Voucherify key headers must each appear once, with 1 to 200 letters, digits, '-', '_' or '.'; "
    "client keys also need the request's Origin header."
)
CLIENT_ONLY = (
    "Client keys reach only voucherifyCustomerConsentsUpdate; this needs server keys "
    f"('{APP_ID}' and '{APP_TOKEN}')."
)


@dataclass(frozen=True)
class VoucherifyCredentials:
    """The caller's Voucherify keys; without them, why they were refused (None: none were sent)."""

    keys: VoucherifyKeys | None = field(default=None, repr=False)  # never printed: holds a secret
    problem: str | None = None


def voucherify_credentials(headers: MultiMapping[str]) -> VoucherifyCredentials:
    """Server keys when both are sent, else client keys with the ``Origin``; a header sent twice, a value of
    other characters, or half a pair is refused rather than guessed at."""
    values = {name: headers.getall(name, []) for name in HEADERS}
    if not any(values.values()):
        return VoucherifyCredentials()
    if any(len(sent) > 1 or (sent and not _KEY.fullmatch(sent[0])) for sent in values.values()):
        return VoucherifyCredentials(problem=MALFORMED)
    app_id, app_token = values[APP_ID], values[APP_TOKEN]
    if app_id or app_token:
        if not (app_id and app_token):
            return VoucherifyCredentials(problem=MALFORMED)
        return VoucherifyCredentials(VoucherifyKeys(app_id[0], app_token[0]))
    client_id, client_token, origins = values[CLIENT_ID], values[CLIENT_TOKEN], headers.getall("Origin", [])
    if not (client_id and client_token) or len(origins) != 1 or not _ORIGIN.fullmatch(origins[0]):
        return VoucherifyCredentials(problem=MALFORMED)
    return VoucherifyCredentials(VoucherifyKeys(client_id[0], client_token[0], origin=origins[0]))
