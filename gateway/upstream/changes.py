"""The sentinel of partial updates, shared by every vendor's requests: a field at ``KEEP`` is not sent, so
the upstream keeps it; ``None`` is sent, and clears it."""

from __future__ import annotations

from enum import Enum


class Keep(Enum):
    KEEP = "keep"


KEEP = Keep.KEEP  # an update leaves this field as it is
