"""Whether an upstream accepted a request's credentials lately: Polar its token, or Voucherify its keys, within
``token_trust_s`` (``upstream.trust``). Whatever a request may leave behind for later requests (an automatic
persisted query, a client's name in the metrics) is kept only for such callers: a made-up token can leave
nothing that pushes a real caller's out."""

from __future__ import annotations

from aiohttp import web

from ..upstream.budget import caller_key
from ..upstream.transport import UNPROVEN
from .keys import TRANSPORT, VOUCHERIFY_CLIENT
from .tokens import credentials
from .voucherify_keys import voucherify_credentials


def credentials_proven(request: web.Request) -> bool:
    token = credentials(request.headers).token
    if token is not None and TRANSPORT in request.app and request.app[TRANSPORT].trust.accepted(caller_key(token)):
        return True
    keys = voucherify_credentials(request.headers).keys
    client = request.app.get(VOUCHERIFY_CLIENT)
    return keys is not None and client is not None and client.caller_of(keys) != UNPROVEN
