"""``schema.graphql`` is what the code exports; CI fails when the two drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_checked_in_schema_matches_the_code() -> None:
    exported = subprocess.run(
        [sys.executable, "-m", "gateway", "export-schema"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert exported == SCHEMA_FILE.read_text(), "run: python -m gateway export-schema > schema.graphql"


def test_fixed_names_are_in_the_schema() -> None:
    sdl = SCHEMA_FILE.read_text()
    for name in (
        "customer(id: ID = null, externalId: String = null): Customer",
        "customers(filter: CustomerFilter = null, sortKey: CustomerSortKey = null, reverse: Boolean = false, "
        "first: Int = null, after: String = null, last: Int = null, before: String = null): CustomerConnection!",
        "customerCreate(input: CustomerCreateInput!): CustomerCreatePayload!",
        "customerUpdate(input: CustomerUpdateInput!, id: ID = null, externalId: String = null): CustomerUpdatePayload!",
        "customerDelete(id: ID = null, externalId: String = null, anonymize: Boolean! = false): CustomerDeletePayload!",
    ):
        assert name in sdl
