"""The Dockerfile, checked without a Docker engine (this machine has none): its stages and runtime rules,
that everything it copies exists and is not ignored, that its wheels stage, given exactly what it copies,
builds a wheel carrying GraphiQL's assets (tests/test_packaging.py installs such a wheel and serves
GraphiQL from it), and that its own HEALTHCHECK command passes against a gateway."""

from __future__ import annotations

import fnmatch
import itertools
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


def _stage(alias: str) -> list[tuple[str, str]]:
    instructions = _instructions()
    starts = [i for i, (name, _) in enumerate(instructions) if name == "FROM"] + [len(instructions)]
    for start, end in itertools.pairwise(starts):
        if instructions[start][1].endswith(f" AS {alias}"):
            return instructions[start:end]
    raise AssertionError(f"no stage {alias}")


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
    # GraphiQL's assets are inside the installed wheel: no folder or setting of their own in the runtime.
    assert "GATEWAY_GRAPHIQL_ASSETS_DIR" not in final["ENV"]
    assert not [args for name, args in _final_stage() if name == "COPY"]


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


def test_the_wheels_stage_installs_the_lock_and_builds_a_wheel_carrying_graphiql(tmp_path: Path) -> None:
    """Stage 2 as Docker runs it: the context files it copies, GraphiQL's listed files where the graphiql
    stage leaves them, no npm; the wheel it builds carries those files and no tests."""
    wheels = _stage("wheels")
    runs = [args for name, args in wheels if name == "RUN"]
    assert "--require-hashes --wheel-dir /wheels -r requirements.lock" in runs[0]
    context = tmp_path / "context"
    context.mkdir()
    for name, args in wheels:
        if name != "COPY":
            continue
        *sources, destination = args.split()
        if sources[0] == "--from=graphiql":  # /assets: the listed files at their node_modules paths
            for path in NPM_ASSETS.values():
                target = context / destination / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / "web" / "node_modules" / path, target)
            continue
        for source in sources:
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, context / destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, context / source if destination.endswith("/") else context / destination)
    assert (context / "web" / "node_modules").is_dir()
    assert not (context / "web" / "package-lock.json").exists()  # so setup.py cannot have run npm
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(tmp_path / "wheels"), str(context)],
        check=True, timeout=180,
    )  # fmt: skip
    (wheel,) = (tmp_path / "wheels").glob("customer_gateway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gateway/graphiql_page/start.js" in names
    assert "gateway/graphiql_page/assets.txt" in names
    for path in NPM_ASSETS.values():
        assert f"gateway/graphiql_page/assets/{path}" in names, path
    assert not any(name.startswith("tests/") for name in names)


def test_its_healthcheck_passes_against_a_gateway_and_fails_without_one(sandbox: SandboxProcess) -> None:
    with gateway_process(sandbox.url) as gateway:
        assert httpx.get(gateway.graphql_url, headers={"Accept": "text/html"}).status_code == 200
        healthcheck = json.loads(dict(_final_stage())["HEALTHCHECK"].split("CMD", 1)[1])
        port = gateway.url.rsplit(":", 1)[1]
        finished = subprocess.run(
            [sys.executable, *healthcheck[1:]], env={"GATEWAY_PORT": port}, timeout=10, check=False
        )
        assert finished.returncode == 0
    # and the same check fails when nothing listens there
    finished = subprocess.run([sys.executable, *healthcheck[1:]], env={"GATEWAY_PORT": port}, timeout=10, check=False)
    assert finished.returncode != 0
