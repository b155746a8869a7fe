"""All the sandbox's records, with the indexes its handlers need, for one seed.

Uniqueness of email (case-insensitive) and external id holds among live customers of an
organization; the indexes below are what the 422 conflicts are checked against.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .model import (
    Benefit,
    BenefitGrant,
    Customer,
    CustomerMeter,
    CustomerSession,
    Meter,
    Order,
    Organization,
    Price,
    Product,
    Subscription,
    Token,
    WebhookEndpoint,
)


@dataclass
class Store:
    organizations: dict[str, Organization] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    prices: dict[str, Price] = field(default_factory=dict)
    benefits: dict[str, Benefit] = field(default_factory=dict)
    meters: dict[str, Meter] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    grants: dict[str, BenefitGrant] = field(default_factory=dict)
    customer_meters: dict[str, CustomerMeter] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    sessions: dict[str, CustomerSession] = field(default_factory=dict)
    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    customers_by_org: dict[str, list[Customer]] = field(default_factory=lambda: defaultdict(list))
    subscriptions_by_customer: dict[str, list[Subscription]] = field(default_factory=lambda: defaultdict(list))
    grants_by_customer: dict[str, list[BenefitGrant]] = field(default_factory=lambda: defaultdict(list))
    meters_by_customer: dict[str, list[CustomerMeter]] = field(default_factory=lambda: defaultdict(list))
    orders_by_customer: dict[str, list[Order]] = field(default_factory=lambda: defaultdict(list))
    _by_email: dict[tuple[str, str], str] = field(default_factory=dict)
    _by_external_id: dict[tuple[str, str], str] = field(default_factory=dict)
    _positions: dict[str, int] = field(default_factory=dict)

    def _inserted(self, record_id: str) -> None:
        self._positions.setdefault(record_id, len(self._positions))

    def position(self, record_id: str) -> int:
        """The record's place in insertion (creation) order: the order rows that tie in a sort come in."""
        return self._positions[record_id]

    # Customers -------------------------------------------------------------------------------

    def add_customer(self, customer: Customer) -> None:
        self._inserted(customer.id)
        self.customers[customer.id] = customer
        self.customers_by_org[customer.organization_id].append(customer)
        self.index_customer(customer)

    def index_customer(self, customer: Customer) -> None:
        if customer.deleted_at is not None:
            return
        if customer.email is not None:
            self._by_email[(customer.organization_id, customer.email.lower())] = customer.id
        if customer.external_id is not None:
            self._by_external_id[(customer.organization_id, customer.external_id)] = customer.id

    def unindex_customer(self, customer: Customer) -> None:
        if customer.email is not None:
            self._by_email.pop((customer.organization_id, customer.email.lower()), None)
        if customer.external_id is not None:
            self._by_external_id.pop((customer.organization_id, customer.external_id), None)

    def live_customer(self, organization_id: str, customer_id: str) -> Customer | None:
        """A customer of the organization that is not deleted: anything else is a 404."""
        customer = self.customers.get(customer_id)
        if customer is None or customer.organization_id != organization_id or customer.deleted_at is not None:
            return None
        return customer

    def customer_by_external_id(self, organization_id: str, external_id: str) -> Customer | None:
        customer_id = self._by_external_id.get((organization_id, external_id))
        return None if customer_id is None else self.live_customer(organization_id, customer_id)

    def email_owner(self, organization_id: str, email: str) -> str | None:
        return self._by_email.get((organization_id, email.lower()))

    def external_id_owner(self, organization_id: str, external_id: str) -> str | None:
        return self._by_external_id.get((organization_id, external_id))

    def live_customers(self, organization_id: str) -> list[Customer]:
        return [c for c in self.customers_by_org.get(organization_id, ()) if c.deleted_at is None]

    # Billing records -------------------------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> None:
        self._inserted(subscription.id)
        self.subscriptions[subscription.id] = subscription
        self.subscriptions_by_customer[subscription.customer_id].append(subscription)

    def add_grant(self, grant: BenefitGrant) -> None:
        self._inserted(grant.id)
        self.grants[grant.id] = grant
        self.grants_by_customer[grant.customer_id].append(grant)

    def add_customer_meter(self, meter: CustomerMeter) -> None:
        self._inserted(meter.id)
        self.customer_meters[meter.id] = meter
        self.meters_by_customer[meter.customer_id].append(meter)

    def add_order(self, order: Order) -> None:
        self._inserted(order.id)
        self.orders[order.id] = order
        self.orders_by_customer[order.customer_id].append(order)

    def organization_of_product(self, product_id: str) -> Organization:
        return self.organizations[self.products[product_id].organization_id]
