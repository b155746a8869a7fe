"""Which tokens lack the scopes of the batch list endpoints, remembered for a while per token.

Keyed by a hash of the token, so the memory holds no credential and one caller's answer is never
applied to another caller.
"""

from __future__ import annotations

import hashlib
import time


class ScopeMemory:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._lacking: dict[str, float] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def lacks_batch_scopes(self, token: str) -> bool:
        until = self._lacking.get(self._key(token))
        if until is None:
            return False
        if until < time.monotonic():
            del self._lacking[self._key(token)]
            return False
        return True

    def remember_lacking(self, token: str) -> None:
        if self.ttl > 0:
            self._lacking[self._key(token)] = time.monotonic() + self.ttl
