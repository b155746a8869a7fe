"""Deterministic demo data: the same ``--seed`` and ``--customers`` always build the same store.

Organization "Demo" gets the requested number of customers, "Other" a dozen of its own. Every
subscription status occurs, most subscriptions are active or trialing, grants are granted or
revoked with their subscription, and metered products give customers meters.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from .model import (
    ACTIVE_STATUSES,
    Benefit,
    BenefitGrant,
    Customer,
    CustomerMeter,
    Metadata,
    Meter,
    Order,
    OrderItem,
    Organization,
    Price,
    Product,
    SeatTier,
    Subscription,
    SubscriptionMeterUsage,
    Token,
)
from .store import Store

ALL_SCOPES = frozenset(
    {
        "customers:read",
        "customers:write",
        "customer_sessions:write",
        "subscriptions:read",
        "subscriptions:write",
        "benefits:read",
        "benefits:write",
        "customer_meters:read",
        "orders:read",
        "products:read",
        "meters:read",
        "webhooks:read",
        "webhooks:write",
    }
)
DEMO_TOKEN = "polar_oat_sandbox_demo"
DEMO_READ_TOKEN = "polar_oat_sandbox_demo_read"
DEMO_WEBHOOKS_READ_TOKEN = "polar_oat_sandbox_demo_webhooks_read"  # lists webhook endpoints, changes none
OTHER_TOKEN = "polar_oat_sandbox_other"
OTHER_CUSTOMERS = 12
BASE_TIME = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
MAIL_DOMAINS = ("gmail.com", "outlook.com", "proton.me", "fastmail.com")
"""Domains that accept mail, as Polar's DNS check requires. The local parts are fictional: the organization's
slug, a first and a last name of computing pioneers drawn at random, and the customer's number
(``demo.guido.torvalds.249@fastmail.com``)."""

_FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Radia",
    "Tim",
    "Frances",
    "Edsger",
    "Donald",
    "Hedy",
    "Guido",
    "Anita",
]
_LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Perlman",
    "Berners-Lee",
    "Allen",
    "Dijkstra",
]
_COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Vandelay",
]
_ADDRESSES: list[tuple[dict[str, str | None], str | None]] = [
    (
        {
            "line1": "1 Main St",
            "line2": None,
            "postal_code": "94107",
            "city": "San Francisco",
            "state": "US-CA",
            "country": "US",
        },
        "911144442",
    ),
    (
        {
            "line1": "5 Rue de Rivoli",
            "line2": "Bât. B",
            "postal_code": "75001",
            "city": "Paris",
            "state": None,
            "country": "FR",
        },
        "FR61954506077",
    ),
    (
        {
            "line1": "Unter den Linden 7",
            "line2": None,
            "postal_code": "10117",
            "city": "Berlin",
            "state": None,
            "country": "DE",
        },
        "DE136695976",
    ),
    (
        {
            "line1": "10 Downing St",
            "line2": None,
            "postal_code": "SW1A 2AA",
            "city": "London",
            "state": None,
            "country": "GB",
        },
        "GB980780684",
    ),
    (
        {
            "line1": "1 Rue Saint-Jean",
            "line2": None,
            "postal_code": "G1R 1N3",
            "city": "Québec",
            "state": "CA-QC",
            "country": "CA",
        },
        None,
    ),
    (
        {
            "line1": "Drottninggatan 1",
            "line2": None,
            "postal_code": "111 51",
            "city": "Stockholm",
            "state": None,
            "country": "SE",
        },
        "SE556188840401",
    ),
]
_TAX_FORMATS = {"US": "us_ein", "GB": "gb_vat"}
_LOCALES = ["en", "en-US", "fr", "de", "sv-SE", None]
_PLANS = ["free", "starter", "pro", "enterprise"]
# Weighted so that a good share is active or trialing; the first eight cover every status.
_STATUSES = ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"]
_STATUS_WEIGHTS = [4, 3, 15, 48, 7, 15, 4, 4]
_CANCELLATION_REASONS = ["too_expensive", "missing_features", "switched_service", "unused", "other"]


class _Ids:
    """uuid4 values drawn from the seeded generator, so ids repeat across runs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def build_store(customers: int = 250, seed: int = 1) -> Store:
    rng = random.Random(seed)
    new_id = _Ids(rng)
    store = Store()
    demo = Organization(new_id(), "Demo", "demo", BASE_TIME - timedelta(days=60))
    other = Organization(new_id(), "Other", "other", BASE_TIME - timedelta(days=30))
    for organization in (demo, other):
        store.organizations[organization.id] = organization
    store.tokens[DEMO_TOKEN] = Token(DEMO_TOKEN, demo.id, ALL_SCOPES)
    store.tokens[DEMO_READ_TOKEN] = Token(DEMO_READ_TOKEN, demo.id, frozenset({"customers:read"}))
    store.tokens[DEMO_WEBHOOKS_READ_TOKEN] = Token(DEMO_WEBHOOKS_READ_TOKEN, demo.id, frozenset({"webhooks:read"}))
    store.tokens[OTHER_TOKEN] = Token(OTHER_TOKEN, other.id, ALL_SCOPES)
    _populate(store, demo, customers, rng, new_id)
    _populate(store, other, OTHER_CUSTOMERS, rng, new_id)
    return store


def _populate(store: Store, org: Organization, count: int, rng: random.Random, new_id: _Ids) -> None:
    catalog_time = org.created_at + timedelta(days=1)
    meters = [
        Meter(new_id(), org.id, "API calls", "api_call", catalog_time),
        Meter(new_id(), org.id, "Storage (GB)", "storage", catalog_time + timedelta(minutes=5)),
    ]
    for meter in meters:
        store.meters[meter.id] = meter
    benefits = [
        Benefit(
            new_id(),
            org.id,
            "custom",
            "Priority support",
            catalog_time,
            {"note": "Answer within 4 hours"},
            {"tier": "gold"},
        ),
        Benefit(new_id(), org.id, "feature_flag", "Beta features", catalog_time, {}, {"flag": "beta"}),
        Benefit(
            new_id(),
            org.id,
            "license_keys",
            "License key",
            catalog_time,
            {"prefix": org.slug.upper(), "expires": None, "activations": None, "limit_usage": None},
        ),
        Benefit(
            new_id(),
            org.id,
            "meter_credit",
            "Monthly API credits",
            catalog_time,
            {"units": 1000, "rollover": False, "meter_id": meters[0].id},
        ),
    ]
    for benefit in benefits:
        store.benefits[benefit.id] = benefit
    products = [
        _product(store, new_id, org, "Starter", "For individuals", "month", 900, [benefits[0]], catalog_time),
        _product(
            store,
            new_id,
            org,
            "Pro",
            "Metered API access",
            "month",
            2900,
            [benefits[0], benefits[3]],
            catalog_time,
        ),
        _product(
            store,
            new_id,
            org,
            "Team",
            "For teams, billed yearly",
            "year",
            29000,
            [benefits[0], benefits[1]],
            catalog_time,
        ),
        _product(store, new_id, org, "Lifetime", "One payment, forever", None, 19900, [benefits[2]], catalog_time),
    ]
    _more_prices(store, products, meters[0])
    recurring = products[:3]
    moment = BASE_TIME
    for index in range(count):
        moment += timedelta(
            minutes=rng.randint(20, 600), seconds=rng.randint(0, 59), microseconds=rng.randint(0, 999_999)
        )
        customer = _customer(org, index, moment, rng, new_id)
        store.add_customer(customer)
        for number in range(rng.choice([0, 1, 1, 1, 1, 2, 2, 3])):
            status = _STATUSES[index % 8] if index < 8 and number == 0 else rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
            _subscribe(store, new_id, rng, customer, rng.choice(recurring), status, meters, moment)
        if rng.random() < 0.15:
            _buy_once(store, new_id, customer, products[3], moment + timedelta(days=rng.randint(1, 90)))


def _product(
    store: Store,
    new_id: _Ids,
    org: Organization,
    name: str,
    description: str,
    interval: str | None,
    amount: int,
    benefits: list[Benefit],
    at: datetime,
) -> Product:
    product_id = new_id()
    price = Price(new_id(), product_id, amount, "usd", at)
    product = Product(product_id, org.id, name, description, interval, at, [price], [b.id for b in benefits])
    store.products[product.id] = product
    store.prices[price.id] = price
    return product


def _more_prices(store: Store, products: list[Product], api_calls: Meter) -> None:
    """A price of each other kind after each product's fixed one (which subscriptions and orders use): a
    metered API price on Pro, seats on Team, pay-what-you-want on Lifetime. Their ids come from a generator
    of their own, so adding them changed no other id of the seed."""
    _starter, pro, team, lifetime = products
    new_id = _Ids(random.Random(f"prices of {pro.id}"))
    extra = [
        Price(new_id(), pro.id, 0, "usd", pro.created_at, "metered_unit", unit_amount="0.5", cap_amount=50_000,
              meter_id=api_calls.id),
        Price(new_id(), team.id, 1500, "usd", team.created_at, "seat_based",
              seat_tiers=[SeatTier(1, 10, 1500), SeatTier(11, None, 1200)]),
        Price(new_id(), lifetime.id, 19900, "usd", lifetime.created_at, "custom", minimum_amount=19900,
              preset_amount=24900),
    ]  # fmt: skip
    for price in extra:
        store.products[price.product_id].prices.append(price)
        store.prices[price.id] = price


def _customer(org: Organization, index: int, at: datetime, rng: random.Random, new_id: _Ids) -> Customer:
    team = rng.random() < 0.15
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    domain = MAIL_DOMAINS[index % len(MAIL_DOMAINS)]  # not drawn from rng: every other value stays as it was
    if team:
        company = f"{rng.choice(_COMPANIES)} {index}"
        name: str | None = company
        email = f"{org.slug}.billing.{index}@{domain}" if rng.random() < 0.6 else None
        owner_email: str | None = f"{org.slug}.{first.lower()}.{index}@{domain}"
    else:
        name = f"{first} {last}" if rng.random() < 0.9 else None
        email = f"{org.slug}.{first.lower()}.{last.lower()}.{index}@{domain}"
        owner_email = None
    customer = Customer(
        id=new_id(),
        organization_id=org.id,
        created_at=at,
        type="team" if team else "individual",
        email=email,
        name=name,
        owner_email=owner_email,
        email_verified=rng.random() < 0.5,
        external_id=f"usr_{org.slug}_{index:05d}" if rng.random() < 0.7 else None,
        locale=rng.choice(_LOCALES),
    )
    if rng.random() < 0.6:
        metadata: Metadata = {"plan": rng.choice(_PLANS), "seats": rng.randint(1, 50)}
        if rng.random() < 0.3:
            metadata["vip"] = True
        if rng.random() < 0.2:
            metadata["ratio"] = round(rng.random(), 2)
        customer.metadata = metadata
    if rng.random() < 0.5:
        address, tax_number = rng.choice(_ADDRESSES)
        customer.billing_address = dict(address)
        if team and name:
            customer.billing_name = f"{name} Inc."
        if tax_number is not None and rng.random() < 0.6:
            customer.tax_id = (
                tax_number if address["country"] != "GB" else tax_number[2:],
                _TAX_FORMATS.get(str(address["country"]), "eu_vat"),
            )
    if rng.random() < 0.3:
        customer.modified_at = at + timedelta(days=rng.randint(1, 20))
    return customer


def _subscribe(
    store: Store,
    new_id: _Ids,
    rng: random.Random,
    customer: Customer,
    product: Product,
    status: str,
    meters: list[Meter],
    after: datetime,
) -> None:
    created = after + timedelta(hours=rng.randint(1, 24 * 60), microseconds=rng.randint(0, 999_999))
    period = timedelta(days=365 if product.recurring_interval == "year" else 30)
    price = product.prices[0]
    subscription = Subscription(
        id=new_id(),
        customer_id=customer.id,
        product_id=product.id,
        price_id=price.id,
        status=status,
        amount=price.amount,
        currency=price.currency,
        recurring_interval=product.recurring_interval or "month",
        created_at=created,
        current_period_start=created,
        current_period_end=created + period,
        started_at=None if status == "incomplete" else created,
        metadata={"source": "seed"} if rng.random() < 0.3 else {},
    )
    if status == "trialing":
        subscription.trial_start, subscription.trial_end = created, created + timedelta(days=14)
    if status in {"canceled", "incomplete_expired"}:
        subscription.canceled_at = created + timedelta(days=rng.randint(1, 25))
        subscription.ended_at = subscription.ends_at = subscription.current_period_end
        subscription.customer_cancellation_reason = rng.choice(_CANCELLATION_REASONS)
    if status == "active" and rng.random() < 0.15:
        subscription.cancel_at_period_end = True
        subscription.canceled_at = created + timedelta(days=3)
        subscription.ends_at = subscription.current_period_end
    if product.name == "Pro":
        for meter in meters:
            consumed = float(rng.randint(0, 1500))
            subscription.meters.append(
                SubscriptionMeterUsage(
                    new_id(),
                    meter.id,
                    created,
                    consumed,
                    1000 if meter.event_name == "api_call" else 0,
                    max(0, int(consumed) - 1000) * 2,
                )
            )
            if status in ACTIVE_STATUSES and not any(
                m.meter_id == meter.id for m in store.meters_by_customer.get(customer.id, [])
            ):
                store.add_customer_meter(
                    CustomerMeter(
                        new_id(),
                        customer.id,
                        meter.id,
                        created,
                        created + timedelta(days=rng.randint(0, 9)),
                        consumed,
                        1000 if meter.event_name == "api_call" else 0,
                    )
                )
    store.add_subscription(subscription)
    if subscription.started_at is None:
        return
    order = _order(store, new_id, customer, product, subscription.id, created, "subscription_create")
    revoked = status not in ACTIVE_STATUSES and status != "past_due"
    for benefit_id in product.benefit_ids:
        benefit = store.benefits[benefit_id]
        grant_properties = (
            {"license_key_id": new_id(), "display_key": "****-" + new_id()[:6]}
            if benefit.type == "license_keys"
            else {}
        )
        store.add_grant(
            BenefitGrant(
                new_id(),
                customer.id,
                benefit_id,
                created,
                created,
                grant_properties,
                subscription_id=subscription.id,
                order_id=order.id,
                revoked_at=subscription.canceled_at or created + timedelta(days=20) if revoked else None,
            )
        )


def _buy_once(store: Store, new_id: _Ids, customer: Customer, product: Product, at: datetime) -> None:
    order = _order(store, new_id, customer, product, None, at, "purchase")
    for benefit_id in product.benefit_ids:
        store.add_grant(
            BenefitGrant(
                new_id(),
                customer.id,
                benefit_id,
                at,
                at,
                {"license_key_id": new_id(), "display_key": "****-" + new_id()[:6]},
                order_id=order.id,
            )
        )


def _order(
    store: Store,
    new_id: _Ids,
    customer: Customer,
    product: Product,
    subscription_id: str | None,
    at: datetime,
    reason: str,
) -> Order:
    price = product.prices[0]
    tax = price.amount // 5 if customer.billing_address else 0
    number = len(store.orders) + 1
    order = Order(
        id=new_id(),
        customer_id=customer.id,
        product_id=product.id,
        subscription_id=subscription_id,
        created_at=at,
        status="paid",
        billing_reason=reason,
        subtotal_amount=price.amount,
        tax_amount=tax,
        currency=price.currency,
        billing_name=customer.billing_name or customer.name,
        billing_address=dict(customer.billing_address) if customer.billing_address else None,
        invoice_number=f"{customer.organization_id[:4].upper()}-{number:05d}",
        items=[OrderItem(new_id(), at, product.name, price.amount, tax, price.id)],
    )
    store.add_order(order)
    return order
