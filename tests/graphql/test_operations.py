"""What operators see: request ids end to end, JSON logs at a chosen level, Prometheus metrics, OpenTelemetry
spans sent to a real OTLP/HTTP receiver, and ``serve --workers N``."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from gateway.sandbox.seed import DEMO_TOKEN
from tests.graphql_client import GraphQL
from tests.servers import GatewayProcess, SandboxProcess, gateway_process

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}
PAGE_WITH_STATE = "query {name} {{ customers(first: 3) {{ nodes {{ id state {{ activeMeters {{ id }} }} }} }} }}"


def _post(gateway: GatewayProcess, query: str, **headers: str) -> httpx.Response:
    return httpx.post(gateway.graphql_url, json={"query": query}, headers={**AUTH, **headers}, timeout=30)


def _samples(gateway: GatewayProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, by name and sorted labels."""
    response = httpx.get(f"{gateway.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _json_lines(gateway: GatewayProcess) -> list[dict[str, Any]]:
    time.sleep(0.3)  # the output is read by a thread
    return [json.loads(line) for line in gateway.output if line.startswith("{")]


# Request ids ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debug_gateway(sandbox_server: SandboxProcess) -> Iterator[GatewayProcess]:
    with gateway_process(sandbox_server.url, env={"GATEWAY_LOG_LEVEL": "DEBUG"}) as gateway:
        yield gateway


def test_a_callers_request_id_is_returned_logged_and_sent_upstream(
    debug_gateway: GatewayProcess, sandbox: SandboxProcess
) -> None:
    response = _post(debug_gateway, PAGE_WITH_STATE.format(name="WithId"), **{"X-Request-Id": "checkout-42.a"})
    assert response.headers["X-Request-Id"] == "checkout-42.a"
    with sandbox.control() as control:
        upstream = control.get("/__sandbox/timeline").json()["requests"]
    assert len(upstream) == 4
    assert {entry["request_id"] for entry in upstream} == {"checkout-42.a"}
    access = [line for line in _json_lines(debug_gateway) if line.get("request_id") == "checkout-42.a"]
    assert [(line["logger"], line["level"], line["route"], line["status"]) for line in access] == [
        ("gateway.access", "DEBUG", "/graphql", 200)
    ]


def test_at_info_only_failed_or_slow_requests_get_an_access_line(gateway_server: GatewayProcess) -> None:
    _post(gateway_server, "{ customers(first: 1) { nodes { id } } }", **{"X-Request-Id": "fine-1"})
    refused = httpx.get(gateway_server.graphql_url, params={"query": "mutation { x }"}, headers={"X-Request-Id": "get-1"})
    assert refused.status_code == 405
    lines = _json_lines(gateway_server)
    assert not [line for line in lines if line.get("request_id") == "fine-1"]
    (access,) = [line for line in lines if line.get("request_id") == "get-1"]
    assert (access["level"], access["method"], access["status"]) == ("INFO", "GET", 405)


@pytest.mark.parametrize("sent", [None, "has space", "x" * 129, "line\\nbreak", "<script>"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(
    gateway_server: GatewayProcess, sandbox: SandboxProcess, sent: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-Id": sent}
    response = _post(gateway_server, "{ customers(first: 1) { nodes { id } } }", **headers)
    made = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    with sandbox.control() as control:
        upstream = control.get("/__sandbox/timeline").json()["requests"]
    assert [entry["request_id"] for entry in upstream] == [made]


# Logs -----------------------------------------------------------------------------------------------


def test_logs_are_json_lines_with_level_logger_and_request_id(
    gateway_server: GatewayProcess, sandbox: SandboxProcess
) -> None:
    response = _post(gateway_server, '{ customer(id: "not-a-uuid") { id } }', **{"X-Request-Id": "bad-input-1"})
    assert response.status_code == 200
    lines = [line for line in _json_lines(gateway_server) if line.get("request_id") == "bad-input-1"]
    assert {line["logger"] for line in lines} == {"gateway.graphql"}
    error = next(line for line in lines if line["logger"] == "gateway.graphql")
    assert error["level"] == "INFO"
    assert error["message"] == "graphql errors: BAD_USER_INPUT x1 (first at customer)"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", error["time"])


def test_the_log_level_setting_silences_info(sandbox: SandboxProcess) -> None:
    quiet = {"GATEWAY_LOG_LEVEL": "WARNING", "GATEWAY_CURSOR_SECRET": "s" * 32}  # a set secret: no start-up warning
    with gateway_process(sandbox.url, env=quiet) as gateway:
        _post(gateway, '{ customer(id: "not-a-uuid") { id } }')
        _post(gateway, "{ customers(first: 2) { nodes { id } } }")
        assert _json_lines(gateway) == []


def test_an_invalid_log_level_is_refused_on_one_line(sandbox: SandboxProcess) -> None:
    with (
        pytest.raises(RuntimeError, match="invalid settings: log_level"),
        gateway_process(sandbox.url, env={"GATEWAY_LOG_LEVEL": "LOUD"}, timeout=10),
    ):
        pass


# Metrics --------------------------------------------------------------------------------------------


def test_metrics_count_operations_upstream_requests_and_loader_batches(sandbox: SandboxProcess) -> None:
    with gateway_process(sandbox.url) as gateway:
        for _ in range(3):
            _post(gateway, PAGE_WITH_STATE.format(name="MetricsProbe"))
        _post(gateway, 'query Broken { customer(id: "nope") { id } }')
        _post(gateway, "query Unparsable {")
        samples = _samples(gateway)
    operations = "gateway_graphql_operations_total"
    assert samples[(operations, (("operation", "MetricsProbe"), ("outcome", "ok"), ("type", "query")))] == 3
    assert samples[(operations, (("operation", "Broken"), ("outcome", "BAD_USER_INPUT"), ("type", "query")))] == 1
    assert samples[(operations, (("operation", "anonymous"), ("outcome", "invalid"), ("type", "unknown")))] == 1
    latency = "gateway_graphql_operation_duration_seconds_count"
    assert samples[(latency, (("operation", "MetricsProbe"), ("type", "query")))] == 3
    upstream = "gateway_upstream_requests_total"
    for route in ("/v1/customers/", "/v1/subscriptions/", "/v1/benefit-grants/", "/v1/customer-meters/"):
        assert samples[(upstream, (("method", "GET"), ("route", route), ("status", "200"), ("upstream", "polar")))] == 3
    assert samples[("gateway_dataloader_batch_size_count", (("loader", "state"),))] == 3
    assert samples[("gateway_dataloader_batch_size_sum", (("loader", "state"),))] == 9  # 3 customers a batch
    assert samples[("gateway_upstream_breaker_open", (("upstream", "polar"),))] == 0


def test_metrics_show_retries_and_the_breaker_opening(sandbox: SandboxProcess) -> None:
    env = {"GATEWAY_BREAKER_FAILURE_THRESHOLD": "3", "GATEWAY_RETRY_BACKOFF_S": "0.01"}
    with gateway_process(sandbox.url, env=env) as gateway:
        customer = GraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox).data("{ customers(first: 1) { nodes { id } } }")
        customer_id = customer["customers"]["nodes"][0]["id"]
        with sandbox.control() as control:
            control.post("/__sandbox/faults", json={"error_rate": 1.0, "error_status": 503}).raise_for_status()
        _post(gateway, f'{{ customer(id: "{customer_id}") {{ id }} }}')
        samples = _samples(gateway)
    route = (("method", "GET"), ("route", "/v1/customers/{id}"))
    polar = (("upstream", "polar"),)
    assert samples[("gateway_upstream_requests_total", (*route, ("status", "503"), *polar))] == 3
    assert samples[("gateway_upstream_retries_total", (*route, *polar))] == 2
    assert samples[("gateway_upstream_breaker_open", polar)] == 1
    assert samples[("gateway_upstream_breaker_openings_total", polar)] == 1


def test_operation_names_beyond_the_cap_are_counted_as_other(sandbox: SandboxProcess) -> None:
    with gateway_process(sandbox.url) as gateway:
        body = [{"query": f"query Name{i} {{ __typename }}"} for i in range(10)]
        for start in range(0, 210, 10):
            batch = [{"query": f"query Name{start + i} {{ __typename }}"} for i in range(10)]
            httpx.post(gateway.graphql_url, json=batch, timeout=30).raise_for_status()
        samples = _samples(gateway)
    assert body  # ten operations a request, 210 distinct names in all
    names = {dict(labels)["operation"] for name, labels in samples if name == "gateway_graphql_operations_total"}
    assert len(names) == 201
    assert "other" in names
    other = (("operation", "other"), ("outcome", "ok"), ("type", "query"))
    assert samples[("gateway_graphql_operations_total", other)] == 10


# Tracing --------------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: keeps every span it is sent."""

    spans: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                type(self).spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[Any]]]:
    _Receiver.spans = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.spans
    server.shutdown()


def test_traces_have_operation_loader_and_upstream_spans(
    sandbox: SandboxProcess, otlp_receiver: tuple[str, list[Any]]
) -> None:
    endpoint, spans = otlp_receiver
    env = {"GATEWAY_TRACING": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    with gateway_process(sandbox.url, env=env) as gateway:
        _post(gateway, PAGE_WITH_STATE.format(name="Traced"))
        deadline = time.monotonic() + 10
        while len(spans) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    by_name = {span.name: span for span in spans}
    operation = by_name["graphql query Traced"]
    loader = by_name["loader state"]
    listing = by_name["upstream GET /v1/customers/"]
    batch_calls = [
        by_name[f"upstream GET /v1/{route}/"] for route in ("subscriptions", "benefit-grants", "customer-meters")
    ]
    assert len(spans) == 6
    assert {span.trace_id for span in spans} == {operation.trace_id}
    assert listing.parent_span_id == operation.span_id
    assert loader.parent_span_id == operation.span_id
    assert all(call.parent_span_id == loader.span_id for call in batch_calls)
    attributes = {a.key: a.value.string_value or a.value.int_value for a in loader.attributes}
    assert attributes == {"loader.name": "state", "loader.batch_size": 3}


# Workers --------------------------------------------------------------------------------------------


def test_two_workers_share_the_port_the_sandbox_and_the_metrics() -> None:
    with gateway_process(None, env={"GATEWAY_WORKERS": "2"}) as gateway:
        pids = {httpx.get(f"{gateway.url}/healthz").json()["pid"] for _ in range(40)}
        assert len(pids) == 2
        assert gateway.process.pid not in pids
        created = _post(gateway, 'mutation { customerCreate(input: {email: "w@gmail.com"}) { customer { id } } }')
        new_id = created.json()["data"]["customerCreate"]["customer"]["id"]
        seen = [
            _post(gateway, f'query WorkerProbe {{ customer(id: "{new_id}") {{ email }} }}').json()["data"]["customer"]
            for _ in range(20)
        ]  # every worker reads the one shared sandbox
        assert seen == [{"email": "w@gmail.com"}] * 20
        samples = _samples(gateway)
        probe = (("operation", "WorkerProbe"), ("outcome", "ok"), ("type", "query"))
        assert samples[("gateway_graphql_operations_total", probe)] == 20  # whichever worker answered the scrape
        cursor = _post(gateway, "{ customers(first: 3) { pageInfo { endCursor } } }").json()["data"]["customers"]
        after = f'{{ customers(first: 3, after: "{cursor["pageInfo"]["endCursor"]}") {{ nodes {{ id }} }} }}'
        pages = [_post(gateway, after).json() for _ in range(20)]  # the parent made one secret for all workers
        assert all(len(page["data"]["customers"]["nodes"]) == 3 for page in pages), pages
        assert not any("cursor_secret is not set" in line for line in gateway.output)  # embedded sandbox: no warning


def test_workers_on_a_real_upstream_share_one_generated_cursor_secret(sandbox_server: SandboxProcess) -> None:
    """Without ``cursor_secret`` the parent makes one, warns once, and hands it to every worker."""
    with gateway_process(sandbox_server.url, env={"GATEWAY_WORKERS": "2"}) as gateway:
        first = _post(gateway, "{ customers(first: 3) { pageInfo { endCursor } } }").json()["data"]["customers"]
        after = f'{{ customers(first: 3, after: "{first["pageInfo"]["endCursor"]}") {{ nodes {{ id }} }} }}'
        pids = {httpx.get(f"{gateway.url}/healthz").json()["pid"] for _ in range(40)}
        pages = [_post(gateway, after).json() for _ in range(20)]
        assert len(pids) == 2
        assert all(len(page["data"]["customers"]["nodes"]) == 3 for page in pages), pages
        assert sum("cursor_secret is not set" in line for line in gateway.output) == 1


def test_a_worker_that_dies_is_replaced() -> None:
    with gateway_process(None, env={"GATEWAY_WORKERS": "2"}) as gateway:
        pids = {httpx.get(f"{gateway.url}/healthz").json()["pid"] for _ in range(40)}
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        now: set[int] = set()
        while time.monotonic() < deadline and len(now - {victim}) < 2:
            try:
                now.add(httpx.get(f"{gateway.url}/healthz", timeout=2).json()["pid"])
            except httpx.HTTPError:
                time.sleep(0.1)
        assert victim not in now
        assert len(now) == 2
        assert gateway.process.poll() is None
        assert f"worker {victim} exited" in "".join(gateway.output)
