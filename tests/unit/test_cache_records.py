"""Entries as bytes (``store.pack``/``unpack``) and records as JSON (the TypeAdapters of ``gateway.cache.polar`` and
``voucherify``), with real records read from the sandboxes' seed data by the upstream layer's own readers; and
``RecordCache`` with ``PolarCache`` and ``VoucherifyCache`` over a ``MemoryStore``: what is written, what is
served, what a 401 or a 404 proves, what a change invalidates, and that a failing store is a miss."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
import pytest

from gateway.cache import polar, voucherify
from gateway.cache.names import DIGEST_CHARS
from gateway.cache.polar import PolarCache
from gateway.cache.records import Kind, RecordCache, Tally
from gateway.cache.store import _HEADER, CacheUnavailable, Entry, Lifetimes, MemoryStore, Reading, Stamp, pack, unpack
from gateway.cache.voucherify import VoucherifyCache
from gateway.sandbox import render
from gateway.sandbox.seed import DEMO_TOKEN, OTHER_TOKEN, build_store
from gateway.sandbox.voucherify.seed import DEMO_APP_ID, build_projects
from gateway.upstream import polar_records, voucherify_records
from gateway.upstream.errors import UpstreamForbidden, UpstreamNotFound, UpstreamUnauthorized
from tests.unit.cache_helpers import NAMES

LIFETIMES = Lifetimes(ttl_s=300.0, trust_s=60.0)


def _json(value: Any) -> Any:
    """As it travels: through JSON bytes, the way the upstream client reads an answer."""
    return orjson.loads(orjson.dumps(value))


def _shape(value: Any) -> Any:
    """A record as comparable data that keeps what ``==`` forgets: each value's type, every datetime's text
    (offset included, as GraphQL shows it), and the order of mappings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__, [(f.name, _shape(getattr(value, f.name))) for f in dataclasses.fields(value)]
    if isinstance(value, datetime | date):
        return type(value).__name__, value.isoformat()
    if isinstance(value, Mapping):
        return "map", [(key, _shape(item)) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return type(value).__name__, [_shape(item) for item in value]
    return type(value).__name__, value


def _round_trip(kind: Kind[Any], record: Any) -> Any:
    back = kind.adapter.validate_json(kind.adapter.dump_json(record))
    assert back == record
    assert _shape(back) == _shape(record)
    return back


# pack / unpack -------------------------------------------------------------------------------------


@pytest.mark.parametrize("subjects", [0, 1, 2, 255])
@pytest.mark.parametrize("record", [b"", b'{"id":"c1"}', bytes(range(256)) * 3])
def test_an_entry_unpacks_to_what_was_packed(subjects: int, record: bytes) -> None:
    digests = tuple(NAMES.subject(f"polar:customer:{n}") for n in range(subjects))
    stamp = Stamp(1_764_680_000_123_456.0, epoch=2**40 + 3)  # Redis's TIME in microseconds: exact in a double
    packed = pack(Entry(digests, record), stamp)
    assert len(packed) == _HEADER.size + DIGEST_CHARS * subjects + len(record)
    assert unpack(packed) == (stamp.at, stamp.epoch, list(digests), record)


def test_a_memory_stamp_unpacks_exactly() -> None:
    stamp = Stamp(12345.678901234, epoch=0)
    at, epoch, subjects, record = unpack(pack(Entry((), b"r"), stamp))
    assert (at, epoch, subjects, record) == (stamp.at, 0, [], b"r")


# Records through the TypeAdapters ---------------------------------------------------------------------


def test_every_seed_customer_of_polar_reads_back_equal() -> None:
    store = build_store()
    customers = [polar_records.read_customer(_json(render.customer(c))) for c in store.customers.values()]
    assert len({c.organization_id for c in customers}) == 2  # both organizations
    assert any(c.external_id for c in customers)
    assert any(c.external_id is None for c in customers)
    assert any(c.billing_address for c in customers)
    assert any(c.tax_id for c in customers)
    assert any(c.metadata for c in customers)
    for customer in customers:
        back = _round_trip(polar.CUSTOMER, customer)
        assert list(back.metadata) == list(customer.metadata)  # jsonb's key order, kept


def test_every_seed_customer_state_reads_back_equal() -> None:
    store = build_store()
    states = [polar_records.read_state(_json(render.customer_state(store, c))) for c in store.customers.values()]
    subscriptions = [s for state in states for s in state.active_subscriptions]
    assert any(s.meters for s in subscriptions)  # nested tuples of meters
    assert any(s.trial_start for s in subscriptions) or any(s.canceled_at for s in subscriptions)
    assert any(state.granted_benefits for state in states)
    assert any(state.active_meters for state in states)
    for state in states:
        back = _round_trip(polar.STATE, state)
        for mine, theirs in zip(back.active_subscriptions, state.active_subscriptions, strict=True):
            assert isinstance(mine.meters, tuple)
            assert mine.meters == theirs.meters


EVERY_JSON_TYPE = {
    "": "",
    "text": 'Ada \u00e9\u00e8 \U0001f600 \u0000 \\ " \n',
    "int": 7,
    "negative": -3,
    "huge int": 2**64 - 1,  # the largest orjson reads, as the upstream client does
    "most negative": -(2**63),
    "float": 1.5,
    "whole float": 2.0,
    "tiny float": 5e-324,
    "big float": 1.7976931348623157e308,
    "true": True,
    "false": False,
    "null": None,
    "list": [1, "a", None, [2.5, {"k": False}], []],
    "object": {"nested": {"deep": [{}]}, "b": 1, "a": 2},
}


def _polar_customer_json(**changes: Any) -> dict[str, Any]:
    return {
        "id": "0e5f2a8e-7c1b-4c4e-9a53-0f4a1b2c3d4e",
        "type": "individual",
        "external_id": "usr_ada",
        "email": "ada@example.com",
        "email_verified": True,
        "name": "Ada",
        "billing_name": None,
        "billing_address": {
            "line1": "1 Main St",
            "line2": None,
            "postal_code": "94107",
            "city": "San Francisco",
            "state": "US-CA",
            "country": "US",
        },
        "tax_id": ["911144442", "us_ein"],
        "locale": "en",
        "metadata": EVERY_JSON_TYPE,
        "organization_id": "org",
        "default_payment_method_id": None,
        "created_at": "2025-01-01T09:00:00Z",
        "modified_at": "2025-06-30T23:59:59.999999+05:30",
        "deleted_at": "2025-07-01T00:00:00.5-08:00",
        "first_user_event_at": "2025-01-01T09:00:00+00:00",
        "avatar_url": None,
        **changes,
    }


def test_metadata_of_every_json_type_and_every_offset_read_back_as_they_were() -> None:
    customer = polar_records.read_customer(_json(_polar_customer_json()))
    back = _round_trip(polar.CUSTOMER, customer)
    assert back.metadata == EVERY_JSON_TYPE
    assert [type(v) for v in back.metadata.values()] == [type(v) for v in EVERY_JSON_TYPE.values()]
    assert list(back.metadata["object"]) == ["nested", "b", "a"]
    assert back.modified_at is not None
    assert back.modified_at.isoformat() == "2025-06-30T23:59:59.999999+05:30"
    assert back.deleted_at is not None
    assert back.deleted_at.isoformat() == "2025-07-01T00:00:00.500000-08:00"
    assert back.created_at.isoformat() == "2025-01-01T09:00:00+00:00"


def test_a_customer_with_nothing_optional_reads_back_equal() -> None:
    bare = _polar_customer_json(
        external_id=None, email=None, name=None, billing_address=None, tax_id=None, locale=None, metadata={},
        modified_at=None, deleted_at=None, first_user_event_at=None, type="team",
    )  # fmt: skip
    _round_trip(polar.CUSTOMER, polar_records.read_customer(_json(bare)))


def test_every_seed_customer_of_voucherify_reads_back_equal() -> None:
    projects = build_projects()
    customers = [
        voucherify_records.read_customer(_json(c.as_json())) for p in projects.values() for c in p.customers.values()
    ]
    assert any(c.address for c in customers)
    assert any(c.loyalty.campaigns for c in customers)
    assert any(c.summary.orders.last_order_date for c in customers)
    for customer in customers:
        _round_trip(voucherify.CUSTOMER, customer)


def test_a_voucherify_customer_with_every_field_reads_back_equal() -> None:
    full = {
        "id": "cust_full", "source_id": "usr_ada", "name": "Ada", "description": "d", "email": "ada@example.com",
        "phone": "+46 70 123 4567", "birthdate": "1815-12-10",
        "address": {"line_1": "Drottninggatan 5", "line_2": "3 tr", "city": "Stockholm", "state": None,
                    "postal_code": "111 22", "country": "SE"},
        "metadata": EVERY_JSON_TYPE,
        "summary": {"redemptions": {"total_redeemed": 3, "gift": {"redeemed_amount": 100, "amount_to_go": 5},
                                    "loyalty_card": {"redeemed_points": 7, "points_to_go": 9}},
                    "orders": {"total_amount": 12_000, "total_count": 2, "average_amount": 6_000,
                               "last_order_amount": 5_000, "last_order_date": "2025-03-01T10:00:00.123Z"}},
        "loyalty": {"points": 10, "referred_customers": 1,
                    "campaigns": {"Gold": {"points": 10, "loyalty_tier": "ltr_1", "referred_customers": 1},
                                  "Silver": {"points": 0}}},
        "referrals": {"total": 1, "campaigns": [{"campaign_id": "camp_1", "referrer_id": "cust_2",
                                                 "related_object_id": "r", "related_object_type": "redemption",
                                                 "date": "2025-02-01T00:00:00.000Z"}]},
        "created_at": "2025-01-01T00:00:00.000Z",
        "updated_at": "2025-04-01T12:30:00.001Z",
    }  # fmt: skip
    customer = voucherify_records.read_customer(_json(full))
    assert customer.birthdate == date(1815, 12, 10)
    back = _round_trip(voucherify.CUSTOMER, customer)
    assert [c.campaign for c in back.loyalty.campaigns] == ["Gold", "Silver"]


# RecordCache over a store ---------------------------------------------------------------------------------


def _customer(customer_id: str = "c1", external_id: str | None = "ext-1", name: str = "Ada") -> polar_records.Customer:
    return polar_records.read_customer(_json(_polar_customer_json(id=customer_id, external_id=external_id, name=name)))


def _state() -> polar_records.CustomerState:
    store = build_store()
    found = next(c for c in store.customers.values() if store.subscriptions_by_customer.get(c.id))
    return polar_records.read_state(_json(render.customer_state(store, found)))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(2**22, 2**18, 11.0, 300.0)


@pytest.fixture
def cache(store: MemoryStore) -> PolarCache:
    return PolarCache(RecordCache(polar.UPSTREAM, store, NAMES, LIFETIMES))


async def _keep(cache: PolarCache, *customers: polar_records.Customer, token: str = DEMO_TOKEN) -> None:
    stamp = await cache.stamp()
    await cache.keep_customers(token, stamp, {c.id: c for c in customers})


async def test_a_kept_customer_is_found_by_id_and_by_external_id_equal(cache: PolarCache) -> None:
    ada = _customer()
    await _keep(cache, ada)
    tally = Tally()
    by_id = await cache.customers(DEMO_TOKEN, ["c1", "c2"], tally)
    by_external = await cache.customers_by_external_id(DEMO_TOKEN, ["ext-1"], tally)
    assert by_id.hits == {"c1": ada}
    assert by_external.hits == {"ext-1": ada}
    assert by_id.stamp is not None
    assert by_external.stamp is not None
    assert (tally.hits, tally.misses) == (2, 1)
    assert _shape(by_id.hits["c1"]) == _shape(ada)


async def test_a_kept_state_is_found_and_a_change_of_its_customer_ends_it(cache: PolarCache) -> None:
    state = _state()
    await cache.keep_states(DEMO_TOKEN, await cache.stamp(), {"c1": state})
    assert (await cache.states(DEMO_TOKEN, ["c1"], Tally())).hits == {"c1": state}
    await cache.changed("c1", None, "webhook")
    assert (await cache.states(DEMO_TOKEN, ["c1"], Tally())).hits == {}


async def test_another_token_finds_nothing(cache: PolarCache) -> None:
    await _keep(cache, _customer())
    await _keep(cache, _customer("o1", "other-ext"), token=OTHER_TOKEN)  # the other token is trusted too
    found = await cache.customers(OTHER_TOKEN, ["c1"], Tally())
    assert found.hits == {}
    assert (await cache.customers_by_external_id(OTHER_TOKEN, ["ext-1"], Tally())).hits == {}


@pytest.mark.parametrize(
    ("changed", "looked_up"),
    [
        (("c1", None), "external"),  # a write by id ends what was found by external id
        ((None, "ext-1"), "id"),  # a write by external id ends what was found by id
        (("c1", "ext-1"), "id"),  # a webhook names both
    ],
)
async def test_a_change_known_by_either_key_ends_both_entries(
    cache: PolarCache, changed: tuple[str | None, str | None], looked_up: str
) -> None:
    await _keep(cache, _customer())
    await cache.written(*changed)
    if looked_up == "id":
        assert (await cache.customers(DEMO_TOKEN, ["c1"], Tally())).hits == {}
    else:
        assert (await cache.customers_by_external_id(DEMO_TOKEN, ["ext-1"], Tally())).hits == {}


async def test_after_an_external_id_moves_the_old_one_finds_nothing(cache: PolarCache) -> None:
    """The customer's external id changed (a webhook carries the new one and the id)."""
    await _keep(cache, _customer(external_id="old-ext"))
    await cache.changed("c1", "new-ext", "webhook")
    assert (await cache.customers_by_external_id(DEMO_TOKEN, ["old-ext"], Tally())).hits == {}


async def test_a_401_ends_the_callers_trust_and_writes_nothing(cache: PolarCache) -> None:
    await _keep(cache, _customer())
    stamp = await cache.stamp()
    await cache.keep_customers(DEMO_TOKEN, stamp, {"c2": _customer("c2", "ext-2"), "c3": UpstreamUnauthorized("401")})
    assert (await cache.customers(DEMO_TOKEN, ["c1", "c2"], Tally())).hits == {}


async def test_a_404_proves_the_token_and_writes_no_entry(cache: PolarCache, store: MemoryStore) -> None:
    stamp = await cache.stamp()
    looked_up = UpstreamNotFound("404")
    looked_up.looked_up = True  # Polar's own 404 (the transport tells it from a proxy's)
    await cache.keep_customers(DEMO_TOKEN, stamp, {"missing": looked_up})
    reading = await store.read(NAMES.caller("polar", DEMO_TOKEN), [NAMES.entry(polar.CUSTOMER.name, "missing")])
    assert reading.trusted
    assert reading.found == {}
    assert store.bytes_held() == 0


async def test_a_403_proves_nothing(cache: PolarCache, store: MemoryStore) -> None:
    stamp = await cache.stamp()
    await cache.keep_states(DEMO_TOKEN, stamp, {"c1": UpstreamForbidden("403")})
    reading = await store.read(NAMES.caller("polar", DEMO_TOKEN), [])
    assert not reading.trusted


async def test_nothing_is_written_without_a_stamp(cache: PolarCache, store: MemoryStore) -> None:
    await cache.keep_customers(DEMO_TOKEN, None, {"c1": _customer()})
    assert store.bytes_held() == 0
    assert not (await store.read(NAMES.caller("polar", DEMO_TOKEN), [])).trusted


async def test_an_entry_that_no_longer_reads_is_a_miss(cache: PolarCache, store: MemoryStore) -> None:
    """Written by another version of the gateway, say: not this version's record."""
    caller = NAMES.caller("polar", DEMO_TOKEN)
    junk = {NAMES.entry(polar.CUSTOMER.name, key): Entry((), record) for key, record in
            [("c1", b'{"id": 1}'), ("c2", b"not json"), ("c3", b"")]}  # fmt: skip
    await store.write(caller, junk, await store.stamp(), True, LIFETIMES)
    tally = Tally()
    found = await cache.customers(DEMO_TOKEN, ["c1", "c2", "c3"], tally)
    assert found.hits == {}
    assert found.stamp is not None
    assert (tally.hits, tally.misses) == (0, 3)


async def test_no_keys_asks_the_store_nothing() -> None:
    failing = RecordCache(polar.UPSTREAM, Unavailable(), NAMES, LIFETIMES)
    found = await failing.lookup(DEMO_TOKEN, polar.CUSTOMER, [], Tally())
    assert (found.hits, found.stamp) == ({}, None)


class Unavailable:
    """A store that never answers: Redis down, frozen or slow."""

    kind = "unavailable"

    def __init__(self) -> None:
        self.calls = 0

    def _fail(self) -> CacheUnavailable:
        self.calls += 1
        return CacheUnavailable("TimeoutError")

    async def read(self, caller: str, names: Sequence[str]) -> Reading:
        raise self._fail()

    async def stamp(self) -> Stamp:
        raise self._fail()

    async def write(
        self, caller: str, entries: Mapping[str, Entry], stamp: Stamp, trusted: bool, lifetimes: Lifetimes
    ) -> None:
        raise self._fail()

    async def invalidate(self, subjects: Sequence[str], ahead_s: float = 0.0) -> None:
        raise self._fail()

    async def distrust(self, caller: str) -> None:
        raise self._fail()

    async def recover(self) -> None:
        raise self._fail()

    def missed_invalidation(self) -> None:
        self.calls += 1

    def bytes_held(self) -> int | None:
        return None


async def test_a_failing_store_is_a_miss_never_an_error(caplog: pytest.LogCaptureFixture) -> None:
    unavailable = Unavailable()
    cache = PolarCache(RecordCache(polar.UPSTREAM, unavailable, NAMES, LIFETIMES))
    tally = Tally()
    found = await cache.customers(DEMO_TOKEN, ["c1", "c2"], tally)
    assert (found.hits, found.stamp, tally.misses) == ({}, None, 2)
    assert await cache.stamp() is None
    await cache.keep_customers(DEMO_TOKEN, Stamp(1.0), {"c1": _customer()})
    await cache.keep_customers(DEMO_TOKEN, Stamp(1.0), {"c1": UpstreamUnauthorized("401")})
    with caplog.at_level(logging.WARNING, logger="gateway.cache"):
        await cache.written("c1", "ada@example.com")  # a write's caller gets its answer anyway
    assert unavailable.calls == 5  # read, stamp, write, distrust, invalidate: each tried, none raised
    assert caplog.records, "the failed invalidation is logged"
    for record in caplog.records:
        text = record.getMessage()
        assert "ada@example.com" not in text
        assert "c1" not in text
        assert DEMO_TOKEN not in text
    with pytest.raises(CacheUnavailable):  # a webhook must know: it answers 503 and Polar retries
        await cache.changed("c1", None, "webhook")


# Voucherify --------------------------------------------------------------------------------------------


def _voucherify_customer(source_id: str = "src-1") -> voucherify_records.Customer:
    project = build_projects()[DEMO_APP_ID]
    first = next(iter(project.customers.values()))
    return dataclasses.replace(voucherify_records.read_customer(_json(first.as_json())), source_id=source_id)


async def test_a_voucherify_customer_is_found_by_both_keys_and_a_source_write_ends_both(store: MemoryStore) -> None:
    cache = VoucherifyCache(RecordCache("voucherify", store, NAMES, LIFETIMES))
    customer = _voucherify_customer()
    keys = {f"id:{customer.id}": customer, "source:src-1": customer}
    credential = "app\nsecret"
    await cache.keep_customers(credential, await cache.cache.stamp(), keys, [customer])
    assert (await cache.customers(credential, list(keys), Tally())).hits == keys
    assert (await cache.customers("app\nother-secret", list(keys), Tally())).hits == {}
    await cache.sources_written(["src-1"])
    assert (await cache.customers(credential, list(keys), Tally())).hits == {}


async def test_a_voucherify_401_ends_trust(store: MemoryStore) -> None:
    cache = VoucherifyCache(RecordCache("voucherify", store, NAMES, LIFETIMES))
    customer = _voucherify_customer()
    await cache.keep_customers("k", await cache.cache.stamp(), {"id:x": customer}, [customer])
    await cache.keep_customers("k", await cache.cache.stamp(), {}, [UpstreamUnauthorized("401")])
    assert (await cache.customers("k", ["id:x"], Tally())).hits == {}


async def test_polar_and_voucherify_on_one_store_never_share_a_callers_entries(store: MemoryStore) -> None:
    """The same credential string sent to both upstreams, the same key: two callers."""
    polar_cache = RecordCache(polar.UPSTREAM, store, NAMES, LIFETIMES)
    voucherify_cache = RecordCache("voucherify", store, NAMES, LIFETIMES)
    customer = _customer()
    await PolarCache(polar_cache).keep_customers("same", await store.stamp(), {"k": customer})
    await voucherify_cache.keep("same", await store.stamp(), [], True)  # trusted there too
    assert (await voucherify_cache.lookup("same", polar.CUSTOMER, ["c1"], Tally())).hits == {}
