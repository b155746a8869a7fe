"""The client's identity (``gateway.observability.clients``): ``apollographql-client-name`` and ``-version`` kept
only when short and plain (``unknown`` when not sent, ``invalid`` otherwise), so a caller writes nothing of its
own into a label or a log line; and at most ``MAX_CLIENTS`` pairs with labels of their own, the rest counted
as ``other``, so no caller grows the metrics without bound."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from gateway.observability import clients
from gateway.observability.clients import (
    INVALID,
    MAX_CLIENTS,
    NAME_HEADER,
    OTHER,
    UNKNOWN,
    VERSION_HEADER,
    client_identity,
    count_request,
)
from gateway.observability.metrics import CLIENT_REQUESTS


def identity(name: str | None = None, version: str | None = None) -> tuple[str, str]:
    headers: CIMultiDict[str] = CIMultiDict()
    if name is not None:
        headers[NAME_HEADER] = name
    if version is not None:
        headers[VERSION_HEADER] = version
    return client_identity(headers)


def counted(name: str, version: str) -> float:
    """What ``gateway_client_requests_total`` holds for the pair (0 for a pair it has no sample of)."""
    for metric in CLIENT_REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels == {"client": name, "version": version}:
                return sample.value
    return 0.0


def labelled_pairs() -> set[tuple[str, str]]:
    return {
        (sample.labels["client"], sample.labels["version"])
        for metric in CLIENT_REQUESTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's pairs with labels of their own, empty, as in a process that has just started."""
    monkeypatch.setattr(clients, "_known", set())


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("web", "1.0.0"),
        ("customer-portal", "2024.11.3+build.7"),
        ("ios app", "3.2 145"),
        ("team@example/admin:console", "v1"),
        ("a", "1"),
        ("x" * 64, "9" * 64),
    ],
)
def test_a_plain_identity_is_kept(name: str, version: str) -> None:
    assert identity(name, version) == (name, version)


def test_an_identity_not_sent_is_unknown() -> None:
    assert identity() == (UNKNOWN, UNKNOWN)
    assert identity("web") == ("web", UNKNOWN)
    assert identity(version="1.0") == (UNKNOWN, "1.0")


@pytest.mark.parametrize(
    "value",
    [
        "",
        " web",
        "-web",
        ".web",
        "x" * 65,
        "A" * 8000,
        "wéb",
        "клиент",
        "web\tapp",
        "web\napp",
        "web\r\nX-Injected: 1",
        "web\x00",
        "web\x1b[31mred",
        'web"}, {"level": "ERROR',
        "web=1 status=500",
        "<script>",
        "web;drop",
        "polar_oat_$ecret",
    ],
    ids=[
        "empty", "leading-space", "leading-dash", "leading-dot", "65-chars", "8000-chars", "accent", "cyrillic",
        "tab", "newline", "crlf-header", "nul", "escape", "json-quote", "equals", "html", "semicolon", "dollar",
    ],
)  # fmt: skip
def test_anything_else_is_invalid(value: str) -> None:
    assert identity(value, "1.0") == (INVALID, "1.0")
    assert identity("web", value) == ("web", INVALID)


def test_the_first_value_of_a_repeated_header_is_read() -> None:
    headers = CIMultiDict([(NAME_HEADER, "web"), (NAME_HEADER, "bad\nvalue"), (VERSION_HEADER, "1")])
    assert client_identity(headers) == ("web", "1")


def test_each_request_is_counted_under_its_pair(fresh_clients: None) -> None:
    before = counted("unit-web", "1.0")
    count_request(("unit-web", "1.0"), may_add=lambda: True)
    count_request(("unit-web", "1.0"), may_add=lambda: True)
    assert counted("unit-web", "1.0") == before + 2


def test_past_max_clients_pairs_new_ones_are_counted_as_other(fresh_clients: None) -> None:
    pairs_before = labelled_pairs()
    other_before = counted(OTHER, OTHER)
    first = [(f"unit-bound-{n}", "1.0") for n in range(MAX_CLIENTS)]
    for pair in first:
        count_request(pair, may_add=lambda: True)
    later = [(f"unit-bound-later-{n}", f"{n}.0") for n in range(3 * MAX_CLIENTS)]
    for pair in later:
        count_request(pair, may_add=lambda: True)
    assert counted(OTHER, OTHER) == other_before + len(later)
    new_pairs = labelled_pairs() - pairs_before
    assert new_pairs <= {*first, (OTHER, OTHER)}
    assert len(new_pairs - {(OTHER, OTHER)}) == MAX_CLIENTS
    # A pair that had its label keeps it after the bound is reached.
    before = counted(*first[0])
    count_request(first[0], may_add=lambda: True)
    assert counted(*first[0]) == before + 1


def test_unknown_and_invalid_pairs_take_places_like_any_other(fresh_clients: None) -> None:
    """They are pairs too: a process that only ever sees them holds a few labels, not more."""
    for _ in range(10):
        count_request((UNKNOWN, UNKNOWN), may_add=lambda: True)
        count_request((INVALID, INVALID), may_add=lambda: True)
    assert clients._known == {(UNKNOWN, UNKNOWN), (INVALID, INVALID)}


def test_only_callers_with_accepted_credentials_add_pairs(fresh_clients: None) -> None:
    """Requests with made-up tokens cannot take the places before the real clients come: their new pairs count as
    ``other``; a pair a proven caller added is counted under its labels for everyone after."""
    other_before = counted(OTHER, OTHER)
    for n in range(3 * MAX_CLIENTS):
        count_request((f"unit-squatter-{n}", "1.0"), may_add=lambda: False)
    assert clients._known == set()
    assert counted(OTHER, OTHER) == other_before + 3 * MAX_CLIENTS
    count_request(("unit-real-app", "2.0"), may_add=lambda: True)
    before = counted("unit-real-app", "2.0")
    count_request(("unit-real-app", "2.0"), may_add=lambda: False)
    assert counted("unit-real-app", "2.0") == before + 1
