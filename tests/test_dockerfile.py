"""The Dockerfile, checked without a Docker engine (this machine has none): its stages and runtime rules,
that everything it copies exists and is not ignored, that the wheel it installs carries GraphiQL's page
files, and that the asset layout it builds serves GraphiQL, with its own HEALTHCHECK command passing."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx

from gateway.graphiql import NPM_ASSETS
from tests.servers import SandboxProcess, gateway_process

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IGNORED = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def test_it_is_multi_stage_and_the_runtime_is_slim_and_unprivileged() -> None:
    stages = [args for name, args in _instructions() if name == "FROM"]
    assert len(stages) == 3
    assert all("slim" in stage for stage in stages)
    final = dict(_final_stage())
    assert final["USER"] not in {"root", "0"}
    assert "useradd --system --uid 10001" in final["RUN"]
    assert json.loads(final["CMD"]) == ["python", "-m", "gateway", "serve"]
    assert final["EXPOSE"] == "8000"
    assert "/healthz" in final["HEALTHCHECK"]
    assert "GATEWAY_GRAPHIQL_ASSETS_DIR=/app/graphiql" in final["ENV"]


def test_python_is_pid_1_and_stops_on_sigterm() -> None:
    """Exec form, no shell or init in between: python is PID 1 and gets SIGTERM from ``docker stop``; the
    gateway handles it (tests/test_shutdown.py runs it as PID 1 of a PID namespace)."""
    final = dict(_final_stage())
    assert final["STOPSIGNAL"] == "SIGTERM"
    assert "ENTRYPOINT" not in final
    assert json.loads(final["CMD"])[0] == "python"


def test_everything_it_copies_from_the_context_exists_and_is_not_ignored() -> None:
    sources = []
    for name, args in _instructions():
        if name == "COPY" and not args.startswith("--from"):
            sources.extend(args.split()[:-1])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in IGNORED), source


def test_the_wheel_carries_the_graphiql_page_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(tmp_path), str(ROOT)],
        check=True, timeout=120,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("gateway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gateway/graphiql_page/start.js" in names
    assert "gateway/graphiql_page/assets.txt" in names
    assert not any(name.startswith("tests/") for name in names)


def test_the_image_asset_layout_serves_graphiql_and_passes_the_healthcheck(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    # What the graphiql stage does: only the listed files, at their node_modules paths.
    for path in NPM_ASSETS.values():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "web" / "node_modules" / path, target)
    with gateway_process(sandbox.url, env={"GATEWAY_GRAPHIQL_ASSETS_DIR": str(tmp_path)}) as gateway:
        assert httpx.get(gateway.graphql_url, headers={"Accept": "text/html"}).status_code == 200
        for name in NPM_ASSETS:
            assert httpx.get(f"{gateway.url}/graphiql/{name}").status_code == 200, name
        healthcheck = json.loads(dict(_final_stage())["HEALTHCHECK"].split("CMD", 1)[1])
        port = gateway.url.rsplit(":", 1)[1]
        finished = subprocess.run(
            [sys.executable, *healthcheck[1:]], env={"GATEWAY_PORT": port}, timeout=10, check=False
        )
        assert finished.returncode == 0
    # and the same check fails when nothing listens there
    finished = subprocess.run([sys.executable, *healthcheck[1:]], env={"GATEWAY_PORT": port}, timeout=10, check=False)
    assert finished.returncode != 0
