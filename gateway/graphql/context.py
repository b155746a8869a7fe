"""What one GraphQL request carries: the caller's token, the shared clients, and fresh loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..settings import Settings
from ..upstream.polar import PolarClient
from .errors import unauthenticated
from .loaders import Loaders
from .scopes import ScopeMemory


@dataclass
class Context:
    polar_client: PolarClient
    settings: Settings
    scopes: ScopeMemory
    bearer: str | None = field(repr=False)  # never printed: a credential

    @property
    def token(self) -> str:
        """The caller's token; a GraphQL UNAUTHENTICATED error before any upstream call without one."""
        if not self.bearer:
            raise unauthenticated()
        return self.bearer

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.polar_client, self.token, self.settings, self.scopes)
