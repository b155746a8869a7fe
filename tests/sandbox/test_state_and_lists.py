"""``/state`` equals what the three batch lists give, for every seeded customer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx

from tests.sandbox.helpers import all_pages

BATCH = 100
_SUBSCRIPTION_STATE_KEYS = [
    "id", "created_at", "modified_at", "custom_field_data", "metadata", "status", "amount", "currency",
    "recurring_interval", "current_period_start", "current_period_end", "trial_start", "trial_end",
    "cancel_at_period_end", "canceled_at", "started_at", "ends_at", "product_id", "discount_id",
]  # fmt: skip


def _rebuild_states(client: httpx.Client, customer_ids: list[str]) -> dict[str, dict[str, list[Any]]]:
    """The mapping a gateway applies: three list calls per hundred customers, following pages."""
    states: dict[str, dict[str, list[Any]]] = defaultdict(
        lambda: {"active_subscriptions": [], "granted_benefits": [], "active_meters": []}
    )
    for start in range(0, len(customer_ids), BATCH):
        ids: list[tuple[str, str | int]] = [("customer_id", i) for i in customer_ids[start : start + BATCH]]
        for s in all_pages(client, "/v1/subscriptions/", [*ids, ("status", "active"), ("status", "trialing")]):
            item = {key: s[key] for key in _SUBSCRIPTION_STATE_KEYS}
            item["price_id"] = s["prices"][0]["id"]
            item["meters"] = [{k: v for k, v in m.items() if k != "meter"} for m in s["meters"]]
            states[s["customer_id"]]["active_subscriptions"].append(item)
        for g in all_pages(client, "/v1/benefit-grants/", [*ids, ("is_granted", "true")]):
            states[g["customer_id"]]["granted_benefits"].append({
                "id": g["id"], "created_at": g["created_at"], "modified_at": g["modified_at"],
                "granted_at": g["granted_at"], "benefit_id": g["benefit_id"], "benefit_type": g["benefit"]["type"],
                "benefit_metadata": g["benefit"]["metadata"], "properties": g["properties"],
            })  # fmt: skip
        for m in all_pages(client, "/v1/customer-meters/", ids):
            states[m["customer_id"]]["active_meters"].append(
                {k: v for k, v in m.items() if k not in {"customer", "meter", "customer_id"}}
            )
    return states


def _comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(sorted(item.items())) for item in items]


def test_state_equals_the_three_lists_for_every_customer(demo: httpx.Client) -> None:
    customers = all_pages(demo, "/v1/customers/")
    rebuilt = _rebuild_states(demo, [c["id"] for c in customers])
    non_empty = 0
    for customer in customers:
        state = demo.get(f"/v1/customers/{customer['id']}/state").json()
        assert {k: v for k, v in state.items() if k in customer} == customer
        for key in ("active_subscriptions", "granted_benefits", "active_meters"):
            assert _comparable(state[key]) == _comparable(rebuilt[customer["id"]][key]), (customer["id"], key)
            non_empty += bool(state[key])
    assert non_empty > 100  # the comparison is not between empty lists


def test_seed_covers_every_subscription_status_mostly_active(demo: httpx.Client) -> None:
    subscriptions = all_pages(demo, "/v1/subscriptions/")
    statuses = [s["status"] for s in subscriptions]
    expected = {"incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"}
    assert expected <= set(statuses)  # "incomplete" never started, so the list leaves it out
    assert all(s["started_at"] is not None for s in subscriptions)
    assert sum(s in {"active", "trialing"} for s in statuses) / len(statuses) > 0.5
    grants = all_pages(demo, "/v1/benefit-grants/")
    assert {g["is_granted"] for g in grants} == {True, False}
    assert all_pages(demo, "/v1/customer-meters/")


def test_list_filters_and_sorts(demo: httpx.Client) -> None:
    canceled = all_pages(demo, "/v1/subscriptions/", [("status", "canceled")])
    assert canceled
    assert {s["status"] for s in canceled} == {"canceled"}
    by_amount = all_pages(demo, "/v1/subscriptions/", [("sorting", "amount")])
    assert [s["amount"] for s in by_amount] == sorted(s["amount"] for s in by_amount)
    revoked = all_pages(demo, "/v1/benefit-grants/", [("is_granted", "false")])
    assert revoked
    assert all(g["is_revoked"] for g in revoked)
    some = next(c for c in all_pages(demo, "/v1/customers/", [("active", "true")]) if c["external_id"])
    by_external = demo.get("/v1/subscriptions/", params={"external_customer_id": some["external_id"]}).json()
    assert by_external["items"]
    assert {s["customer_id"] for s in by_external["items"]} == {some["id"]}
    meter_id = all_pages(demo, "/v1/customer-meters/")[0]["meter_id"]
    assert {m["meter_id"] for m in all_pages(demo, "/v1/customer-meters/", [("meter_id", meter_id)])} == {meter_id}
