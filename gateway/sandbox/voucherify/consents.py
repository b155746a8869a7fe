"""The deprecated consents call, server side and client side: ``{cnst_…: bool}`` or ``{"unsubscribed": true}``,
204 on success. The customer schema never had a consents field, so they are kept but not rendered."""

from __future__ import annotations

import json

from aiohttp import web

from .errors import invalid_payload, not_found
from .state import project_of


async def update_consents(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise invalid_payload("The payload is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_payload("The payload must be a JSON object")
    if not body:
        raise invalid_payload("The payload cannot be empty")
    for key, value in body.items():
        if not isinstance(value, bool) or (key != "unsubscribed" and not key.startswith("cnst_")):
            raise invalid_payload(f"Property .{key} must be a consent id (cnst_…) or unsubscribed, with a boolean")
    key = request.match_info["customer_id"]
    customer = project_of(request).find(key)
    if customer is None:
        raise not_found("customer", key)
    if body.pop("unsubscribed", False):
        customer.consents = dict.fromkeys(customer.consents, False)
    customer.consents.update(body)
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    return [
        web.put("/v1/customers/{customer_id}/consents", update_consents),
        web.put("/client/v1/customers/{customer_id}/consents", update_consents),
    ]
