"""Every ``web.AppKey`` of the gateway's application, in one place: what ``create_app`` puts on the app and
the handlers read back. The value types are imported for type checking only, so the edge depends on nothing
it names here at run time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..cache.service import Caches
    from ..graphql.scopes import ScopeMemory
    from ..live.service import Live
    from ..persisted.documents import PersistedDocuments
    from ..settings import Settings
    from ..upstream.polar import PolarClient
    from ..upstream.slots import FairSlots
    from ..upstream.transport import Transport
    from ..upstream.voucherify import VoucherifyClient

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
POLAR_CLIENT: web.AppKey[PolarClient] = web.AppKey("polar_client")
TRANSPORT: web.AppKey[Transport] = web.AppKey("transport")  # the API's pool, which /readyz probes
VOUCHERIFY_CLIENT: web.AppKey[VoucherifyClient] = web.AppKey("voucherify_client")  # unset: none configured
SCOPES: web.AppKey[ScopeMemory] = web.AppKey("scopes")
GRAPHIQL_TOKEN: web.AppKey[str] = web.AppKey("graphiql_token")  # pre-filled in GraphiQL; unset: a placeholder
# Voucherify's demo keys (app id, token), pre-filled in GraphiQL as the gateway's headers; unset: none.
GRAPHIQL_VOUCHERIFY_KEYS: web.AppKey[tuple[str, str]] = web.AppKey("graphiql_voucherify_keys")
GRAPHIQL_ASSETS: web.AppKey[Path] = web.AppKey("graphiql_assets")
UPLOAD_SLOTS: web.AppKey[FairSlots] = web.AppKey("upload_slots")  # one per caller; unproven keys share one
LIVE: web.AppKey[Live] = web.AppKey("live")  # webhooks in, subscribers, the bus (gateway.live.service)
CACHE: web.AppKey[Caches] = web.AppKey("cache")  # upstream reads kept (gateway.cache.service); unset: off
# Automatic persisted queries and trusted documents (gateway.persisted.service)
PERSISTED: web.AppKey[PersistedDocuments] = web.AppKey("persisted")
