"""``extensions.cache { hits misses }`` on each response (setting ``cache_extensions``, off by default): how
many of this request's reads the cache answered, and how many went upstream. A batch shares one count."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from ..cache.records import Tally


class CacheReport(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        tally = getattr(self.execution_context.context, "cache_tally", None)
        if not isinstance(tally, Tally):
            return {}
        return {"cache": {"hits": tally.hits, "misses": tally.misses}}
