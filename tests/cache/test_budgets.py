"""Issue 18's budgets, counted by the sandbox itself: a repeated read within the TTL costs Polar nothing, on the
instance that read it first or on another one sharing its Redis; a repeated list costs the list alone; and an
entry is its caller's: another token (of another organization, or of the same one) reads cold, never a hit."""

from __future__ import annotations

from gateway.sandbox.seed import DEMO_READ_TOKEN, DEMO_WEBHOOKS_READ_TOKEN, OTHER_TOKEN
from tests.cache.conftest import Pair
from tests.cache.harness import BY_ID, COLD_CUSTOMER, COLD_LIST, CUSTOMER, LIST, LISTED, PERSON, Polar


def _person(pair: Pair) -> str:
    """A customer whose state is not empty: two active subscriptions."""
    customer_id: str = pair.polar.by_external_id(PERSON)["id"]
    return customer_id


def test_a_repeated_read_costs_nothing_on_the_same_instance(pair: Pair) -> None:
    customer_id = _person(pair)
    cold = pair.a.customer(customer_id, query=CUSTOMER)
    assert cold.polar == COLD_CUSTOMER
    assert len(cold.data["customer"]["state"]["activeSubscriptions"]) == 2

    warm = pair.a.customer(customer_id, query=CUSTOMER)
    assert warm.polar == {}
    assert warm.data == cold.data


def test_a_repeated_read_costs_nothing_on_the_other_instance(pair: Pair) -> None:
    customer_id = _person(pair)
    cold = pair.a.customer(customer_id, query=CUSTOMER)
    assert cold.polar == COLD_CUSTOMER

    on_b = pair.b.customer(customer_id, query=CUSTOMER)
    assert on_b.polar == {}
    assert on_b.data == cold.data
    assert pair.b.customer(customer_id, query=CUSTOMER).polar == {}


def test_a_repeated_list_costs_the_list_alone(pair: Pair) -> None:
    cold = pair.a.ask(LISTED)
    assert cold.polar == COLD_LIST  # the page, then the 50 states from three lists
    assert len(cold.data["customers"]["nodes"]) == 50
    assert any(node["state"]["grantedBenefits"] for node in cold.data["customers"]["nodes"])

    for gateway in (pair.a, pair.b):
        again = gateway.ask(LISTED)
        assert again.polar == {LIST: 1}  # a page is never cached; the states its customers have are
        assert again.data == cold.data


def test_another_organizations_token_reads_cold_never_a_hit(pair: Pair) -> None:
    customer_id = _person(pair)
    assert pair.a.customer(customer_id, query=CUSTOMER).polar == COLD_CUSTOMER

    # The Other organization's token asks for a Demo customer on both instances: Polar is asked each time and
    # answers 404 (a 404 is not kept), and nothing of the Demo token's entries is served.
    for gateway in (pair.a, pair.b, pair.a):
        other = gateway.customer(customer_id, token=OTHER_TOKEN, query=CUSTOMER)
        assert other.polar == {BY_ID: 1}
        assert other.data == {"customer": None}
        assert other.body["extensions"]["cache"] == {"hits": 0, "misses": 1}

    # Its own customers are cached for it, and are no hit for the Demo token either.
    [own] = Polar(pair.polar.sandbox, OTHER_TOKEN).customers(limit=1)
    first = pair.a.customer(own["id"], token=OTHER_TOKEN, query=CUSTOMER)
    assert first.polar == COLD_CUSTOMER
    assert first.data["customer"]["id"] == own["id"]
    assert pair.b.customer(own["id"], token=OTHER_TOKEN, query=CUSTOMER).polar == {}
    demo = pair.b.customer(own["id"], query=CUSTOMER)
    assert demo.polar == {BY_ID: 1}
    assert demo.data == {"customer": None}


def test_another_token_of_the_same_organization_reads_cold(pair: Pair) -> None:
    """Entries are the credential's, not the organization's: the read-only token is a different caller."""
    customer_id = _person(pair)
    demo = pair.a.customer(customer_id, query=CUSTOMER)
    assert demo.polar == COLD_CUSTOMER

    read_only = pair.b.customer(customer_id, token=DEMO_READ_TOKEN, query=CUSTOMER)
    assert read_only.body["extensions"]["cache"] == {"hits": 0, "misses": 2}
    assert read_only.polar[BY_ID] == 1
    assert read_only.data == demo.data
    again = pair.a.customer(customer_id, token=DEMO_READ_TOKEN, query=CUSTOMER)
    assert again.polar == {}
    assert again.data == demo.data


def test_tokens_polar_refuses_are_never_served_cached_data(pair: Pair) -> None:
    """A made-up token, and a token of the Demo organization without the customers scope, after the Demo token's
    read: Polar is asked, refuses (401, 403), and nothing cached is answered."""
    customer_id = _person(pair)
    assert pair.a.customer(customer_id, query=CUSTOMER).polar == COLD_CUSTOMER
    for token, code in (
        ("polar_oat_made_up_by_the_caller", "UNAUTHENTICATED"),
        (DEMO_WEBHOOKS_READ_TOKEN, "FORBIDDEN"),
    ):
        for gateway in (pair.a, pair.b):
            refused = gateway.customer(customer_id, token=token, query=CUSTOMER)
            assert refused.polar == {BY_ID: 1}
            assert refused.body["data"] == {"customer": None}
            assert refused.error_codes == [code]
