# syntax=docker/dockerfile:1
# The gateway as a slim, non-root image. Settings come from GATEWAY_* variables (see README.md), e.g.
#   docker build -t customer-gateway .
#   docker run -p 8000:8000 -e GATEWAY_UPSTREAM_URL=https://api.polar.sh customer-gateway
# Without GATEWAY_UPSTREAM_URL it serves its embedded sandbox with demo data.

# 1. GraphiQL's assets from the npm registry, pinned by web/package-lock.json; only the files it serves.
FROM node:20-bookworm-slim AS graphiql
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY gateway/graphiql_page/assets.txt /build/assets.txt
RUN mkdir /assets && cd node_modules && awk '{ print $2 }' /build/assets.txt | xargs -I{} cp --parents {} /assets/

# 2. Wheels: the dependencies exactly as requirements.lock pins them (hashes checked), then the gateway's
# own, which carries GraphiQL's assets (setup.py copies them in from web/node_modules, given here).
FROM python:3.11-slim-bookworm AS wheels
WORKDIR /build
COPY requirements.lock ./
RUN pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements.lock
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY gateway ./gateway
COPY --from=graphiql /assets ./web/node_modules
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# 3. The runtime: those wheels and nothing else (no index, no resolution), an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-compile --no-index --no-deps /wheels/*.whl \
    && pip check \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin gateway
WORKDIR /app
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}/healthz\", timeout=2)"]
# Stopping: python is PID 1 (exec form, no shell, no init). PID 1 ignores every signal it has no handler
# for, so the gateway installs its own for SIGTERM and SIGINT (gateway/__main__.py, gateway/workers.py):
# on `docker stop` it stops accepting, lets requests in flight finish for up to GATEWAY_SHUTDOWN_GRACE_S
# (20 s) and exits 0. Docker sends SIGKILL after 10 s unless told otherwise: give it more (`docker stop
# -t 30`, compose `stop_grace_period: 30s`; Kubernetes waits 30 s by default). With --workers N, PID 1 is
# the parent, which waits for (and so reaps) its workers and its sandbox; no init is needed for that.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "gateway", "serve"]
