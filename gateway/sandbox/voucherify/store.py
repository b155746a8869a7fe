"""One Voucherify project's customers, found by ``id`` or ``source_id`` (what every path parameter accepts)."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

from .model import Customer

_ALPHANUMERIC = string.ascii_letters + string.digits


class Project:
    def __init__(self, app_id: str, rng: random.Random) -> None:
        self.app_id = app_id
        self.customers: dict[str, Customer] = {}
        self.by_source: dict[str, str] = {}
        self._rng = rng
        self._last = datetime(2025, 1, 1, tzinfo=UTC)

    def new_id(self, prefix: str, length: int = 24) -> str:
        return prefix + "".join(self._rng.choice(_ALPHANUMERIC) for _ in range(length))

    def tick(self) -> datetime:
        """Now, but always later than the previous stamp, so ``created_at`` orders and cursors are strict."""
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # whole milliseconds, as rendered
        self._last = max(now, self._last + timedelta(milliseconds=1))
        return self._last

    def add(self, customer: Customer) -> None:
        self.customers[customer.id] = customer
        if customer.source_id is not None:
            self.by_source[customer.source_id] = customer.id
        self._last = max(self._last, customer.created_at)

    def find(self, key: str) -> Customer | None:
        """By ``id`` first, then by ``source_id`` (case-sensitive)."""
        found = self.customers.get(key)
        if found is None and key in self.by_source:
            found = self.customers.get(self.by_source[key])
        return found

    def remove(self, customer: Customer) -> None:
        del self.customers[customer.id]
        if customer.source_id is not None:
            self.by_source.pop(customer.source_id, None)
