"""The names the cache files things under: keyed digests, so that no token, id or external id (which may be
an email) is written to Redis or kept in a table as itself.

The key is derived from ``cursor_secret``, which every instance of a deployment shares already: instances
then agree on the names, and nobody without the secret can tell whose entry is whose."""

from __future__ import annotations

import hashlib
import hmac

DIGEST_CHARS = 32  # 128 bits, in hex


class Names:
    def __init__(self, deployment_secret: str) -> None:
        self._key = hmac.new(deployment_secret.encode(), b"customer-gateway cache names", hashlib.sha256).digest()

    def _digest(self, *parts: str) -> str:
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
