"""Voucherify's customers, cached per key pair with a TTL only (setting ``voucherify_cache_ttl_s``, off by
default): Voucherify's webhooks are not received, so a change made elsewhere shows when the entry ends.
Writes through the gateway invalidate at once. Entries are found by the loader's own keys (an id or a
source id, told apart by their prefix) and are about both the id and the source id of their customer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter

from ..upstream import voucherify_records as records
from ..upstream.errors import UpstreamNotFound, UpstreamUnauthorized
from .records import Found, Keep, Kind, RecordCache, Tally
from .store import Stamp

CUSTOMER = Kind("voucherify_customer", TypeAdapter(records.Customer))


def customer_labels(customer_id: str | None, source_id: str | None) -> list[str]:
    labels = [f"voucherify:customer:{customer_id}"] if customer_id is not None else []
    return labels + ([f"voucherify:source:{source_id}"] if source_id is not None else [])


class VoucherifyCache:
    def __init__(self, cache: RecordCache) -> None:
        self.cache = cache

    async def customers(self, credential: str, keys: Sequence[str], tally: Tally) -> Found[records.Customer]:
        return await self.cache.lookup(credential, CUSTOMER, keys, tally)

    async def keep_customers(
        self, credential: str, stamp: Stamp | None, found: Mapping[str, records.Customer], answers: Sequence[object]
    ) -> None:
        """``found``: each customer by every key it can be looked up by; ``answers``: all the calls' outcomes."""
        if any(isinstance(answer, UpstreamUnauthorized) for answer in answers):
            await self.cache.refused(credential)
            return
        kept: list[Keep[Any]] = [
            Keep(CUSTOMER, key, customer, customer_labels(customer.id, customer.source_id))
            for key, customer in found.items()
        ]
        accepted = bool(kept) or any(isinstance(a, UpstreamNotFound) and a.looked_up for a in answers)
        await self.cache.keep(credential, stamp, kept, accepted)

    async def written(self, customer_id: str | None, source_id: str | None) -> None:
        """After a write through the gateway, whatever its outcome: before the caller has its answer."""
        await self.cache.invalidate_quietly(customer_labels(customer_id, source_id), "write")

    async def sources_written(self, source_ids: Sequence[str]) -> None:
        """Bulk work scheduled: Voucherify applies it later, within a TTL as far as this cache is concerned."""
        labels = [label for source_id in source_ids for label in customer_labels(None, source_id)]
        await self.cache.invalidate_quietly(labels, "write", ahead_s=self.cache.lifetimes.ttl_s)
