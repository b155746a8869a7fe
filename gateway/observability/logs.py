"""Logging: one JSON object per line (or plain text for a terminal), at the level of ``log_level``, each
with the request id. Nothing here adds tokens or personal data: callers log codes, routes and ids only."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
from pythonjsonlogger.json import JsonFormatter

from . import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
# Loggers of libraries that would print upstream URLs with their query strings (emails in filters, say).
QUIETED = ("httpx", "httpcore", "aiohttp.access")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current()
        return True


def _orjson_text(record: object, **_options: Any) -> str:
    """The formatter's serializer, several times faster than ``json.dumps`` (one access line a request)."""
    return orjson.dumps(record, default=str).decode()


def configure_logging(level: str, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
                json_serializer=_orjson_text,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIETED:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
