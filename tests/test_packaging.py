"""The gateway as a user installs it: its wheel, built once for the session, installed with exactly the
pinned dependencies of requirements.lock into a fresh virtualenv outside the source tree (what the Docker
image does), then run from a directory without ``web/`` or ``gateway/``: the console script, the schema it
exports, and GraphiQL served offline from the assets inside the wheel.

Installing needs the package registry (or pip's cache); the whole module takes about 30 s the first time.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.graphiql import NPM_ASSETS

ROOT = Path(__file__).parents[1]
PYTHON = "/usr/bin/python3.11" if Path("/usr/bin/python3.11").exists() else sys.executable
LISTENING = re.compile(r"gateway listening on (http://127\.0\.0\.1:\d+)/graphql")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    elsewhere: Path  # a working directory with no web/ and no gateway/ in it

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.elsewhere, env=_clean_env(), capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip


def _clean_env() -> dict[str, str]:
    """Nothing that would point the installed gateway back at the source tree or at the test venv."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"}
    return {
        name: value
        for name, value in os.environ.items()
        if name not in drop and not name.startswith("GATEWAY_")
    } | {"PYTHONUNBUFFERED": "1"}  # fmt: skip


def _pip(python: Path, *args: str, timeout: float) -> None:
    finished = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        env=_clean_env(), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    wheels = tmp_path_factory.mktemp("wheel")
    _pip(Path(sys.executable), "wheel", "--no-deps", "--wheel-dir", str(wheels), str(ROOT), timeout=180)
    (wheel,) = wheels.glob("customer_gateway-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([PYTHON, "-m", "venv", "--clear", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    _pip(python, "install", "--require-hashes", "-r", str(ROOT / "requirements.lock"), timeout=600)
    _pip(python, "install", "--no-deps", "--no-index", str(wheel), timeout=120)
    return Installed(wheel, venv, tmp_path_factory.mktemp("elsewhere"))


def test_the_wheel_is_named_for_the_gateway_and_carries_graphiql(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    for path in NPM_ASSETS.values():
        assert f"gateway/graphiql_page/assets/{path}" in names, path
    assert "gateway/graphiql_page/start.js" in names
    entry_points = zipfile.ZipFile(installed.wheel).read("customer_gateway-0.1.0.dist-info/entry_points.txt")
    assert "customer-gateway = gateway.__main__:main" in entry_points.decode()
    assert not [name for name in names if name.startswith(("tests/", "web/", "node_modules/"))]


def test_it_installs_from_the_lock_alone_and_runs_from_its_own_files(installed: Installed) -> None:
    assert installed.run("pip", "check").returncode == 0
    frozen = installed.run("pip", "freeze", "--exclude-editable").stdout
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.M))
    installed_versions = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)$", frozen, re.M))

    def canonical(versions: dict[str, str]) -> dict[str, str]:
        return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in versions.items()}

    assert canonical(installed_versions) == canonical(pins)  # exactly the lock, nothing resolved besides
    assert re.search(r"^customer.gateway @ file:", frozen, re.M), frozen
    where = installed.run(
        "python", "-c", "import gateway, gateway.settings as g; print(gateway.__file__, g.default_assets_dir())"
    )
    module, assets = where.stdout.split()
    assert Path(module).is_relative_to(installed.venv)
    assert Path(assets) == Path(module).parent / "graphiql_page" / "assets"


def test_its_command_exports_the_checked_in_schema(installed: Installed) -> None:
    exported = installed.run("customer-gateway", "export-schema")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == (ROOT / "schema.graphql").read_text()


@pytest.fixture
def served(installed: Installed) -> Iterator[str]:
    """``customer-gateway serve --port 0`` on its embedded sandbox, from the directory without web/."""
    process = subprocess.Popen(
        [str(installed.venv / "bin" / "customer-gateway"), "serve", "--port", "0"],
        cwd=installed.elsewhere, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None

    def read() -> None:
        for line in process.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    output: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail("the installed gateway did not start in 30 s: " + "".join(output[-20:]))
            output.append(line)
            if match := LISTENING.search(line):
                break
            if process.poll() is not None and lines.empty():
                pytest.fail("the installed gateway exited: " + "".join(output[-20:]))
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    while not lines.empty():
        output.append(lines.get())
    assert not any("GraphiQL assets missing" in line for line in output), output


def test_installed_it_serves_graphiql_offline_without_web(installed: Installed, served: str) -> None:
    assert not (installed.elsewhere / "web").exists()
    with httpx.Client(base_url=served, timeout=10) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        assert 'src="/graphiql/graphiql.js"' in page.text
        for name, path in NPM_ASSETS.items():
            asset = client.get(f"/graphiql/{name}")
            assert asset.status_code == 200, name
            if (ROOT / "web" / "node_modules" / path).is_file():
                assert asset.content == (ROOT / "web" / "node_modules" / path).read_bytes(), name
        assert client.get("/graphiql/start.js").status_code == 200


def test_the_installed_venv_does_not_reach_into_the_source_tree(installed: Installed) -> None:
    (site,) = (installed.venv / "lib").glob("python3.*/site-packages")
    assert not list(site.glob("__editable__*"))
    assert not [pth for pth in site.glob("*.pth") if str(ROOT) in pth.read_text()]
