"""``serve`` without upstream URLs, as ``make serve`` runs it: both sandboxes embedded, their demo credentials
printed, and a query with exactly those credentials served from each."""

from __future__ import annotations

import re

import httpx

from tests.graphql_client import GRAPHQL_RESPONSE
from tests.servers import gateway_process, voucherify_sandbox_process


def test_serve_embeds_both_sandboxes_and_prints_credentials_that_work() -> None:
    with gateway_process(None) as gateway:
        banner = "".join(gateway.output)
        assert "embedded Polar sandbox at http://127.0.0.1:" in banner
        assert "embedded Voucherify sandbox at http://127.0.0.1:" in banner
        token = re.search(r"demo token: (\S+)", banner)
        keys = re.search(r"'X-Voucherify-App-Id: (\S+)' and 'X-Voucherify-App-Token: (\S+)'", banner)
        client = re.search(r"'X-Voucherify-Client-Id: (\S+)', 'X-Voucherify-Client-Token: (\S+)'", banner)
        assert token is not None
        assert keys is not None
        assert client is not None
        headers = {
            "Authorization": f"Bearer {token.group(1)}",
            "X-Voucherify-App-Id": keys.group(1),
            "X-Voucherify-App-Token": keys.group(2),
            "Accept": GRAPHQL_RESPONSE,
        }
        query = "{ customers(first: 1) { totalCount } voucherifyCustomers(first: 1) { totalCount } }"
        body = httpx.post(gateway.graphql_url, json={"query": query}, headers=headers, timeout=10).json()
    assert body["data"] == {"customers": {"totalCount": 250}, "voucherifyCustomers": {"totalCount": 120}}


def test_a_given_voucherify_url_is_used_and_no_voucherify_sandbox_is_embedded() -> None:
    with voucherify_sandbox_process(customers=7) as voucherify, gateway_process(
        None, voucherify_url=voucherify.url
    ) as gateway:
        banner = "".join(gateway.output)
        headers = {"X-Voucherify-App-Id": "vf_sandbox_app", "X-Voucherify-App-Token": "vf_sandbox_secret"}
        body = httpx.post(gateway.graphql_url, json={"query": "{ voucherifyCustomers { totalCount } }"},
                          headers=headers, timeout=10).json()  # fmt: skip
    assert "embedded Polar sandbox" in banner
    assert "embedded Voucherify sandbox" not in banner
    assert body["data"] == {"voucherifyCustomers": {"totalCount": 7}}
