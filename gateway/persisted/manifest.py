"""The trusted-documents manifest: the operations a frontend was built with, by id, in either format the
clients' own tools write:

- Apollo's persisted-query manifest (``@apollo/generate-persisted-query-manifest``):
  ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "body", ...}]}``;
- Relay's ``persisted_queries.json`` (the compiler's ``persistConfig``): ``{"<id>": "<document>"}``.

A document is also known by the SHA-256 of its text, so a client that hashes its documents itself (Apollo's
persisted-query link) finds a trusted one whatever ids the manifest uses."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """The file is not a manifest in either format; the message says what is wrong, never a document."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Manifest:
    by_id: dict[str, str]  # the manifest's ids -> document text
    by_digest: dict[str, str]  # SHA-256 of each text (hex) -> the text

    def find(self, reference: str) -> str | None:
        """The document of an id, or of a SHA-256; None when the manifest has neither."""
        return self.by_id.get(reference) or self.by_digest.get(reference)

    def trusts(self, text: str) -> bool:
        """Whether ``text`` is, byte for byte, one of the manifest's documents."""
        return sha256_hex(text) in self.by_digest

    def __len__(self) -> int:
        return len(self.by_id)


def load_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_bytes())
    except OSError as error:
        raise ManifestError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise ManifestError(f"{path} is not JSON: {error}") from None
    by_id = _apollo_operations(data) if isinstance(data, dict) and "format" in data else _relay_documents(data)
    if not by_id:
        raise ManifestError(f"{path} lists no documents")
    return Manifest(by_id, {sha256_hex(text): text for text in by_id.values()})


def _apollo_operations(data: dict[str, object]) -> dict[str, str]:
    if data.get("format") != APOLLO_FORMAT or data.get("version") != 1:
        raise ManifestError(f'an Apollo manifest needs "format": "{APOLLO_FORMAT}" and "version": 1')
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError('an Apollo manifest needs a list of "operations"')
    by_id: dict[str, str] = {}
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or not all(isinstance(operation.get(k), str) for k in ("id", "body")):
            raise ManifestError(f'operation {number} of the manifest needs a string "id" and a string "body"')
        by_id[operation["id"]] = operation["body"]
    return by_id


def _relay_documents(data: object) -> dict[str, str]:
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ManifestError(
            "the file is neither an Apollo persisted-query manifest nor Relay's persisted_queries.json "
            '({"<id>": "<document>", ...})'
        )
    return dict(data)
