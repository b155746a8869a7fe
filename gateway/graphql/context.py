"""What one GraphQL request carries: the caller's token, the shared clients, and fresh loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..http.tokens import Credentials, TokenKind, token_kind
from ..settings import Settings
from ..upstream.polar import PolarClient
from .errors import ErrorCode, gateway_error, unauthenticated
from .limits import Spent
from .loaders import Loaders
from .pagination import Cursors, cursors_for
from .scopes import ScopeMemory


@dataclass
class Context:
    polar_client: PolarClient
    settings: Settings
    scopes: ScopeMemory
    credentials: Credentials  # the caller's token (never printed), or why there is none
    base_url: str = ""  # ``public_url``, for links such as the CSV export; "" makes them relative
    from_router: bool = False  # the request carries the router_secret (see federation._service)
    spent: Spent = field(default_factory=Spent)  # what this request's operations have cost (a batch shares it)

    @property
    def token(self) -> str:
        """The caller's token; a GraphQL UNAUTHENTICATED error (saying why) before any upstream call without one."""
        token = self.credentials.token
        if not token:
            raise unauthenticated(self.credentials.problem)
        return token

    @property
    def organization_token(self) -> str:
        """For the organization's fields; a customer session token is FORBIDDEN here, without a call."""
        token = self.token
        if token_kind(token) is TokenKind.CUSTOMER_SESSION:
            raise gateway_error(
                "A customer session token reaches only customerPortal fields; this field needs an "
                "organization access token.",
                ErrorCode.FORBIDDEN,
            )
        return token

    @property
    def session_token(self) -> str:
        """For customerPortal; an organization token is FORBIDDEN here, without a call."""
        token = self.token
        if token_kind(token) is not TokenKind.CUSTOMER_SESSION:
            raise gateway_error(
                "customerPortal acts as one customer: send a customer session token (polar_cst_...), "
                "which customerSessionCreate returns.",
                ErrorCode.FORBIDDEN,
            )
        return token

    @property
    def cursors(self) -> Cursors:
        """Signs and reads this deployment's cursors (``cursor_secret``, set at start-up when not configured)."""
        secret = self.settings.cursor_secret
        if secret is None:  # pragma: no cover - create_app always sets one
            raise RuntimeError("no cursor secret: build the app with create_app")
        return cursors_for(secret.get_secret_value())

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.polar_client, self.organization_token, self.settings, self.scopes)
