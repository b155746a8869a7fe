"""Each vendor's wire format has one home, ``gateway/upstream/``: no module of the GraphQL layer (nor the
export) names a key of Polar's or Voucherify's JSON, a query parameter, a header or a path, or imports the
transport's query parameters.

Read with ``ast``: string constants (f-string pieces included), not comments or docstrings. The list holds
names that are Polar's alone; names that are also GraphQL's (``id``, ``email``, ``state``, ``query``) are left out,
and so are enum values, which stay Polar's strings by design (see ``gateway.upstream.prices``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
OUTSIDE_UPSTREAM = [*sorted(GATEWAY.glob("graphql/*.py")), GATEWAY / "export.py", GATEWAY / "polar_rules.py"]
WIRE_KEYS = frozenset({
    # list answers and paging ("limit" is left off: it is also a key of the response's extensions.cost, and
    # Polar's limit travels with page, which is on the list)
    "items", "pagination", "total_count", "max_page", "page", "sorting",
    # filters
    "customer_id", "external_customer_id", "external_id", "product_id", "subscription_id", "product_billing_type",
    "is_granted",
    # bodies and answers
    "billing_address", "postal_code", "tax_id", "return_url", "customer_portal_url", "price_id", "prices",
    "benefit", "benefit_type", "benefit_metadata", "active_subscriptions", "granted_benefits", "active_meters",
    # 422 answers
    "detail", "loc", "msg", "type_error", "missing", "string_too_long", "string_too_short", "too_long",
    # Voucherify: lists, paging, filters, bodies, answers, errors and headers
    "source_id", "data_ref", "has_more", "more_starting_after", "starting_after", "starting_after_id", "segment_id",
    "async_action_id", "data_json", "pernament_deletion", "loyalty_tier", "referred_customers", "related_object_id",
    "invalid_payload", "duplicate_found", "resource_id", "X-App-Id", "X-App-Token", "X-Client-Token",
})  # fmt: skip
WIRE_PREFIXES = ("metadata[", "/v1/", "/client/v1/", "-created_at", "created_at[", "updated_at[")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of docstring nodes: their words are prose, not wire knowledge."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def wire_strings(source: str) -> list[str]:
    tree = ast.parse(source)
    prose = _docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
        and (node.value in WIRE_KEYS or node.value.startswith(WIRE_PREFIXES))
    ]  # fmt: skip


@pytest.mark.parametrize("module", OUTSIDE_UPSTREAM, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_vendor_wire_key_outside_upstream(module: Path) -> None:
    assert wire_strings(module.read_text()) == []


@pytest.mark.parametrize("module", OUTSIDE_UPSTREAM, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_query_parameters_are_built_outside_upstream(module: Path) -> None:
    imported = {
        node.module
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert not {name for name in imported if name.endswith("upstream.transport")}


def test_the_check_sees_what_it_is_for() -> None:
    """The reader finds wire keys in code, f-strings included, and passes over docstrings."""
    source = 'def f(data):\n    """Reads items."""\n    return data["items"], f"metadata[{data}]", "input"\n'
    assert wire_strings(source) == ["items", "metadata["]
