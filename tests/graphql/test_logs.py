"""Nothing the gateway prints carries a token, personal data, an upstream URL or a stack trace."""

from __future__ import annotations

import time

from gateway.sandbox.seed import DEMO_TOKEN, MAIL_DOMAINS
from tests.graphql_client import GraphQL
from tests.servers import SandboxProcess, gateway_process


def test_errors_of_every_kind_leave_no_secret_in_the_output(sandbox: SandboxProcess) -> None:
    with gateway_process(sandbox.url) as gateway:
        gql = GraphQL(gateway.graphql_url, DEMO_TOKEN, sandbox)
        gql.execute('{ customer(id: "ada@gmail.com") { id } }')
        gql.execute('{ customer(externalId: "x") { id } }', token="polar_oat_wrong_secret_token")
        gql.execute(
            'mutation { customerCreate(input: {email: "grace@gmail.com", externalId: "g"}) { customer { id } } }'
        )
        gql.execute(
            'mutation { customerCreate(input: {email: "grace@gmail.com", externalId: "g"}) { userErrors { code } } }'
        )
        with sandbox.control() as control:
            control.post("/__sandbox/faults", json={"error_rate": 1.0}).raise_for_status()
        gql.execute("{ customers(first: 3) { nodes { email } } }")
        gql.post("{ nope }")
        time.sleep(0.5)
        output = "".join(gateway.output)
    for secret in (DEMO_TOKEN, "polar_oat_wrong_secret_token", "ada@gmail.com", "grace@gmail.com",
                   *(f"@{domain}" for domain in MAIL_DOMAINS), sandbox.url, "Traceback"):  # fmt: skip
        assert secret not in output, secret
