"""What differs between upstreams on the wire, as one record the transport is built with: the headers of
every request, how a caller's credential travels, and how a vendor's refusals read. The transport holds
everything else (timeouts, retries, the breaker, slots, deadlines) in common."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from .errors import UpstreamError


@dataclass(frozen=True)
class Wire:
    name: str  # how messages name the upstream: "Polar", "Voucherify"
    headers: Mapping[str, str]  # sent with every request
    credentials: Callable[[str], dict[str, str]]  # the caller's credential as request headers
    # A vendor's reading of a 4xx it gives a body of its own (Polar's 422, Voucherify's 400); None: the
    # transport's common mapping (401, 403, 404, 429, 5xx) decides.
    refusal: Callable[[httpx.Response], UpstreamError | None]
    retry_after: Callable[[httpx.Response], float | None]  # seconds a 429 asks to wait, when it says
    # A path as a template (``/v1/customers/{id}``) for metrics and spans: bounded labels, no customer data.
    route: Callable[[str], str]
    # Whether a 404 is the vendor's own "no such resource", which it gives only once it has accepted the
    # credential (a bad one is 401 first): that proves the credential as a success does. A bare 404 (a proxy's)
    # proves nothing.
    found_nothing: Callable[[httpx.Response], bool] = lambda response: False


def retry_after_header(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (RFC 9110 also allows a date; neither vendor sends one)."""
    try:
        seconds = float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None
    return seconds if seconds >= 0 else None
