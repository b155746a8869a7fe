"""The ids in README.md's examples exist in the seed data, so its lookups answer a customer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.graphql_client import GraphQL

README = (Path(__file__).parents[2] / "README.md").read_text()
CREATED = set(re.findall(r'customerCreate\(input: \{[^}]*?externalId: "([^"]+)"', README))
LOOKUPS = [(kind, value) for kind, value in re.findall(r'customer\((id|externalId): "([^"…]+)"\)', README)
           if value not in CREATED]  # fmt: skip


def test_the_readme_has_lookup_examples() -> None:
    assert {kind for kind, _ in LOOKUPS} == {"id", "externalId"}


@pytest.mark.parametrize(("argument", "value"), LOOKUPS)
def test_readme_lookups_find_a_customer(gql: GraphQL, argument: str, value: str) -> None:
    data = gql.data(f'{{ customer({argument}: "{value}") {{ id }} }}')
    assert data["customer"] is not None
