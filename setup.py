"""One build step added to setuptools (everything else is in pyproject.toml): GraphiQL's npm assets go into
the wheel, so an installed gateway serves GraphiQL offline with no ``web/`` folder at run time.

The files are the ones ``gateway/graphiql_page/assets.txt`` lists, copied from ``web/node_modules`` (what
``npm ci --prefix web`` installs, pinned by ``web/package-lock.json``) to ``gateway/graphiql_page/assets/``
in the build directory, at their ``node_modules`` paths. When ``web/node_modules`` lacks them and npm is
on the PATH, the build runs ``npm ci`` first; without either it stops and says so. An editable install
(``pip install -e .``, what ``make`` does) copies nothing: it serves them from ``web/node_modules``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"
LISTED = ROOT / "gateway" / "graphiql_page" / "assets.txt"


def listed_assets() -> list[str]:
    """Paths under node_modules, from the same list the gateway serves (gateway/graphiql.py)."""
    return [line.split()[1] for line in LISTED.read_text().splitlines() if line.strip()]


def node_modules() -> Path:
    modules = WEB / "node_modules"
    if all((modules / path).is_file() for path in listed_assets()):
        return modules
    npm = shutil.which("npm")
    if npm is None or not (WEB / "package-lock.json").is_file():
        raise SystemExit(
            "GraphiQL's assets are not in web/node_modules and npm is not available to install them: "
            "run `npm ci --prefix web` (or `make install`) before building the wheel."
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(WEB)], check=True)
    return modules


class BuildPyWithGraphiQL(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = node_modules()
        target = Path(self.build_lib) / "gateway" / "graphiql_page" / "assets"
        for path in listed_assets():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / path, target / path)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "gateway" / "graphiql_page" / "assets"
            outputs += [str(target / path) for path in listed_assets()]
        return outputs


setup(cmdclass={"build_py": BuildPyWithGraphiQL})
