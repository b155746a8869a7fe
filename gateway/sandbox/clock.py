"""The sandbox's notion of now: the wall clock plus an offset that tests can move forward.

Moving the clock is how a test makes a customer session expire without waiting an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def reset(self) -> None:
        self.offset = timedelta(0)


def iso(value: datetime | None) -> str | None:
    """Polar's datetime format: ISO-8601 UTC with a ``Z`` suffix, microseconds only when set."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
