"""GraphiQL served by the gateway itself: no CDN, so it works on a closed network.

The assets come from the npm registry at build time (``web/package.json`` and its lockfile, installed by
``make`` with ``npm ci``) and are served from a fixed list under ``/graphiql/``. A built wheel (``pip
install .``, the Docker image) carries them in ``graphiql_page/assets/`` (setup.py copies them there);
a source checkout serves them from ``web/node_modules``. The page pre-fills
the Authorization header (with the demo token when the upstream is the embedded sandbox) and an example
query, and keeps the headers the developer types across reloads. Subscriptions run over a WebSocket on the
same path (graphql-ws's browser client; ``start.js`` sends the Headers tab as the connection's params).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

from aiohttp import web

from .http.keys import GRAPHIQL_ASSETS, GRAPHIQL_TOKEN, GRAPHIQL_VOUCHERIFY_KEYS
from .http.voucherify_keys import APP_ID, APP_TOKEN

ASSET_ROUTE = "/graphiql"
_OWN_DIR = Path(__file__).parent / "graphiql_page"

# URL name -> path under node_modules: the files GraphiQL needs, and all the Dockerfile copies of them.
NPM_ASSETS = dict(line.split() for line in (_OWN_DIR / "assets.txt").read_text().splitlines() if line.strip())
OWN_ASSETS = {"start.js": "start.js"}
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
# No inline script and nothing from another origin; GraphiQL sets inline styles and uses data: icons.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

EXAMPLE_QUERY = """# The newest customers and what they subscribe to.
# Your token goes in Headers, below. Ctrl-Enter runs.
query FirstCustomers {
  customers(first: 5) {
    totalCount
    nodes {
      id
      email
      name
      state {
        activeSubscriptions { status amount currency recurringInterval }
        grantedBenefits { benefitType }
      }
    }
  }
}
"""
PLACEHOLDER_TOKEN = "<your Polar organization access token>"

log = logging.getLogger("gateway.graphiql")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Customer gateway · GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{assets}/graphiql.css">
  <link rel="stylesheet" href="{assets}/explorer.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script type="application/json" id="graphiql-settings">{settings}</script>
  <script src="{assets}/react.js"></script>
  <script src="{assets}/react-dom.js"></script>
  <script src="{assets}/graphiql.js"></script>
  <script src="{assets}/explorer.js"></script>
  <script src="{assets}/graphql-ws.js"></script>
  <script src="{assets}/start.js"></script>
</body>
</html>
"""


def missing_assets(directory: Path) -> list[str]:
    return [path for path in NPM_ASSETS.values() if not (directory / path).is_file()]


def render_page(request: web.Request) -> web.Response:
    """The GraphiQL page, or a 503 that says how to install the assets when they are missing."""
    directory = request.app[GRAPHIQL_ASSETS]
    missing = missing_assets(directory)
    if missing:
        return web.Response(
            status=503,
            text=f"GraphiQL's assets are not installed in {directory} (missing {missing[0]}): "
            "run `make install`, which runs `npm ci --prefix web` (a built wheel carries them).",
        )
    token = request.app.get(GRAPHIQL_TOKEN, PLACEHOLDER_TOKEN)
    headers = {"Authorization": f"Bearer {token}"}
    if (voucherify := request.app.get(GRAPHIQL_VOUCHERIFY_KEYS)) is not None:
        headers |= {APP_ID: voucherify[0], APP_TOKEN: voucherify[1]}
    settings = {"url": request.path, "query": EXAMPLE_QUERY, "headers": json.dumps(headers, indent=2)}
    # Inside <script type="application/json">, "</script" or "<!--" would change how HTML parses it.
    embedded = json.dumps(settings).replace("<", "\\u003c")
    body = PAGE.format(assets=html.escape(ASSET_ROUTE), settings=embedded)
    return web.Response(
        text=body, content_type="text/html", headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY}
    )


async def serve_asset(request: web.Request) -> web.StreamResponse:
    """One file of the fixed list; anything else is a 404 (no path from the URL reaches the disk)."""
    name = request.match_info["name"]
    if name in NPM_ASSETS:
        path = request.app[GRAPHIQL_ASSETS] / NPM_ASSETS[name]
    elif name in OWN_ASSETS:
        path = _OWN_DIR / OWN_ASSETS[name]
    else:
        raise web.HTTPNotFound(text=f"no GraphiQL asset named {name!r}")
    if not path.is_file():
        raise web.HTTPNotFound(text=f"GraphiQL asset {name!r} is not installed: run `make install`")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": CONTENT_TYPES[path.suffix],
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


def add_routes(app: web.Application, directory: Path) -> None:
    app[GRAPHIQL_ASSETS] = directory
    if missing := missing_assets(directory):
        log.warning("GraphiQL assets missing in %s (%s); run `make install`", directory, missing[0])
    app.router.add_get(ASSET_ROUTE + "/{name}", serve_asset)
