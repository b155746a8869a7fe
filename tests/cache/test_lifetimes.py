"""How long an entry may be served: while Polar accepted the caller's token within cache_token_revalidate_s (a
revoked token stops reading cached data once that window has passed), and never past cache_ttl_s.

The sandbox has no way to revoke one organization token: Polar refusing it is its fault control answering every
request 401 (``invalid_token`` is what Polar answers a revoked token), which is what the gateway sees of a revocation.
Each test reads customers no other test of the same instance reads (the instances' memory outlives a reset)."""

from __future__ import annotations

import time

from tests.cache.conftest import TRUST_S, TTL_S
from tests.cache.harness import BY_ID, COLD_CUSTOMER, Gateway, Polar

PAST = 0.3  # past a lifetime: slept after it, so that it has surely ended


def test_a_hit_needs_the_token_accepted_within_the_window(trusting: Gateway, demo_ids: list[str]) -> None:
    customer_id = demo_ids[10]
    cold = trusting.customer(customer_id)
    assert cold.polar == COLD_CUSTOMER
    warm = trusting.customer(customer_id)  # Polar accepted the token a moment ago
    assert warm.polar == {}
    assert warm.body["extensions"]["cache"] == {"hits": 2, "misses": 0}

    time.sleep(TRUST_S + PAST)
    # The entries live 60 s, but the token must be proven again: the customer is read from Polar, whose answer
    # proves the token, so that its state, asked after it, is served from the cache.
    proven = trusting.customer(customer_id)
    assert proven.polar == {BY_ID: 1}
    assert proven.body["extensions"]["cache"] == {"hits": 1, "misses": 1}
    assert proven.data == cold.data
    assert trusting.customer(customer_id).polar == {}  # accepted again: hits again


def test_a_revoked_token_stops_reading_cached_data_after_the_window(
    trusting: Gateway, polar: Polar, demo_ids: list[str]
) -> None:
    customer_id = demo_ids[11]
    cold = trusting.customer(customer_id)
    assert cold.polar == COLD_CUSTOMER
    refused_before = trusting.metric("gateway_cache_invalidations_total", 'cause="token_refused"')

    polar.set_faults(error_rate=1.0, error_status=401)  # Polar refuses the token from now on
    within = trusting.customer(customer_id)  # within the window, what the token read lately is still served
    assert within.polar == {}
    assert within.data == cold.data

    time.sleep(TRUST_S + PAST)
    for _ in range(2):  # after it, Polar is asked, refuses, and nothing cached is served, then or later
        refused = trusting.customer(customer_id)
        assert refused.polar == {BY_ID: 1}
        assert refused.body["data"] == {"customer": None}
        assert refused.error_codes == ["UNAUTHENTICATED"]
    assert trusting.metric("gateway_cache_invalidations_total", 'cause="token_refused"') == refused_before + 2

    polar.set_faults(error_rate=0.0)  # accepted again: proven by a read from Polar, then cached again
    assert trusting.customer(customer_id).polar == {BY_ID: 1}
    assert trusting.customer(customer_id).polar == {}


def test_a_refused_token_ends_its_trust_at_once(trusting: Gateway, polar: Polar, demo_ids: list[str]) -> None:
    """A 401 for one read ends what the window still allowed: the next read of cached data asks Polar too."""
    cached, other = demo_ids[12], demo_ids[13]
    assert trusting.customer(cached).polar == COLD_CUSTOMER
    polar.set_faults(error_rate=1.0, error_status=401)
    assert trusting.customer(other).error_codes == ["UNAUTHENTICATED"]  # Polar refused it: no longer trusted
    refused = trusting.customer(cached)
    assert refused.polar == {BY_ID: 1}
    assert refused.error_codes == ["UNAUTHENTICATED"]


def test_an_entry_ends_with_its_ttl(short_lived: Gateway, demo_ids: list[str]) -> None:
    customer_id = demo_ids[20]
    cold = short_lived.customer(customer_id)
    assert cold.polar == COLD_CUSTOMER
    assert short_lived.customer(customer_id).polar == {}  # cached without a webhook secret: cache_ttl_s is set

    time.sleep(TTL_S + PAST)
    expired = short_lived.customer(customer_id)
    assert expired.polar == COLD_CUSTOMER
    assert expired.data == cold.data
    assert short_lived.customer(customer_id).polar == {}
