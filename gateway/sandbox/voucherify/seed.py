"""The deterministic demo data: project Demo with ``--customers`` customers (half of them linked to a Polar
demo customer by ``source_id``) and project Other with a few, so isolation can be seen."""

from __future__ import annotations

import random
import unicodedata
from datetime import timedelta
from functools import cache

from ..seed import BASE_TIME, MAIL_DOMAINS
from ..seed import build_store as build_polar_store
from .activity import record
from .model import Customer, iso
from .store import Project

DEMO_APP_ID = "vf_sandbox_app"
DEMO_APP_TOKEN = "vf_sandbox_secret"
OTHER_APP_ID = "vf_sandbox_other_app"
OTHER_APP_TOKEN = "vf_sandbox_other_secret"
CREDENTIALS = {DEMO_APP_ID: DEMO_APP_TOKEN, OTHER_APP_ID: OTHER_APP_TOKEN}
# Client-side keys (``X-Client-Application-Id`` / ``X-Client-Token``), for the ``/client/v1`` consents call:
# an application id of their own, the token, and the project they act for. A browser sends them, so they
# are accepted only with an ``Origin`` the project allows.
DEMO_CLIENT_APP_ID = "vf_sandbox_client_app"
DEMO_CLIENT_TOKEN = "vf_sandbox_client_token"
OTHER_CLIENT_APP_ID = "vf_sandbox_other_client_app"
OTHER_CLIENT_TOKEN = "vf_sandbox_other_client_token"
CLIENT_CREDENTIALS = {
    DEMO_CLIENT_APP_ID: (DEMO_CLIENT_TOKEN, DEMO_APP_ID),
    OTHER_CLIENT_APP_ID: (OTHER_CLIENT_TOKEN, OTHER_APP_ID),
}
ALLOWED_ORIGINS = frozenset({"http://localhost:5173", "http://127.0.0.1:5173"})  # a Vite dev server
OTHER_CUSTOMERS = 8

_FIRST = ["Ada", "Björn", "Chloé", "Dmitri", "Esther", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi", "Lena"]
_LAST = ["Lovelace", "Lindqvist", "Moreau", "Petrov", "Cohen", "Haddad", "Berg", "Tanaka", "Silva", "Weber"]
_ADDRESSES = [
    {"city": "Stockholm", "country": "SE", "postal_code": "111 22", "line_1": "Drottninggatan 5"},
    {"city": "Berlin", "country": "DE", "postal_code": "10115", "line_1": "Invalidenstraße 12"},
    {"city": "New York", "state": "NY", "country": "US", "postal_code": "10001", "line_1": "123 Main St."},
]
_LANGS = ["en", "de", "sv", "fr"]


@cache
def polar_external_ids() -> tuple[str, ...]:
    """External ids of the Polar sandbox's Demo customers (its default seed), so links point at real ones."""
    store = build_polar_store()
    ids = {c.external_id for c in store.customers.values() if c.external_id and c.external_id.startswith("usr_demo_")}
    return tuple(sorted(ids))


def build_projects(customers: int = 120, seed: int = 1) -> dict[str, Project]:
    """``app_id -> Project``; the same arguments give the same data."""
    rng = random.Random(seed)
    demo = Project(DEMO_APP_ID, rng)
    linked = polar_external_ids()
    for index in range(customers):
        source_id = linked[index // 2] if index % 2 == 0 and index // 2 < len(linked) else f"crm_{index:05d}"
        demo.add(_customer(demo, index, source_id, rng))
    other = Project(OTHER_APP_ID, rng)
    for index in range(OTHER_CUSTOMERS):
        other.add(_customer(other, index, f"other_{index:05d}", rng))
    return {DEMO_APP_ID: demo, OTHER_APP_ID: other}


def _customer(project: Project, index: int, source_id: str, rng: random.Random) -> Customer:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    created = BASE_TIME + timedelta(hours=6 * index, milliseconds=index)
    customer = Customer(id=project.new_id("cust_"), created_at=created, source_id=source_id)
    customer.fields = {
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}.{index}@{rng.choice(MAIL_DOMAINS)}",
        "metadata": {"lang": rng.choice(_LANGS)},
    }
    if rng.random() < 0.5:
        customer.fields["address"] = dict(rng.choice(_ADDRESSES))
    if rng.random() < 0.3:
        customer.fields["phone"] = f"+46 70 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    orders = rng.choice([0, 0, 1, 2, 3, 5, 8, 13])
    if orders:
        amounts = [rng.randint(500, 25_000) for _ in range(orders)]
        customer.summary["orders"] = {
            "total_amount": sum(amounts),
            "total_count": orders,
            "average_amount": sum(amounts) // orders,
            "last_order_amount": amounts[-1],
            "last_order_date": iso(created + timedelta(days=orders)),
        }
    points = rng.choice([0, 0, 50, 250, 800, 1200, 4000])
    if points:
        customer.loyalty = {
            "points": points,
            "referred_customers": 0,
            "campaigns": {"Demo Loyalty": {"points": points, "referred_customers": 0}},
        }
        customer.summary["redemptions"]["loyalty_card"]["points_to_go"] = points
    record(project, customer, "customer.created", created)
    return customer


def _ascii(name: str) -> str:
    """``Björn`` -> ``bjorn``: mailbox names stay ASCII."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
