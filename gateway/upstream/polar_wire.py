"""Polar on the wire: a bearer token, the dated API version, and 422 answers with pydantic's ``detail``."""

from __future__ import annotations

from typing import Any

import httpx

from ..observability.metrics import route_template
from .errors import UpstreamError, UpstreamValidation
from .problems import read_problems
from .wire import Wire, retry_after_header


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refusal(response: httpx.Response) -> UpstreamError | None:
    if response.status_code != 422:
        return None
    return UpstreamValidation(read_problems(_details(response)))


def _details(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    details = body.get("detail") if isinstance(body, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _found_nothing(response: httpx.Response) -> bool:
    """Polar's own 404 for a resource it looked up: ``{"error": "ResourceNotFound", "detail": ...}``."""
    if response.status_code != 404:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "ResourceNotFound"


POLAR = Wire(
    name="Polar",
    headers={"Polar-Version": "2026-10", "Accept": "application/json"},
    credentials=_bearer,
    refusal=_refusal,
    retry_after=retry_after_header,
    route=route_template,
    found_nothing=_found_nothing,
)
