"""What pyproject.toml, the locks and the Makefile promise, checked without building or installing anything
(tests/test_packaging.py builds and installs): every imported package is declared, the engine is bounded,
both locks pin everything declared at versions that fit, agree with each other, and are what make and the
Dockerfile install."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
DEV = [Requirement(line) for line in PROJECT["optional-dependencies"]["dev"]]
MAKEFILE = (ROOT / "Makefile").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _pins(lock: str) -> dict[str, Version]:
    text = (ROOT / lock).read_text()
    return {
        canonicalize_name(name): Version(version)
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, flags=re.MULTILINE)
    }


def _imported_distributions(folder: str) -> dict[str, set[str]]:
    """Top-level module imported anywhere under ``folder`` -> the distributions that provide it."""
    modules: set[str] = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    own = {"gateway", "tests", "__future__", "_typeshed"}  # _typeshed: the type checker's stubs, never run
    providers = packages_distributions()
    return {
        module: {canonicalize_name(name) for name in providers.get(module, [])}
        for module in sorted(modules - own - set(sys.stdlib_module_names))
    }


@pytest.mark.parametrize(
    ("folder", "declared"),
    [("gateway", RUNTIME), ("tests", RUNTIME + DEV)],
)
def test_every_imported_package_is_declared(folder: str, declared: list[Requirement]) -> None:
    names = {canonicalize_name(requirement.name) for requirement in declared}
    imported = _imported_distributions(folder)
    assert imported
    undeclared = {module: sorted(dists) for module, dists in imported.items() if not dists & names}
    assert not undeclared, f"imported under {folder}/ but not declared in pyproject.toml: {undeclared}"


@pytest.mark.parametrize("engine", ["strawberry-graphql", "graphql-core"])
def test_the_engine_is_bounded_above_by_the_minor_the_tests_cover(engine: str) -> None:
    (requirement,) = [r for r in RUNTIME if canonicalize_name(r.name) == engine]
    upper = [spec for spec in requirement.specifier if spec.operator == "<"]
    assert upper, f"{engine} has no upper bound"
    locked = _pins("requirements.lock")[engine]
    assert locked in requirement.specifier
    assert Version(upper[0].version) <= Version(f"{locked.major}.{locked.minor + 1}")


@pytest.mark.parametrize(
    ("lock", "declared"), [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)]
)
def test_each_lock_pins_everything_declared_at_a_version_that_fits(lock: str, declared: list[Requirement]) -> None:
    pins = _pins(lock)
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared but not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name], lock)


def test_the_locks_agree_and_are_hashed() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert not {"pytest", "hypothesis", "polar-sdk", "ruff", "mypy", "uv"} & set(runtime), (
        "a dev tool in the runtime lock"
    )
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert all("--hash=sha256:" in block for block in blocks if "==" in block), lock
        assert "#    make lock" in text, "the lock's header names the command that refreshes it"


def test_make_and_the_dockerfile_install_from_the_locks() -> None:
    stamp = re.search(r"^\$\(STAMP\):(.*)$", MAKEFILE, flags=re.MULTILINE)
    assert stamp is not None
    assert "requirements-dev.lock" in stamp.group(1).split()
    assert "--require-hashes -r requirements-dev.lock" in MAKEFILE
    assert "-e '.[dev]'" not in MAKEFILE  # the dev extra comes from the lock, not from a fresh resolution
    assert re.search(r"^lock:", MAKEFILE, flags=re.MULTILINE)
    assert "--require-hashes --wheel-dir /wheels -r requirements.lock" in DOCKERFILE
    assert "--no-index --no-deps /wheels/*.whl" in DOCKERFILE


def test_every_apt_get_waits_for_the_package_lock() -> None:
    """A second install running (a fresh clone's first `make test` met one) is waited for, not an error."""
    assert [line for line in MAKEFILE.splitlines() if "apt-get" in line] == [
        "APT := $(SUDO) apt-get -o DPkg::Lock::Timeout=600"
    ]
    for target in ("node", "chromium", "redis"):
        recipe = MAKEFILE.split(f"\n{target}:\n", 1)[1].split("\n", 1)[0]
        assert "$(APT) update" in recipe, target
        assert "$(APT) install" in recipe, target


def test_make_test_and_bench_install_redis() -> None:
    """Their tests and scenarios start Debian's redis-server (tests/redis_server.py)."""
    for target in ("test", "bench"):
        prerequisites = re.search(rf"^{target}:(.*)$", MAKEFILE, flags=re.MULTILINE)
        assert prerequisites is not None, target
        assert "redis" in prerequisites.group(1).split(), target


def test_make_test_runs_the_unit_tests_first() -> None:
    recipe = MAKEFILE.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip() for line in recipe.splitlines()[1:]]
    assert commands[0].startswith("$(BIN)/pytest tests/unit")
    assert commands[1] == "$(BIN)/pytest --ignore=tests/unit"


def test_the_distribution_has_its_own_name_and_command() -> None:
    assert PROJECT["name"] == "customer-gateway"
    assert PROJECT["scripts"] == {"customer-gateway": "gateway.__main__:main"}
