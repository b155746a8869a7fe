"""What the gateway asks of Polar, as typed records: list queries (filters and a sort) and the bodies of
creates and updates. Here, and only here, they become Polar's query parameters and JSON bodies.

An update names only what changes: a field left at ``KEEP`` is not sent, ``None`` clears it (Polar writes
only the fields a PATCH carries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .changes import KEEP, Keep
from .polar_records import Address, Json, write_address
from .transport import QueryParams

__all__ = [
    "KEEP", "CustomerCreate", "CustomerQuery", "CustomerUpdate", "Keep", "OrderQuery", "OrderUpdate", "Owner",
    "SessionCreate",
]  # fmt: skip


def sorting(key: str | None, reverse: bool) -> str:
    """No key: Polar's default, newest first. A key: ascending; ``reverse`` flips either."""
    if key is None:
        return "created_at" if reverse else "-created_at"
    return f"-{key}" if reverse else key


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    """Which customers a list holds, and in what order; every filter given must hold."""

    email: str | None = None  # exact, case-insensitive
    text: str | None = None  # part of the email, name or billing name, or the start of the external id
    active: bool | None = None  # has (or has not) a trialing, active or past-due subscription
    metadata: tuple[tuple[str, tuple[str, ...]], ...] = ()  # values of one key ORed, keys ANDed
    sort_key: str | None = None  # None: newest first
    reverse: bool = False

    def params(self) -> QueryParams:
        params: QueryParams = []
        if self.email is not None:
            params.append(("email", self.email))
        if self.text is not None:
            params.append(("query", self.text))
        if self.active is not None:
            params.append(("active", "true" if self.active else "false"))
        for key, values in self.metadata:
            params.extend((f"metadata[{key}]", value) for value in values)
        params.append(("sorting", sorting(self.sort_key, self.reverse)))
        return params


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """Which of the signed-in customer's orders a list holds, and in what order."""

    product_ids: tuple[str, ...] = ()
    billing_types: tuple[str, ...] = ()  # one_time, recurring
    subscription_ids: tuple[str, ...] = ()
    text: str | None = None  # part of the product name
    sort_key: str | None = None
    reverse: bool = False

    def params(self) -> QueryParams:
        params: QueryParams = [("product_id", i) for i in self.product_ids]
        params += [("product_billing_type", kind) for kind in self.billing_types]
        params += [("subscription_id", i) for i in self.subscription_ids]
        if self.text is not None:
            params.append(("query", self.text))
        params.append(("sorting", sorting(self.sort_key, self.reverse)))
        return params


@dataclass(frozen=True, slots=True)
class Owner:
    """The owner member of a team customer created without an email."""

    email: str
    name: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerCreate:
    type: str  # individual or team
    email: str | None = None
    external_id: str | None = None
    name: str | None = None
    billing_address: Address | None = None
    tax_id: str | None = None
    locale: str | None = None
    metadata: Any = None  # checked to be an object of pairs before it comes here
    owner: Owner | None = None

    def body(self) -> Json:
        body: Json = {"type": self.type}
        for key, value in (
            ("email", self.email),
            ("external_id", self.external_id),
            ("name", self.name),
            ("tax_id", self.tax_id),
            ("locale", self.locale),
            ("metadata", self.metadata),
        ):
            if value is not None:
                body[key] = value
        if self.billing_address is not None:
            body["billing_address"] = write_address(self.billing_address)
        if self.owner is not None:
            body["owner"] = {"email": self.owner.email, "name": self.owner.name, "external_id": self.owner.external_id}
        return body


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    email: str | Keep | None = KEEP
    name: str | Keep | None = KEEP
    billing_address: Address | Keep | None = KEEP
    tax_id: str | Keep | None = KEEP
    locale: str | Keep | None = KEEP
    metadata: Any = KEEP
    external_id: str | Keep | None = KEEP  # only while it is null
    type: str | Keep | None = KEEP  # only individual to team

    def body(self, *, by_external_id: bool = False) -> Json:
        """The PATCH body; by external id Polar's body (``CustomerUpdateExternalID``) has no external id or type."""
        changes: list[tuple[str, Any]] = [
            ("email", self.email),
            ("name", self.name),
            ("tax_id", self.tax_id),
            ("locale", self.locale),
            ("metadata", self.metadata),
        ]
        if not by_external_id:
            changes.append(("external_id", self.external_id))
        body = {key: value for key, value in changes if value is not KEEP}
        if not isinstance(self.billing_address, Keep):
            body["billing_address"] = write_address(self.billing_address)
        if not by_external_id and self.type is not KEEP:
            body["type"] = self.type
        return body


@dataclass(frozen=True, slots=True)
class SessionCreate:
    """A customer session for one customer, named by exactly one of its id or its external id."""

    customer_id: str | None = None
    external_customer_id: str | None = None
    return_url: str | None = None

    def body(self) -> Json:
        body: Json = (
            {"customer_id": self.customer_id}
            if self.customer_id is not None
            else {"external_customer_id": self.external_customer_id}
        )
        if self.return_url is not None:
            body["return_url"] = self.return_url
        return body


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    billing_name: str | Keep | None = KEEP
    billing_address: Address | Keep | None = KEEP

    def body(self) -> Json:
        body: Json = {}
        if not isinstance(self.billing_name, Keep):
            body["billing_name"] = self.billing_name
        if not isinstance(self.billing_address, Keep):
            body["billing_address"] = write_address(self.billing_address)
        return body
