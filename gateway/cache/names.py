"""The names the cache files things under: keyed digests, so that no token, id or external id (which may be
an email) is written to Redis or kept in a table as itself.

Every instance sharing a store must use the same key: in process it is made at start-up; in Redis it is kept
in Redis itself (``redis_store.NAMES_KEY``, made once by the first instance), so instances agree without a
setting. Until it is known (Redis unreachable at start-up) nothing can be named, and the cache is a miss."""

from __future__ import annotations

import hashlib
import hmac

from .store import DIGEST_CHARS, CacheUnavailable

__all__ = ["DIGEST_CHARS", "Names"]


class Names:
    def __init__(self, secret: str | None) -> None:
        self._key: bytes | None = None
        self.secret: str | None = None  # what the key is made from, to put back in a store that lost it
        if secret is not None:
            self.use(secret)

    def use(self, secret: str) -> None:
        self.secret = secret
        self._key = hmac.new(secret.encode(), b"customer-gateway cache names", hashlib.sha256).digest()

    @property
    def ready(self) -> bool:
        return self._key is not None

    def _digest(self, *parts: str) -> str:
        if self._key is None:
            raise CacheUnavailable("the cache's naming key is not known yet")
        return hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()[:DIGEST_CHARS]

    def caller(self, upstream: str, credential: str) -> str:
        """Whose entries: one upstream's credential (a Polar token; Voucherify's app id and token)."""
        return self._digest("caller", upstream, credential)

    def entry(self, kind: str, key: str) -> str:
        """What an entry holds: a kind of record and the key it was looked up by."""
        return self._digest("entry", kind, key)

    def subject(self, label: str) -> str:
        """What a change is about (``polar:customer:<id>``): invalidated together, under every caller."""
        return self._digest("subject", label)
