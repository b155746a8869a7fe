"""The trusted-documents manifest (``gateway.persisted.manifest``): Apollo's persisted-query manifest and Relay's
``persisted_queries.json`` read into documents by id and by SHA-256; every other shape refused with a
``ManifestError`` whose message says what is wrong without quoting a document (the message ends up in the
start-up error, and a manifest's documents are the frontend's code)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gateway.persisted.manifest import APOLLO_FORMAT, Manifest, ManifestError, load_manifest, sha256_hex

CUSTOMERS = "query Customers { customers(first: 2) { nodes { id } } }"
TYPENAME = "query Typename { __typename }"
SECRET_DOCUMENT = "query SecretOperationOfTheFrontend { __typename }"  # must never be quoted by an error


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write(tmp_path: Path, content: object, name: str = "manifest.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _apollo(*bodies: str) -> dict[str, object]:
    """A manifest as ``@apollo/generate-persisted-query-manifest`` writes it (ids are the bodies' SHA-256)."""
    operations = [{"id": _digest(body), "name": body.split()[1], "type": "query", "body": body} for body in bodies]
    return {"format": APOLLO_FORMAT, "version": 1, "operations": operations}


# Both formats ------------------------------------------------------------------------------------------


def test_an_apollo_manifest_gives_each_document_by_its_id_and_by_its_digest(tmp_path: Path) -> None:
    manifest = load_manifest(_write(tmp_path, _apollo(CUSTOMERS, TYPENAME)))
    assert len(manifest) == 2
    assert manifest.by_id == {_digest(CUSTOMERS): CUSTOMERS, _digest(TYPENAME): TYPENAME}
    assert manifest.by_digest == {_digest(CUSTOMERS): CUSTOMERS, _digest(TYPENAME): TYPENAME}
    assert manifest.find(_digest(CUSTOMERS)) == CUSTOMERS
    assert manifest.find(_digest(CUSTOMERS + " ")) is None


def test_an_apollo_manifest_with_ids_of_its_own_is_found_by_either(tmp_path: Path) -> None:
    data = {"format": APOLLO_FORMAT, "version": 1, "operations": [{"id": "sha256:custom-1", "body": CUSTOMERS}]}
    manifest = load_manifest(_write(tmp_path, data))
    assert manifest.find("sha256:custom-1") == CUSTOMERS
    assert manifest.find(_digest(CUSTOMERS)) == CUSTOMERS  # Apollo's link hashes the text itself


def test_a_relay_manifest_gives_each_document_by_its_id_and_by_its_digest(tmp_path: Path) -> None:
    relay_id = hashlib.md5(CUSTOMERS.encode()).hexdigest()  # Relay's compiler writes md5 ids by default
    manifest = load_manifest(_write(tmp_path, {relay_id: CUSTOMERS, "typename-1": TYPENAME}))
    assert len(manifest) == 2
    assert manifest.find(relay_id) == CUSTOMERS
    assert manifest.find("typename-1") == TYPENAME
    assert manifest.find(_digest(TYPENAME)) == TYPENAME
    assert manifest.find("unknown") is None


def test_trusts_only_the_documents_byte_for_byte(tmp_path: Path) -> None:
    manifest = load_manifest(_write(tmp_path, {"a": CUSTOMERS}))
    assert manifest.trusts(CUSTOMERS)
    assert not manifest.trusts(CUSTOMERS + " ")  # same operation, other bytes: not the reviewed document
    assert not manifest.trusts(CUSTOMERS.replace("2", "3"))
    assert not manifest.trusts("")


def test_a_non_ascii_document_is_hashed_as_utf8(tmp_path: Path) -> None:
    text = 'query Ünïcode { customers(first: 1, query: "ø") { totalCount } }'
    manifest = load_manifest(_write(tmp_path, {"u": text}))
    assert manifest.find(hashlib.sha256(text.encode("utf-8")).hexdigest()) == text
    assert sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_manifest_is_a_value_error_for_the_settings() -> None:
    """pydantic turns a ValueError raised by a validator into an "invalid settings" message."""
    assert issubclass(ManifestError, ValueError)


def test_the_manifest_type_is_built_from_ids_and_digests() -> None:
    manifest = Manifest({"a": CUSTOMERS}, {_digest(CUSTOMERS): CUSTOMERS})
    assert manifest.find("a") == manifest.find(_digest(CUSTOMERS)) == CUSTOMERS


# Every malformed shape ----------------------------------------------------------------------------------

MALFORMED: list[tuple[str, object, str]] = [
    ("not JSON", '{"a": "' + SECRET_DOCUMENT + '"', "is not JSON"),
    ("not JSON at all", SECRET_DOCUMENT, "is not JSON"),
    ("empty file", "", "is not JSON"),
    ("a JSON list", [SECRET_DOCUMENT], "neither an Apollo persisted-query manifest nor Relay's"),
    ("a quoted JSON string", json.dumps(SECRET_DOCUMENT), "neither an Apollo persisted-query manifest nor Relay's"),
    ("a number", "42", "neither an Apollo persisted-query manifest nor Relay's"),
    ("null", "null", "neither an Apollo persisted-query manifest nor Relay's"),
    ("an empty Relay manifest", {}, "lists no documents"),
    ("a Relay value that is not text", {"a": SECRET_DOCUMENT, "b": 5}, "neither an Apollo"),
    ("a Relay value that is a list", {"a": [SECRET_DOCUMENT]}, "neither an Apollo"),
    ("a Relay value that is an object", {"a": {"body": SECRET_DOCUMENT}}, "neither an Apollo"),
    (
        "Apollo's fields without format",
        {"version": 1, "operations": [{"id": "a", "body": SECRET_DOCUMENT}]},
        "neither an Apollo",
    ),
    ("another format", {"format": "relay", "version": 1, "operations": []}, f'"format": "{APOLLO_FORMAT}"'),
    ("a format that is a document", {"format": SECRET_DOCUMENT, "version": 1}, f'"format": "{APOLLO_FORMAT}"'),
    ("version 2", {"format": APOLLO_FORMAT, "version": 2, "operations": []}, '"version": 1'),
    ("version as text", {"format": APOLLO_FORMAT, "version": "1", "operations": []}, '"version": 1'),
    ("no version", {"format": APOLLO_FORMAT, "operations": []}, '"version": 1'),
    ("no operations", {"format": APOLLO_FORMAT, "version": 1}, 'a list of "operations"'),
    (
        "operations as an object",
        {"format": APOLLO_FORMAT, "version": 1, "operations": {"a": SECRET_DOCUMENT}},
        'a list of "operations"',
    ),
    ("no operation", {"format": APOLLO_FORMAT, "version": 1, "operations": []}, "lists no documents"),
    (
        "an operation that is text",
        {"format": APOLLO_FORMAT, "version": 1, "operations": [SECRET_DOCUMENT]},
        'operation 0 of the manifest needs a string "id" and a string "body"',
    ),
    (
        "an operation without a body",
        {"format": APOLLO_FORMAT, "version": 1, "operations": [{"id": "a"}]},
        'operation 0 of the manifest needs a string "id" and a string "body"',
    ),
    (
        "an operation without an id",
        {
            "format": APOLLO_FORMAT,
            "version": 1,
            "operations": [{"id": "a", "body": "{ a }"}, {"body": SECRET_DOCUMENT}],
        },
        'operation 1 of the manifest needs a string "id" and a string "body"',
    ),
    (
        "a body that is not text",
        {"format": APOLLO_FORMAT, "version": 1, "operations": [{"id": SECRET_DOCUMENT, "body": [SECRET_DOCUMENT]}]},
        'operation 0 of the manifest needs a string "id" and a string "body"',
    ),
    (
        "an id that is a number",
        {"format": APOLLO_FORMAT, "version": 1, "operations": [{"id": 1, "body": SECRET_DOCUMENT}]},
        'operation 0 of the manifest needs a string "id" and a string "body"',
    ),
]


@pytest.mark.parametrize(("content", "expected"), [(c, e) for _, c, e in MALFORMED], ids=[i for i, _, _ in MALFORMED])
def test_a_malformed_manifest_says_what_is_wrong_and_quotes_no_document(
    tmp_path: Path, content: object, expected: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ManifestError) as refused:
        load_manifest(path)
    message = str(refused.value)
    assert expected in message
    assert "SecretOperation" not in message
    assert "__typename" not in message


def test_bytes_that_are_not_utf8_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00" + SECRET_DOCUMENT.encode())
    with pytest.raises(ManifestError, match="is not JSON") as refused:
        load_manifest(path)
    assert "SecretOperation" not in str(refused.value)


def test_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(ManifestError, match=r"cannot read .*nowhere\.json: No such file or directory"):
        load_manifest(path)


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path)
