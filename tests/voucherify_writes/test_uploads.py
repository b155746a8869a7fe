"""voucherifyCustomersImport as a GraphQL multipart request over a real socket: the CSV import end to end in
both header spellings, and every refusal at the edge (each before a byte of the body is needed, with no
Voucherify call, an answer that comes promptly and the connection closed): no CSRF header, no or client
keys, no Content-Length, a body over max_upload_bytes, all upload slots taken, a body that never ends; and
after the body, an operation that is not the import, or a batch."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests import raw_http
from tests.servers import GatewayProcess, SandboxProcess, gateway_process
from tests.voucherify_writes.client import (
    ASYNC_ACTION,
    CLIENT_KEYS,
    IMPORT,
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

IMPORT_ROUTE = "POST /v1/customers/importCSV"
PROMPTLY_S = 5.0  # a refusal before the body: milliseconds; waiting for the body would take body_timeout_s
DOCS_SPELLING = (
    b"Source_id,Name,Email,Phone,Birthdate,Description,Address_line_1,Address_line_2,Address_Postal_Code,"
    b"Address_City,Address_State,Address_Country,favorite_brands,newsletter\n"
    b"csv_docs_1,Ida Import,ida@example.com,+47 400 00 001,1991-05-17,from the docs header,Storgata 1,3rd floor,"
    b"0155,Oslo,Oslo,NO,Bergans,true\n"
    b"csv_docs_2,Ola Import,ola@example.com,,,,,,,Trondheim,,NO,,false\n"
)
TEMPLATE_SPELLING = (
    b"Name,Source_id,Description,Email,Phone,Address_line_1,Address_line_2,City,Postal_Code,State,Country,"
    b"Birthdate,favorite_brands,CRM_created_date\n"
    b"Tia Template,csv_tpl_1,from the template header,tia@example.com,+46 70 000 0001,Drottninggatan 5,,Stockholm,"
    b"111 22,,SE,1988-08-08,Fjallraven,2024-01-31\n"
    b"Tor Template,csv_tpl_2,,tor@example.com,,,,Malmo,,,SE,,,2023-12-01\n"
)


def small_csv(source_id: str) -> bytes:
    return f"Source_id,Name,tier\n{source_id},Small Import,bronze\n".encode()


def prove(client: VoucherifyGraphQL) -> None:
    """The gateway proves keys it has not seen accepted lately with one small call before it reads an upload
    (``test_unproven_keys_are_proven_before_the_body_is_read``): tests that count calls start with keys it has
    accepted."""
    client.data("{ voucherifyCustomers(first: 1) { totalCount } }")


def wait_done(vf: VoucherifyGraphQL, action_id: str) -> dict[str, Any]:
    action: dict[str, Any] = vf.data(ASYNC_ACTION, {"id": action_id, "wait": 5})["voucherifyAsyncAction"]
    return action


def imported(response_json: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in response_json, response_json
    payload: dict[str, Any] = response_json["data"]["voucherifyCustomersImport"]
    return payload


# End to end ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["docs", "template"])
def test_csv_import_end_to_end(
    spelling: str, gateway: GatewayProcess, vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript
) -> None:
    content = DOCS_SPELLING if spelling == "docs" else TEMPLATE_SPELLING
    total = upstream.total()
    prove(vf)
    before = vf.calls()
    response = upload(gateway.graphql_url, content, {**PREFLIGHT, **SERVER_KEYS}, transcript)
    assert response.status_code == 200, response.text
    payload = imported(response.json())
    assert payload["userErrors"] == []
    action = payload["asyncAction"]
    assert action["id"].startswith("aa_")
    assert (action["type"], action["status"], action["progress"]) == ("CUSTOMERS.IMPORT_CSV", "ENQUEUED", 0)
    assert vf.calls_since(before) == {IMPORT_ROUTE: 1, "GET /v1/async-actions/{action_id}": 1}

    done = wait_done(vf, action["id"])
    assert done["status"] == "DONE"
    assert done["result"]["done_count"] == 2
    assert done["result"]["failed_count"] == 0
    assert done["result"]["failed"] == []
    assert upstream.total() == total + 2

    if spelling == "docs":
        ida = upstream.must("csv_docs_1")
        assert ida["name"] == "Ida Import"
        assert ida["email"] == "ida@example.com"
        assert ida["phone"] == "+47 400 00 001"
        assert ida["birthdate"] == "1991-05-17"
        assert ida["description"] == "from the docs header"
        assert ida["address"] == {"line_1": "Storgata 1", "line_2": "3rd floor", "postal_code": "0155",
                                  "city": "Oslo", "state": "Oslo", "country": "NO"}  # fmt: skip
        assert ida["metadata"] == {"favorite_brands": "Bergans", "newsletter": True}
        ola = upstream.must("csv_docs_2")
        assert ola["address"] == {"city": "Trondheim", "country": "NO"}
        assert ola["metadata"] == {"newsletter": False}
    else:
        tia = upstream.must("csv_tpl_1")
        assert tia["name"] == "Tia Template"
        assert tia["birthdate"] == "1988-08-08"
        assert tia["address"] == {"line_1": "Drottninggatan 5", "city": "Stockholm", "postal_code": "111 22",
                                  "country": "SE"}  # fmt: skip
        assert tia["metadata"] == {"favorite_brands": "Fjallraven", "CRM_created_date": "2024-01-31"}
        tor = upstream.must("csv_tpl_2")
        assert tor["address"] == {"city": "Malmo", "country": "SE"}
        assert tor["metadata"] == {"CRM_created_date": "2023-12-01"}


def test_csv_import_reports_failed_rows_and_overwrites_existing_profiles(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript
) -> None:
    seeded = upstream.first_customers(1)[0]
    content = (
        f"Source_id,Name,Birthdate,segment\n{seeded['source_id']},Overwritten,,imported\n"
        "csv_bad_date,Bad Date,31/12/1990,\n"
    ).encode()
    response = upload(gateway.graphql_url, content, {**PREFLIGHT, **SERVER_KEYS}, transcript)
    done = wait_done(vf, imported(response.json())["asyncAction"]["id"])
    assert (done["result"]["done_count"], done["result"]["failed_count"]) == (1, 1)
    assert [(f["row"], f["source_id"]) for f in done["result"]["failed"]] == [(2, "csv_bad_date")]
    overwritten = upstream.must(seeded["id"])
    assert overwritten["name"] == "Overwritten"
    assert overwritten["metadata"] == {"segment": "imported"}  # the whole profile, metadata included
    assert overwritten.get("email") is None
    assert upstream.customer("csv_bad_date") is None


def test_x_apollo_operation_name_also_admits_an_upload(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript
) -> None:
    headers = {"X-Apollo-Operation-Name": "Import", **SERVER_KEYS}
    ops = operations(
        "mutation Import($file: Upload!) { voucherifyCustomersImport(file: $file) { asyncAction { id } } }"
    )
    response = upload(gateway.graphql_url, small_csv("csv_apollo_name"), headers, transcript, ops=ops)
    assert response.status_code == 200, response.text
    wait_done(vf, imported(response.json())["asyncAction"]["id"])
    assert upstream.must("csv_apollo_name")["metadata"] == {"tier": "bronze"}


def test_an_empty_file_is_a_blank_user_error_without_a_call(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript
) -> None:
    prove(vf)
    before = vf.calls()
    for content in (b"", b"  \n\r\n\t"):
        response = upload(gateway.graphql_url, content, {**PREFLIGHT, **SERVER_KEYS}, transcript)
        assert response.status_code == 200, response.text
        payload = imported(response.json())
        assert payload["asyncAction"] is None
        assert payload["userErrors"] == [{"field": ["file"], "message": "The file is empty.", "code": "BLANK"}]
    assert vf.calls_since(before) == {}


def test_a_file_voucherify_refuses_is_a_user_error_on_file(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript
) -> None:
    """The sandbox's 400 for a CSV without a header line (``invalid_payload``), on the upload's argument."""
    prove(vf)
    before = vf.calls()
    response = upload(gateway.graphql_url, b",,,\ncsv_x,Nobody,,\n", {**PREFLIGHT, **SERVER_KEYS}, transcript)
    payload = imported(response.json())
    assert payload["asyncAction"] is None
    assert payload["userErrors"] == [
        {"field": ["file"], "message": "The file must start with a header line", "code": "INVALID"}]  # fmt: skip
    not_utf8 = upload(
        gateway.graphql_url, b"Source_id,Name\ncsv_l1,Bj\xf6rn\n", {**PREFLIGHT, **SERVER_KEYS}, transcript
    )
    assert imported(not_utf8.json())["userErrors"] == [
        {"field": ["file"], "message": "The file must be UTF-8 text", "code": "INVALID"}]  # fmt: skip
    assert vf.calls_since(before) == {IMPORT_ROUTE: 2}


# Refused before the body is read -----------------------------------------------------------------


def refused_before_the_body(url: str, headers: dict[str, str], transcript: Transcript, *,
                            length: int | None = None, chunked: bool = False) -> raw_http.RawResponse:  # fmt: skip
    """Sends the head and a tenth of the body (its Content-Length says all of it, or ``length``; or one chunk
    of a chunked body), and returns the answer, which must come promptly and close the connection."""
    body = multipart_body(small_csv("csv_refused"))
    with raw_http.connect(url, timeout=15) as connection:
        if chunked:
            head = multipart_head(headers, None)
            connection.sendall(head + f"{len(body) // 10:x}\r\n".encode() + body[: len(body) // 10] + b"\r\n")
        else:
            connection.sendall(multipart_head(headers, length or len(body)) + body[: len(body) // 10])
        # Only a tenth of the body was sent: any answer but a 408 (after body_timeout_s) came without it.
        response, _ = answer_within(connection, 15, transcript)
        assert response.status != 408
        assert response.headers.get("connection", "").lower() == "close"
        # The rest never comes: the connection is closed once refused_body_drain_s (1 s) has passed.
        assert raw_http.closed_by_peer(connection, within=5.0), "the connection was left open"
    return response


@pytest.mark.parametrize(("headers", "chunked", "status", "says"), [
    (SERVER_KEYS, False, 400, "Apollo-Require-Preflight"),
    ({**PREFLIGHT}, False, 401, "server keys"),
    ({**PREFLIGHT, **CLIENT_KEYS}, False, 401, "server keys"),
    ({**PREFLIGHT, "X-Voucherify-App-Id": SERVER_KEYS["X-Voucherify-App-Id"]}, False, 401, "server keys"),
    ({**PREFLIGHT, **SERVER_KEYS}, True, 411, "Content-Length"),
], ids=["no-preflight-header", "no-keys", "client-keys", "half-the-keys", "chunked"])  # fmt: skip
def test_uploads_refused_at_the_edge(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript,
    headers: dict[str, str], chunked: bool, status: int, says: str,
) -> None:  # fmt: skip
    prove(vf)
    before = vf.calls()
    response = refused_before_the_body(gateway.graphql_url, headers, transcript, chunked=chunked)
    assert response.status == status
    assert says in error_message(response.body)
    assert vf.calls_since(before) == {}


@pytest.mark.parametrize(("ops", "says"), [
    (operations("query { voucherifyCustomers(first: 1) { totalCount } }", {}), "voucherifyCustomersImport"),
    (operations("mutation($file: Upload!) { voucherifyCustomersImport(file: $file) { asyncAction { id } } "
                "voucherifyCustomerDelete(id: \"cust_x\") { deletedCustomerId } }"), "voucherifyCustomersImport"),
    (operations("mutation($file: Upload) { voucherifyCustomerDelete(id: \"cust_x\") { deletedCustomerId } }"),
     "voucherifyCustomersImport"),
    (operations("mutation A($file: Upload!) { voucherifyCustomersImport(file: $file) { asyncAction { id } } } "
                "mutation B { voucherifyCustomerDelete(id: \"cust_x\") { deletedCustomerId } }"), "voucherifyCustomersImport"),
    ('[' + operations() + "]", "voucherifyCustomersImport"),
], ids=["a-query", "import-and-another-field", "another-mutation", "two-operations", "a-batch"])  # fmt: skip
def test_a_multipart_request_for_anything_but_the_import_is_refused(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript, ops: str, says: str
) -> None:
    total = upstream.total()
    prove(vf)
    before = vf.calls()
    body = multipart_body(small_csv("csv_not_imported"), ops)
    if ops.startswith("["):  # a batch maps its file under the first operation
        body = body.replace(b'{"0": ["variables.file"]}', b'{"0": ["0.variables.file"]}')
    with raw_http.connect(gateway.graphql_url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body)
        response, _ = answer_within(connection, 15, transcript)
    assert response.status == 400
    assert says in error_message(response.body)
    assert vf.calls_since(before) == {}
    assert upstream.customer("csv_not_imported") is None
    assert upstream.total() == total


def test_the_import_posted_as_json_cannot_carry_a_file(vf: VoucherifyGraphQL, upstream: Upstream) -> None:
    """Only a multipart request is admitted as an upload: over JSON, the variable cannot be a file, and a
    CSV given as a string is no file either (so the upload rules cannot be gone around)."""
    total = upstream.total()
    prove(vf)
    before = vf.calls()
    missing = vf.post(IMPORT, {"file": None})
    assert missing.status_code == 400
    assert "Upload!" in missing.json()["errors"][0]["message"]
    as_text = vf.data(IMPORT, {"file": "Source_id,Name\ncsv_as_text,Text\n"})["voucherifyCustomersImport"]
    assert as_text == {
        "asyncAction": None,
        "userErrors": [{"field": ["file"], "message": "The file is empty.", "code": "BLANK"}],
    }
    assert vf.calls_since(before) == {}
    assert upstream.total() == total


def test_a_mapped_file_that_is_not_sent_is_refused_without_a_call(
    gateway: GatewayProcess, vf: VoucherifyGraphQL, transcript: Transcript
) -> None:
    body = multipart_body(b"Source_id\ncsv_x\n").replace(b'name="0"', b'name="1"')  # map names part 0
    prove(vf)
    before = vf.calls()
    with raw_http.connect(gateway.graphql_url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body)
        response, _ = answer_within(connection, 15, transcript)
    assert response.status == 400
    assert "one file" in error_message(response.body)
    assert vf.calls_since(before) == {}


# A gateway of small limits: 2 KB uploads, one at a time -------------------------------------------


@pytest.fixture(scope="module")
def small_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess,
                  transcript: Transcript) -> Iterator[GatewayProcess]:  # fmt: skip
    env = {"GATEWAY_MAX_UPLOAD_BYTES": "2048", "GATEWAY_MAX_CONCURRENT_UPLOADS": "1"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        transcript.gateways.append(server)
        yield server
        transcript.gateways.remove(server)
        assert transcript.leaks() == []


@pytest.fixture
def small_vf(small_gateway: GatewayProcess, voucherify: SandboxProcess,
             transcript: Transcript) -> Iterator[VoucherifyGraphQL]:  # fmt: skip
    client = VoucherifyGraphQL(small_gateway.graphql_url, voucherify, transcript)
    yield client
    client.close()


def test_a_body_over_max_upload_bytes_is_refused_unread(
    small_gateway: GatewayProcess, small_vf: VoucherifyGraphQL, transcript: Transcript
) -> None:
    prove(small_vf)
    before = small_vf.calls()
    for claimed in (2049, 10 * 2**20, 2**40):
        response = refused_before_the_body(small_gateway.graphql_url, {**PREFLIGHT, **SERVER_KEYS}, transcript,
                                           length=claimed)  # fmt: skip
        assert response.status == 413
        assert "2048" in error_message(response.body)
    assert small_vf.calls_since(before) == {}


def test_an_upload_within_max_upload_bytes_is_imported(
    small_gateway: GatewayProcess, small_vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript
) -> None:
    content = small_csv("csv_small_gateway")
    assert len(multipart_body(content)) <= 2048
    response = upload(small_gateway.graphql_url, content, {**PREFLIGHT, **SERVER_KEYS}, transcript)
    assert response.status_code == 200, response.text
    wait_done(small_vf, imported(response.json())["asyncAction"]["id"])
    assert upstream.must("csv_small_gateway")["name"] == "Small Import"


def send_upload(url: str, source_id: str, transcript: Transcript) -> raw_http.RawResponse:
    body = multipart_body(small_csv(source_id))
    with raw_http.connect(url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body)
        response, _ = answer_within(connection, 15, transcript)
    return response


def test_with_every_upload_slot_taken_another_upload_is_503_at_once(
    small_gateway: GatewayProcess, small_vf: VoucherifyGraphQL, upstream: Upstream, transcript: Transcript
) -> None:
    url = small_gateway.graphql_url
    held = multipart_body(small_csv("csv_slot_holder"))
    with raw_http.connect(url, timeout=15) as holder:
        holder.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(held)))
        half = len(held) // 2
        for start in range(0, half, 40):  # trickled: the gateway is reading it, slowly
            holder.sendall(held[start : min(start + 40, half)])
            time.sleep(0.05)

        prove(small_vf)

        before = small_vf.calls()
        second = send_upload(url, "csv_slot_second", transcript)
        assert second.status == 503  # at once: there is no queue to wait in
        assert second.headers.get("retry-after") == "5"
        assert "max_concurrent_uploads" in error_message(second.body)
        assert small_vf.calls_since(before) == {}

        holder.sendall(held[half:])  # the rest: the first upload completes
        first, _ = answer_within(holder, 15, transcript)
    assert first.status == 200
    wait_done(small_vf, imported(json.loads(first.body))["asyncAction"]["id"])
    assert upstream.must("csv_slot_holder")["name"] == "Small Import"
    assert upstream.customer("csv_slot_second") is None

    third = send_upload(url, "csv_slot_third", transcript)  # the slot is free again
    assert third.status == 200


def test_a_slot_is_given_back_after_a_refused_operation_and_a_client_that_went_away(
    small_gateway: GatewayProcess, small_vf: VoucherifyGraphQL, transcript: Transcript
) -> None:
    url = small_gateway.graphql_url
    query = multipart_body(small_csv("csv_q"), operations("query { __typename }", {}))
    with raw_http.connect(url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(query)) + query)
        assert answer_within(connection, 15, transcript)[0].status == 400
    assert send_upload(url, "csv_after_refusal", transcript).status == 200

    body = multipart_body(small_csv("csv_gone"))
    with raw_http.connect(url, timeout=15) as connection:  # half a body, then the client hangs up
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body[: len(body) // 2])
        time.sleep(0.2)
    statuses = []
    deadline = time.monotonic() + PROMPTLY_S
    while time.monotonic() < deadline:  # the gateway notices the hang-up at once, or nearly
        statuses.append(send_upload(url, "csv_after_hang_up", transcript).status)
        if statuses[-1] != 503:
            break
        time.sleep(0.2)
    assert statuses[-1] == 200, statuses


# A gateway that waits 1 s for a body --------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient_gateway(sandbox_server: SandboxProcess, voucherify_server: SandboxProcess,
                      transcript: Transcript) -> Iterator[GatewayProcess]:  # fmt: skip
    env = {"GATEWAY_BODY_TIMEOUT_S": "1", "GATEWAY_MAX_CONCURRENT_UPLOADS": "1"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        transcript.gateways.append(server)
        yield server
        transcript.gateways.remove(server)
        assert transcript.leaks() == []


def test_an_upload_whose_body_never_ends_is_408_within_body_timeout_and_frees_its_slot(
    impatient_gateway: GatewayProcess, voucherify: SandboxProcess, transcript: Transcript
) -> None:
    url = impatient_gateway.graphql_url
    client = VoucherifyGraphQL(url, voucherify, transcript)
    body = multipart_body(small_csv("csv_never_ends"))
    prove(client)
    before = client.calls()
    with raw_http.connect(url, timeout=20) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)) + body[: len(body) // 2])
        response, elapsed = answer_within(connection, 20, transcript)
        assert response.status == 408
        assert "body_timeout_s" in error_message(response.body)
        # The read is bounded by body_timeout_s alone (1 s), not with the request's deadline too (11 s).
        assert elapsed < 1 + 6, f"408 after {elapsed:.1f}s, with body_timeout_s=1"
        assert raw_http.closed_by_peer(connection, within=2.0)
    assert client.calls_since(before) == {}

    after = send_upload(url, "csv_after_timeout", transcript)  # its one slot was given back
    assert after.status == 200
    client.close()


# A gateway with a request deadline of 1 s ---------------------------------------------------------


@pytest.fixture(scope="module")
def hurried_gateway(
    sandbox_server: SandboxProcess, voucherify_server: SandboxProcess, transcript: Transcript
) -> Iterator[GatewayProcess]:
    env = {"GATEWAY_REQUEST_DEADLINE_S": "1"}
    with gateway_process(sandbox_server.url, env=env, voucherify_url=voucherify_server.url) as server:
        transcript.gateways.append(server)
        yield server
        transcript.gateways.remove(server)
        assert transcript.leaks() == []


def test_the_request_deadline_starts_once_the_upload_has_arrived(
    hurried_gateway: GatewayProcess, voucherify: SandboxProcess, upstream: Upstream, transcript: Transcript
) -> None:
    """A body that takes longer than request_deadline_s to arrive (within body_timeout_s) leaves the import
    its whole deadline, as every other request has once its body is in."""
    body = multipart_body(small_csv("csv_slow_link"))
    with raw_http.connect(hurried_gateway.graphql_url, timeout=15) as connection:
        connection.sendall(multipart_head({**PREFLIGHT, **SERVER_KEYS}, len(body)))
        step = len(body) // 8 + 1
        for start in range(0, len(body), step):  # about 1.6 s for the whole body
            time.sleep(0.2)
            connection.sendall(body[start : start + step])
        response, _ = answer_within(connection, 15, transcript)
    assert response.status == 200
    payload = imported(json.loads(response.body))
    assert payload["userErrors"] == []
    assert payload["asyncAction"]["type"] == "CUSTOMERS.IMPORT_CSV"
    client = VoucherifyGraphQL(hurried_gateway.graphql_url, voucherify, transcript)
    for _ in range(3):  # no waitSeconds here: the deadline leaves none
        client.data(ASYNC_ACTION, {"id": payload["asyncAction"]["id"]})
    client.close()
    assert upstream.must("csv_slow_link")["name"] == "Small Import"
