"""Voucherify's error body: ``{code, key, message, details, request_id}`` plus, for 404, the resource."""

from __future__ import annotations

from typing import Any


class VoucherifyError(Exception):
    """Raised by a handler; the middleware turns it into the JSON body Voucherify sends."""

    def __init__(self, status: int, key: str, message: str, details: str, **extra: str) -> None:
        super().__init__(details)
        self.status = status
        self.key = key
        self.message = message
        self.details = details
        self.extra = extra

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "code": self.status,
            "key": self.key,
            "message": self.message,
            "details": self.details,
            "request_id": request_id,
            **self.extra,
        }


def unauthorized() -> VoucherifyError:
    return VoucherifyError(401, "unauthorized", "Unauthorized", "Missing or invalid X-App-Id / X-App-Token")


def not_found(resource_type: str, resource_id: str) -> VoucherifyError:
    return VoucherifyError(
        404,
        "not_found",
        "Resource not found",
        f"Cannot find {resource_type} with id {resource_id}",
        resource_id=resource_id,
        resource_type=resource_type,
    )


def route_not_found(path: str) -> VoucherifyError:
    return VoucherifyError(404, "not_found", "Resource not found", f"Cannot find route {path}")


def method_not_allowed(method: str, path: str) -> VoucherifyError:
    return VoucherifyError(405, "method_not_allowed", "Method not allowed", f"{method} is not allowed on {path}")


def invalid_payload(details: str) -> VoucherifyError:
    return VoucherifyError(400, "invalid_payload", "Invalid payload", details)


def invalid_query(details: str) -> VoucherifyError:
    return VoucherifyError(400, "invalid_query_params", "Invalid query params", details)
