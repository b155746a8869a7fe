"""How the gateway is put together: the command line composes, the application factory serves the upstream
it is given, settings depend on no handler, app keys live in one module. Read from the code (``ast``) and
from fresh interpreters (``sys.modules``), so a stray import fails here, not in production."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.http.keys import GRAPHIQL_TOKEN
from gateway.settings import Settings

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"
# The composition root: the command line starts the embedded sandbox (workers.py runs it as a process).
COMPOSITION_ROOT = {"gateway.__main__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(GATEWAY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved, with ``from x import y`` giving ``x.y``
    too (``y`` may be a module)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _gateway_modules() -> list[Path]:
    return sorted(GATEWAY.rglob("*.py"))


def _loaded_by(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(result.stdout.split())


def test_module_names_and_relative_imports_are_resolved() -> None:
    """The walk below must see what it looks for, or it proves nothing."""
    assert _module_name(GATEWAY / "http" / "tokens.py") == "gateway.http.tokens"
    assert "gateway.sandbox.runner" in _imports(GATEWAY / "__main__.py")
    assert "gateway.http.keys" in _imports(GATEWAY / "graphql" / "view.py")
    assert "gateway.upstream.budget" in _imports(GATEWAY / "http" / "deadline.py")


def test_nothing_but_the_command_line_imports_the_sandbox() -> None:
    importers = []
    for path in _gateway_modules():
        name = _module_name(path)
        if name == "gateway.sandbox" or name.startswith("gateway.sandbox.") or name in COMPOSITION_ROOT:
            continue
        if any(module == "gateway.sandbox" or module.startswith("gateway.sandbox.") for module in _imports(path)):
            importers.append(name)
    assert importers == []


def test_the_application_factory_loads_no_sandbox() -> None:
    loaded = _loaded_by("import gateway.app")
    assert "gateway.app" in loaded
    assert not {module for module in loaded if module.startswith("gateway.sandbox")}


def test_settings_depend_on_no_other_gateway_module() -> None:
    """Handlers depend on settings, never the other way: loading settings loads no web framework."""
    assert {module for module in _imports(GATEWAY / "settings.py") if module.startswith("gateway")} == set()
    loaded = _loaded_by("import gateway.settings")
    assert "gateway.settings" in loaded
    assert {module for module in loaded if module.startswith(("gateway.", "aiohttp", "strawberry"))} == {
        "gateway.settings"
    }


def test_every_app_key_is_made_in_one_module() -> None:
    """``web.AppKey`` outside ``gateway/http/keys.py`` (and the sandbox, another application) is a key
    that handlers and the factory could disagree about."""
    makers = []
    for path in _gateway_modules():
        name = _module_name(path)
        if name in {"gateway.http.keys"} or name.startswith("gateway.sandbox"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "AppKey":
                makers.append(f"{name}:{node.lineno}")
    assert makers == []


def test_the_factory_serves_the_upstream_it_is_handed() -> None:
    """No upstream, no app: the factory never falls back to starting a sandbox of its own."""
    with pytest.raises(ValueError, match="no upstream"):
        create_app(Settings())
    handed = create_app(Settings(), "http://127.0.0.1:9", demo_token="polar_oat_demo")
    configured = create_app(Settings(upstream_url="http://127.0.0.1:9"))
    assert handed[GRAPHIQL_TOKEN] == "polar_oat_demo"
    assert GRAPHIQL_TOKEN not in configured  # GraphiQL shows a placeholder, never a made-up token
    routes = {route.resource.canonical for route in configured.router.routes() if route.resource is not None}
    assert {"/graphql", "/export/customers.csv", "/healthz", "/readyz", "/metrics"} <= routes
