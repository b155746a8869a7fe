"""``POST /v1/customers/importCSV``: a multipart ``file`` whose rows are upserted by ``Source_id`` (or ``Id``)
when its async action reaches DONE. A matched profile is overwritten whole, metadata included. Headers are
matched case-insensitively, in both the docs' spelling (``Address_City``) and the template's (``City``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from .activity import record
from .errors import invalid_payload
from .model import Customer
from .state import REQUEST_ID, project_of, queue_of
from .store import Project
from .validation import is_date

_STANDARD = {
    "id": "id", "source_id": "source_id", "name": "name", "email": "email", "phone": "phone",
    "birthdate": "birthdate", "description": "description",
    "address_line_1": "address.line_1", "address_line_2": "address.line_2",
    "address_postal_code": "address.postal_code", "postal_code": "address.postal_code",
    "address_city": "address.city", "city": "address.city",
    "address_state": "address.state", "state": "address.state",
    "address_country": "address.country", "country": "address.country",
}  # fmt: skip
_LITERALS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


async def import_csv(request: web.Request) -> web.Response:
    project = project_of(request)
    if not request.content_type.startswith("multipart/"):
        raise invalid_payload("The payload must be multipart/form-data with a file part")
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise invalid_payload("Property file is required")
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid_payload("The file must be UTF-8 text") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise invalid_payload("The file must start with a header line")
    header = [cell.strip() for cell in rows[0]]
    records = [dict(zip(header, row, strict=False)) for row in rows[1:] if any(cell.strip() for cell in row)]
    action_id = queue_of(request).schedule(
        project, "CUSTOMERS.IMPORT_CSV", request[REQUEST_ID], lambda: _import(project, records)
    )
    return web.json_response({"async_action_id": action_id}, status=202)


def _import(project: Project, records: list[dict[str, str]]) -> dict[str, Any]:
    failed: list[dict[str, Any]] = []
    done = 0
    for number, row in enumerate(records, start=1):
        fields, keys = _fields(row)
        reason = _problem(project, keys, fields)
        if reason is not None:
            failed.append({"source_id": keys.get("source_id", ""), "row": number, "reason": reason})
            continue
        customer = project.customers.get(keys["id"]) if "id" in keys else project.find(keys["source_id"])
        if customer is None or ("id" not in keys and customer.source_id != keys["source_id"]):
            customer = Customer(id=project.new_id("cust_"), created_at=project.tick(), source_id=keys["source_id"])
            project.add(customer)
            record(project, customer, "customer.created", customer.created_at)
        else:
            customer.updated_at = project.tick()
        customer.fields = fields
        done += 1
    message = f"{done} customer(s) imported successfully, {len(failed)} failed."
    return {"message": message, "failed": failed, "done_count": done, "failed_count": len(failed)}


def _fields(row: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    fields: dict[str, Any] = {}
    keys: dict[str, str] = {}
    address: dict[str, str] = {}
    metadata: dict[str, Any] = {}
    for column, raw in row.items():
        value = raw.strip()
        target = _STANDARD.get(column.lower())
        if target is None:
            if value:
                metadata[column] = _LITERALS.get(value.lower(), value)
        elif not value:
            continue
        elif target in ("id", "source_id"):
            keys[target] = value
        elif target.startswith("address."):
            address[target.removeprefix("address.")] = value
        else:
            fields[target] = value
    if address:
        fields["address"] = address
    fields["metadata"] = metadata
    return fields, keys


def _problem(project: Project, keys: dict[str, str], fields: dict[str, Any]) -> str | None:
    if not keys:
        return "Source_id or Id is required"
    if "id" in keys and keys["id"] not in project.customers:
        return f"Cannot find customer with id {keys['id']}"
    if "birthdate" in fields and not is_date(fields["birthdate"]):
        return "Birthdate must be a date (YYYY-MM-DD)"
    return None
