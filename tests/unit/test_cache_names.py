"""The names the cache files things under (``gateway.cache.names``): keyed digests of the deployment's secret, so
that instances of one deployment agree on them, another deployment's names never match them, and no name
quotes the token, id, external id or email it was made of."""

from __future__ import annotations

import re

import pytest

from gateway.cache import polar, voucherify
from gateway.cache.names import DIGEST_CHARS, Names
from gateway.cache.records import RecordCache
from gateway.cache.store import Lifetimes, MemoryStore
from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN

SECRET = "deployment-one-cursor-secret-0123456789"
OTHER_SECRET = "deployment-two-cursor-secret-0123456789"
HEX = re.compile(rf"[0-9a-f]{{{DIGEST_CHARS}}}")
EMAIL = "ada.lovelace@example.com"


def _every_name(names: Names) -> list[str]:
    return [
        names.caller("polar", DEMO_TOKEN),
        names.caller("voucherify", DEMO_TOKEN),
        names.entry(polar.CUSTOMER.name, "c1"),
        names.entry(polar.CUSTOMER_BY_EXTERNAL_ID.name, EMAIL),
        names.subject("polar:customer:c1"),
        names.subject(f"polar:external:{EMAIL}"),
    ]


def test_instances_sharing_the_secret_agree_on_every_name() -> None:
    assert _every_name(Names(SECRET)) == _every_name(Names(SECRET))


def test_another_deployments_secret_gives_other_digests_for_everything() -> None:
    ours, theirs = _every_name(Names(SECRET)), _every_name(Names(OTHER_SECRET))
    assert all(mine != other for mine, other in zip(ours, theirs, strict=True))
    assert not set(ours) & set(theirs)


def test_names_are_fixed_length_hex_and_quote_nothing_they_were_made_of() -> None:
    names = Names(SECRET)
    huge = "x" * 100_000  # an external id as long as a request may carry: the name is as long as any other
    made = [*_every_name(names), names.entry(polar.CUSTOMER_BY_EXTERNAL_ID.name, huge)]
    for name in made:
        assert HEX.fullmatch(name), name
        for secret_part in (DEMO_TOKEN, "c1", EMAIL, "ada", "polar", SECRET):
            assert secret_part not in name


def test_callers_of_different_upstreams_never_collide() -> None:
    """The same credential string sent to Polar and to Voucherify names two callers."""
    names = Names(SECRET)
    assert names.caller("polar", DEMO_TOKEN) != names.caller("voucherify", DEMO_TOKEN)
    store = MemoryStore(2**20, 2**16, 10.0, 300.0)
    lifetimes = Lifetimes(300.0, 60.0)
    polar_cache = RecordCache(polar.UPSTREAM, store, names, lifetimes)
    voucherify_cache = RecordCache("voucherify", store, names, lifetimes)
    assert polar_cache._caller(DEMO_TOKEN) != voucherify_cache._caller(DEMO_TOKEN)
    assert polar_cache._caller(DEMO_TOKEN) != polar_cache._caller(OTHER_TOKEN)


def test_kinds_of_entry_never_collide_on_the_same_key() -> None:
    """A customer id that is another customer's external id names two entries."""
    names = Names(SECRET)
    kinds = {polar.CUSTOMER.name, polar.CUSTOMER_BY_EXTERNAL_ID.name, polar.STATE.name, voucherify.CUSTOMER.name}
    assert len(kinds) == 4
    assert len({names.entry(kind, "same-key") for kind in kinds}) == 4


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("entry", "ab", "c"), ("entry", "a", "bc")),  # the boundary between kind and key moved
        (("caller", "polar", "tok"), ("entry", "polar", "tok")),  # a caller is never an entry
        (("caller", "polar", "tok"), ("subject", "polar\0tok", "")),  # nor a subject
    ],
)
def test_parts_are_kept_apart(first: tuple[str, str, str], second: tuple[str, str, str]) -> None:
    names = Names(SECRET)

    def made(which: tuple[str, str, str]) -> str:
        kind, a, b = which
        if kind == "caller":
            return names.caller(a, b)
        if kind == "entry":
            return names.entry(a, b)
        return names.subject(a + b)

    assert made(first) != made(second)


def test_a_subject_is_the_same_whichever_cache_names_it() -> None:
    """An invalidation reaches every caller's entries: subjects do not depend on the caller."""
    names = Names(SECRET)
    assert polar.customer_labels("c1", EMAIL) == ["polar:customer:c1", f"polar:external:{EMAIL}"]
    assert voucherify.customer_labels("cust_1", "src") == ["voucherify:customer:cust_1", "voucherify:source:src"]
    assert names.subject("polar:customer:c1") != names.subject("voucherify:customer:c1")
