"""Uploads with the attack's shape: keys that are made up, an upload slot held by a slow sender, files past
``max_body_bytes`` (the real limit is ``max_upload_bytes``), and multipart bodies that are malformed in every
way the framing allows. Each is answered with a fixed text, promptly, without a traceback in the logs, and
with no more upstream calls than the one that proves unfamiliar keys."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from gateway.sandbox.voucherify.seed import OTHER_APP_ID, OTHER_APP_TOKEN
from tests import raw_http
from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.voucherify_writes.client import (
    BOUNDARY,
    PREFLIGHT,
    SERVER_KEYS,
    Transcript,
    Upstream,
    VoucherifyGraphQL,
    answer_within,
    error_message,
    multipart_body,
    multipart_head,
    operations,
    upload,
)
from tests.voucherify_writes.test_uploads import imported, prove, small_csv, wait_done

MADE_UP_KEYS = {"X-Voucherify-App-Id": "made_up_app", "X-Voucherify-App-Token": "made_up_secret"}
OTHER_KEYS = {"X-Voucherify-App-Id": OTHER_APP_ID, "X-Voucherify-App-Token": OTHER_APP_TOKEN}
PROOF_ROUTE = "GET /v1/customers"


def test_unproven_keys_are_proven_before_the_body_is_read(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript
) -> None:
    """Made-up keys cost one small call and no byte of the body: a claimed 10 MB upload is refused at once."""
    before = vf.calls()
    with raw_http.connect(gateway.graphql_url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **MADE_UP_KEYS}, 10 * 2**20 - 1) + b"--" + BOUNDARY.encode())
        response, _ = answer_within(connection, 15, transcript)
        assert raw_http.closed_by_peer(connection, within=2.0)
    assert response.status == 401
    assert "Voucherify refused the credentials" in error_message(response.body)
    assert vf.calls_since(before) == {PROOF_ROUTE: 1}  # and the body (10 MB claimed, never sent) unread


def test_a_file_over_max_body_bytes_within_max_upload_bytes_is_imported(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript
) -> None:
    rows = "".join(f"csv_big_{n:05d},Big Import {n},padding-{'x' * 40}\n" for n in range(4000))
    content = ("Source_id,Name,note\n" + rows).encode()
    assert len(content) > 250_000 > 100_000  # max_body_bytes is 100,000
    response = upload(gateway.graphql_url, content, {**PREFLIGHT, **SERVER_KEYS}, transcript)
    assert response.status_code == 200, response.text
    action = wait_done(vf, imported(response.json())["asyncAction"]["id"])
    assert action["status"] == "DONE"
    assert action["result"]["done_count"] == 4000
    assert upstream.must("csv_big_03999")["name"] == "Big Import 3999"


def _part(name: str | None, value: bytes, *, filename: str | None = None, extra: str = "") -> bytes:
    disposition = "form-data" + (f'; name="{name}"' if name is not None else "")
    disposition += f'; filename="{filename}"' if filename else ""
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode() + value + b"\r\n"


MAP = json.dumps({"0": ["variables.file"]}).encode()
CSV = small_csv("csv_malformed")
NESTED = (
    f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.csv\"\r\n"
    "Content-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n"
).encode()
MALFORMED: dict[str, bytes] = {
    "a part without a name": _part("operations", operations().encode()) + _part(None, MAP) + _part("0", CSV, filename="a.csv"),
    "a nested multipart": _part("operations", operations().encode()) + _part("map", MAP) + NESTED,
    "a part the map does not name": _part("operations", operations().encode()) + _part("map", MAP)
    + _part("0", CSV, filename="a.csv") + _part("extra", b"x" * 5000, filename="b.csv"),
    "two files": _part("operations", operations().encode()) + _part("map", MAP) + _part("0", CSV, filename="a.csv")
    + _part("1", CSV, filename="b.csv"),
    "parts out of order": _part("map", MAP) + _part("operations", operations().encode()) + _part("0", CSV, filename="a.csv"),
    "a map to the query": _part("operations", operations().encode())
    + _part("map", json.dumps({"0": ["query"]}).encode()) + _part("0", CSV, filename="a.csv"),
    "a map into a nested variable": _part("operations", operations().encode())
    + _part("map", json.dumps({"0": ["variables.file.inner"]}).encode()) + _part("0", CSV, filename="a.csv"),
    "operations not JSON": _part("operations", b"{not json") + _part("map", MAP) + _part("0", CSV, filename="a.csv"),
    "no closing boundary": _part("operations", operations().encode()) + _part("map", MAP),
}  # fmt: skip


@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_multipart_is_a_fixed_400_with_no_traceback_and_no_call(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript, body: bytes
) -> None:
    prove(vf)
    lines_before = len(gateway.output)
    before = vf.calls()
    if not body.endswith(b"--\r\n") and b"no closing" not in body:
        body += f"--{BOUNDARY}--\r\n".encode()
    with raw_http.connect(gateway.graphql_url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body)
        response, _ = answer_within(connection, 15, transcript)
    assert response.status == 400, response.body
    assert error_message(response.body).startswith(("The upload is not a GraphQL multipart request", "Multipart"))
    assert vf.calls_since(before) == {}
    time.sleep(0.1)  # the access line is written after the answer
    logged = "".join(gateway.output[lines_before:])
    assert "Traceback" not in logged
    assert '"level": "ERROR"' not in logged
    assert '"level":"ERROR"' not in logged


ODD_HEADERS: dict[str, bytes] = {
    "an unknown charset": _part("operations", operations().encode(), extra="Content-Type: text/plain; charset=nosuch\r\n")
    + _part("map", MAP) + _part("0", CSV, filename="a.csv"),
    "an unknown transfer encoding": _part("operations", operations().encode(),
                                          extra="Content-Transfer-Encoding: weird\r\n")
    + _part("map", MAP) + _part("0", CSV, filename="a.csv"),
}  # fmt: skip


@pytest.mark.parametrize("body", list(ODD_HEADERS.values()), ids=list(ODD_HEADERS))
def test_part_headers_that_would_trip_a_decoder_are_not_used(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript, body: bytes
) -> None:
    """A part's bytes are taken as sent (the spec has no transfer encoding, and JSON is UTF-8): a charset or
    transfer encoding no decoder knows costs nothing, where it had been a 500 with a traceback."""
    lines_before = len(gateway.output)
    body += f"--{BOUNDARY}--\r\n".encode()
    with raw_http.connect(gateway.graphql_url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body)
        response, _ = answer_within(connection, 15, transcript)
    assert response.status == 200, response.body
    assert imported(json.loads(response.body))["asyncAction"]["type"] == "CUSTOMERS.IMPORT_CSV"
    time.sleep(0.1)
    assert "Traceback" not in "".join(gateway.output[lines_before:])


@pytest.fixture(scope="module")
def two_slot_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess,
                     transcript: Transcript) -> Iterator[GatewayProcess]:  # fmt: skip
    with gateway_process(sandbox_server.url, env={"GATEWAY_MAX_CONCURRENT_UPLOADS": "2"},
                         voucherify_url=voucherify_server.url) as server:  # fmt: skip
        transcript.gateways.append(server)
        yield server
        transcript.gateways.remove(server)


def test_a_slow_sender_holds_one_slot_of_its_own_keys_only(
    two_slot_gateway: GatewayProcess, voucherify: SandboxProcess, upstream: Upstream, transcript: Transcript
) -> None:
    """One key pair holds at most one upload slot: a second upload of the same keys is 503 at once while the
    first trickles in, another project's upload goes through, and made-up keys never get to hold one."""
    url = two_slot_gateway.graphql_url
    demo = VoucherifyGraphQL(url, voucherify, transcript)
    prove(demo)
    held = multipart_body(small_csv("csv_two_slots_held"))
    with raw_http.connect(url, timeout=20) as holder:
        holder.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(held)) + held[:50])
        time.sleep(0.3)
        same_keys = upload(url, small_csv("csv_two_slots_same"), {**PREFLIGHT, **SERVER_KEYS}, transcript)
        assert same_keys.status_code == 503
        assert "max_concurrent_uploads" in same_keys.json()["errors"][0]["message"]
        made_up = upload(url, small_csv("csv_two_slots_fake"), {**PREFLIGHT, **MADE_UP_KEYS}, transcript)
        assert made_up.status_code == 401
        other = upload(url, small_csv("csv_two_slots_other"), {**PREFLIGHT, **OTHER_KEYS}, transcript)
        assert other.status_code == 200, other.text
        holder.sendall(held[50:])
        first, _ = answer_within(holder, 15, transcript)
    assert first.status == 200
    wait_done(demo, imported(json.loads(first.body))["asyncAction"]["id"])
    assert upstream.must("csv_two_slots_held")["name"] == "Small Import"
    assert upstream.customer("csv_two_slots_same") is None
    demo.close()
