"""The sandbox's API v4 routes: account, users, pipelines, fields, contacts, leads,
notes, catalogs and links, in amoCRM's documented shapes."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from junction_amocrm.sandbox.problems import Refusal, ValidationFailed, problem
from junction_amocrm.sandbox.state import Account, SandboxState

HAL = "application/hal+json"
MAX_BATCH = 250
MAX_FIELDS_PAGE = 50


def hal(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=HAL)


def _page_params(request: Request, cap: int) -> tuple[int, int]:
    page = max(1, int(request.query_params.get("page", "1")))
    limit = min(cap, max(1, int(request.query_params.get("limit", str(cap)))))
    return page, limit


def _paged(
    request: Request, key: str, items: list[dict[str, Any]], cap: int = MAX_BATCH
) -> Response:
    page, limit = _page_params(request, cap)
    chunk = items[(page - 1) * limit : page * limit]
    if not chunk:
        return Response(status_code=204)
    base = str(request.url.remove_query_params(["page"]))
    links: dict[str, Any] = {
        "self": {"href": f"{base}&page={page}" if "?" in base else f"{base}?page={page}"}
    }
    if page * limit < len(items):
        separator = "&" if "?" in base else "?"
        links["next"] = {"href": f"{base}{separator}page={page + 1}"}
    return hal({"_page": page, "_links": links, "_embedded": {key: chunk}})


def _matches(query: str, entity: dict[str, Any]) -> bool:
    """amoCRM's `query` is loose: any filled field containing the text matches."""
    needle = query.lower()
    if needle in str(entity.get("name", "")).lower():
        return True
    for value in entity.get("custom_fields_values") or []:
        for item in value.get("values", []):
            if needle in str(item.get("value", "")).lower():
                return True
    return False


def _field_values(
    fields: list[dict[str, Any]],
    values: Any,
    request_id: str,
    errors: ValidationFailed,
    prefix: str = "custom_fields_values",
) -> list[dict[str, Any]] | None:
    if values is None:
        return None
    if not isinstance(values, list):
        errors.add(request_id, "InvalidType", prefix, "This value should be of type array.")
        return None
    by_id = {field["id"]: field for field in fields}
    by_code = {field["code"]: field for field in fields if field.get("code")}
    stored = []
    for index, value in enumerate(values):
        path = f"{prefix}.{index}"
        field = (
            by_id.get(value.get("field_id"))
            if "field_id" in value
            else by_code.get(value.get("field_code"))
        )
        if field is None:
            errors.add(
                request_id,
                "NotSupportedChoice",
                f"{path}.field_id",
                "The value you selected is not a valid choice.",
            )
            continue
        items = value.get("values")
        if items is None:
            continue
        if not isinstance(items, list):
            errors.add(
                request_id, "InvalidType", f"{path}.values", "This value should be of type array."
            )
            continue
        checked = []
        for position, item in enumerate(items):
            item_path = f"{path}.values.{position}"
            if field["enums"] and field["type"] in ("select", "multiselect", "radiobutton"):
                enums = {enum["id"]: enum for enum in field["enums"]}
                by_value = {enum["value"]: enum for enum in field["enums"]}
                enum = (
                    enums.get(item.get("enum_id"))
                    if "enum_id" in item
                    else by_value.get(item.get("value"))
                )
                if enum is None:
                    errors.add(
                        request_id,
                        "NotSupportedChoice",
                        f"{item_path}.enum_id",
                        "The value you selected is not a valid choice.",
                    )
                    continue
                checked.append({"value": enum["value"], "enum_id": enum["id"]})
            elif field["type"] == "checkbox":
                if not isinstance(item.get("value"), bool):
                    errors.add(
                        request_id,
                        "InvalidType",
                        f"{item_path}.value",
                        "This value should be of type bool.",
                    )
                    continue
                checked.append({"value": item["value"]})
            elif field["type"] in ("numeric", "price", "monetary"):
                try:
                    float(item.get("value"))
                except (TypeError, ValueError):
                    errors.add(
                        request_id,
                        "InvalidType",
                        f"{item_path}.value",
                        "This value should be of type numeric.",
                    )
                    continue
                checked.append({"value": str(item["value"])})
            else:
                if not isinstance(item.get("value"), (str, int, float)):
                    errors.add(
                        request_id,
                        "InvalidType",
                        f"{item_path}.value",
                        "This value should be of type string.",
                    )
                    continue
                entry = {"value": str(item["value"])}
                if "enum_code" in item:
                    entry["enum_code"] = item["enum_code"]
                checked.append(entry)
        stored.append(
            {
                "field_id": field["id"],
                "field_name": field["name"],
                "field_code": field.get("code"),
                "field_type": field["type"],
                "values": checked,
            }
        )
    return stored or None


def new_contact(
    state: SandboxState,
    account: Account,
    body: dict[str, Any],
    request_id: str = "0",
    errors: ValidationFailed | None = None,
) -> dict[str, Any]:
    errors = errors or ValidationFailed()
    contact = {
        "id": state.next_id(),
        "name": str(body.get("name", "")),
        "first_name": str(body.get("first_name", "")),
        "last_name": str(body.get("last_name", "")),
        "responsible_user_id": account.users[0]["id"],
        "created_at": int(time.time()),
        "updated_at": int(time.time()),
        "account_id": account.id,
        "custom_fields_values": _field_values(
            account.contact_fields, body.get("custom_fields_values"), request_id, errors
        ),
    }
    if errors.items:
        raise errors
    account.contacts[contact["id"]] = contact
    return contact


def _batch(body: Any, heavy_above: int = 0) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise Refusal(problem(400, "Bad Request", "Request body must be an array"))
    if len(body) > MAX_BATCH:
        raise Refusal(problem(422, "Unprocessable Entity", "Limit 250 per page"))
    if heavy_above and len(body) > heavy_above:
        raise Refusal(problem(504, "Gateway Timeout", "Gateway Timeout"))
    return body


def install(app: FastAPI, state: SandboxState) -> None:
    def account_of(request: Request) -> Account:
        account: Account = app.state.authenticate(request)
        return account

    def lead_in_path(request: Request) -> int | None:
        """The lead of `/leads/{id}/…`; None on the batch form, where each item names it."""
        value = request.path_params.get("lead_id")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise Refusal(problem(404, "Not Found", "Lead not found")) from None

    async def read_batch(request: Request) -> list[dict[str, Any]]:
        return _batch(await request.json(), app.state.options.gateway_timeout_above)

    @app.get("/api/v4/account")
    async def account_info(request: Request) -> Response:
        account = account_of(request)
        return hal(
            {
                "id": account.id,
                "name": account.name,
                "subdomain": account.subdomain,
                "current_user_id": account.users[0]["id"],
                "country": "RU",
                "currency": "RUB",
                "currency_symbol": "₽",
                "is_technical_account": False,
                "_links": {"self": {"href": f"{state.base_url}/api/v4/account"}},
            }
        )

    @app.get("/api/v4/users")
    async def users(request: Request) -> Response:
        account = account_of(request)
        return _paged(request, "users", account.users)

    @app.get("/api/v4/leads/pipelines")
    async def pipelines(request: Request) -> Response:
        account = account_of(request)
        return hal(
            {"_total_items": len(account.pipelines), "_embedded": {"pipelines": account.pipelines}}
        )

    @app.get("/api/v4/leads/custom_fields")
    async def lead_fields(request: Request) -> Response:
        account = account_of(request)
        return _paged(request, "custom_fields", account.lead_fields, MAX_FIELDS_PAGE)

    @app.get("/api/v4/contacts/custom_fields")
    async def contact_fields(request: Request) -> Response:
        account = account_of(request)
        return _paged(request, "custom_fields", account.contact_fields, MAX_FIELDS_PAGE)

    @app.get("/api/v4/contacts")
    async def contacts(request: Request) -> Response:
        account = account_of(request)
        query = request.query_params.get("query")
        found = [c for c in account.contacts.values() if not query or _matches(query, c)]
        return _paged(request, "contacts", found)

    @app.get("/api/v4/contacts/{contact_id}")
    async def contact(contact_id: int, request: Request) -> Response:
        account = account_of(request)
        if contact_id not in account.contacts:
            return Response(status_code=204)
        return hal(account.contacts[contact_id])

    @app.post("/api/v4/contacts")
    async def create_contacts(request: Request) -> Response:
        account = account_of(request)
        batch = await read_batch(request)
        errors = ValidationFailed()
        created = []
        for index, body in enumerate(batch):
            request_id = str(body.get("request_id", index))
            with contextlib.suppress(ValidationFailed):
                created.append(
                    {
                        "id": new_contact(state, account, body, request_id, errors)["id"],
                        "request_id": request_id,
                    }
                )
        if errors.items:
            return errors.response()
        return hal({"_embedded": {"contacts": created}})

    @app.patch("/api/v4/contacts")
    async def update_contacts(request: Request) -> Response:
        """Fields sent replace those fields' values; the others are kept."""
        account = account_of(request)
        batch = await read_batch(request)
        errors = ValidationFailed()
        updated: list[tuple[str, dict[str, Any]]] = []
        for index, body in enumerate(batch):
            request_id = str(body.get("request_id", index))
            existing = account.contacts.get(int(body.get("id") or 0))
            if existing is None:
                errors.add(request_id, "NotSupportedChoice", "id", "Contact not found.")
                continue
            values = _field_values(
                account.contact_fields, body.get("custom_fields_values"), request_id, errors
            )
            merged = {v["field_id"]: v for v in existing.get("custom_fields_values") or []}
            merged.update({v["field_id"]: v for v in values or []})
            updated.append(
                (
                    request_id,
                    {
                        **existing,
                        "custom_fields_values": list(merged.values()) or None,
                        "updated_at": int(time.time()),
                    },
                )
            )
        if errors.items:
            return errors.response()
        for _, contact in updated:
            account.contacts[contact["id"]] = contact
        answered = [{"id": c["id"], "request_id": rid} for rid, c in updated]
        return hal({"_embedded": {"contacts": answered}})

    def _lead_from(
        account: Account,
        body: dict[str, Any],
        request_id: str,
        errors: ValidationFailed,
        existing: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        lead = (
            dict(existing)
            if existing
            else {
                "id": state.next_id(),
                "name": "",
                "price": 0,
                "responsible_user_id": account.users[0]["id"],
                "pipeline_id": account.pipelines[0]["id"],
                "status_id": account.pipelines[0]["_embedded"]["statuses"][0]["id"],
                "created_at": int(time.time()),
                "account_id": account.id,
                "custom_fields_values": None,
                "_embedded": {"tags": [], "contacts": []},
            }
        )
        if "name" in body:
            lead["name"] = str(body["name"])
        if "price" in body:
            if not isinstance(body["price"], int) or isinstance(body["price"], bool):
                errors.add(request_id, "InvalidType", "price", "This value should be of type int.")
            else:
                lead["price"] = body["price"]
        if "pipeline_id" in body or "status_id" in body:
            pipeline = next(
                (
                    p
                    for p in account.pipelines
                    if p["id"] == body.get("pipeline_id", lead["pipeline_id"])
                ),
                None,
            )
            if pipeline is None:
                errors.add(
                    request_id,
                    "NotSupportedChoice",
                    "pipeline_id",
                    "The value you selected is not a valid choice.",
                )
            else:
                lead["pipeline_id"] = pipeline["id"]
                statuses = {s["id"] for s in pipeline["_embedded"]["statuses"]}
                status_id = body.get("status_id", lead["status_id"])
                if status_id not in statuses:
                    errors.add(
                        request_id,
                        "NotSupportedChoice",
                        "status_id",
                        "The value you selected is not a valid choice.",
                    )
                else:
                    lead["status_id"] = status_id
        if "responsible_user_id" in body:
            if body["responsible_user_id"] not in {u["id"] for u in account.users}:
                errors.add(
                    request_id,
                    "NotSupportedChoice",
                    "responsible_user_id",
                    "The value you selected is not a valid choice.",
                )
            else:
                lead["responsible_user_id"] = body["responsible_user_id"]
        if "custom_fields_values" in body:
            values = _field_values(
                account.lead_fields, body["custom_fields_values"], request_id, errors
            )
            merged = {v["field_id"]: v for v in (lead.get("custom_fields_values") or [])}
            if body["custom_fields_values"] is None:
                merged = {}
            for value in values or []:
                merged[value["field_id"]] = value
            lead["custom_fields_values"] = list(merged.values()) or None
        embedded = body.get("_embedded") or {}
        lead["_embedded"] = {
            "tags": list(lead["_embedded"]["tags"]),
            "contacts": list(lead["_embedded"]["contacts"]),
        }
        if "tags" in embedded:
            lead["_embedded"]["tags"] = [
                {"id": t.get("id", state.next_id()), "name": t.get("name", "")}
                for t in embedded["tags"]
            ]
        if "contacts" in embedded:
            linked = []
            for position, contact in enumerate(embedded["contacts"]):
                if contact.get("id") not in account.contacts:
                    errors.add(
                        request_id,
                        "NotSupportedChoice",
                        f"_embedded.contacts.{position}.id",
                        "Contact not found.",
                    )
                else:
                    linked.append(
                        {
                            "id": contact["id"],
                            "is_main": bool(contact.get("is_main", position == 0)),
                        }
                    )
            lead["_embedded"]["contacts"] = linked
        lead["updated_at"] = int(time.time())
        return lead

    @app.post("/api/v4/leads")
    async def create_leads(request: Request) -> Response:
        account = account_of(request)
        batch = await read_batch(request)
        errors = ValidationFailed()
        leads = [
            (
                str(body.get("request_id", index)),
                _lead_from(account, body, str(body.get("request_id", index)), errors),
            )
            for index, body in enumerate(batch)
        ]
        if errors.items:
            return errors.response()
        for _, lead in leads:
            account.leads[lead["id"]] = lead
        return hal(
            {
                "_links": {"self": {"href": f"{state.base_url}/api/v4/leads"}},
                "_embedded": {
                    "leads": [
                        {
                            "id": lead["id"],
                            "request_id": request_id,
                            "_links": {
                                "self": {"href": f"{state.base_url}/api/v4/leads/{lead['id']}"}
                            },
                        }
                        for request_id, lead in leads
                    ]
                },
            }
        )

    async def _update(account: Account, batch: list[dict[str, Any]]) -> Response:
        errors = ValidationFailed()
        updated = []
        for index, body in enumerate(batch):
            request_id = str(body.get("request_id", index))
            existing = account.leads.get(int(body.get("id") or 0))
            if existing is None:
                errors.add(request_id, "NotSupportedChoice", "id", "Lead not found.")
                continue
            updated.append(_lead_from(account, body, request_id, errors, existing))
        if errors.items:
            return errors.response()
        for lead in updated:
            account.leads[lead["id"]] = lead
        return hal(
            {
                "_embedded": {
                    "leads": [
                        {"id": lead["id"], "updated_at": lead["updated_at"]} for lead in updated
                    ]
                }
            }
        )

    @app.patch("/api/v4/leads")
    async def update_leads(request: Request) -> Response:
        account = account_of(request)
        batch = await read_batch(request)
        return await _update(account, batch)

    @app.patch("/api/v4/leads/{lead_id}")
    async def update_lead(lead_id: int, request: Request) -> Response:
        account = account_of(request)
        return await _update(account, [{**(await request.json()), "id": lead_id}])

    @app.get("/api/v4/leads")
    async def leads(request: Request) -> Response:
        account = account_of(request)
        query = request.query_params.get("query")
        found = [lead for lead in account.leads.values() if not query or _matches(query, lead)]
        return _paged(request, "leads", found)

    @app.get("/api/v4/leads/{lead_id}")
    async def lead(lead_id: int, request: Request) -> Response:
        account = account_of(request)
        found = account.leads.get(lead_id)
        if found is None:
            return Response(status_code=204)
        return hal(found)

    async def _add_notes(
        account: Account, batch: list[dict[str, Any]], entity_id: int | None
    ) -> Response:
        errors = ValidationFailed()
        notes = []
        for index, body in enumerate(batch):
            request_id = str(body.get("request_id", index))
            target = entity_id if entity_id is not None else body.get("entity_id")
            if target not in account.leads:
                errors.add(request_id, "NotSupportedChoice", "entity_id", "Entity not found.")
                continue
            if body.get("note_type") not in (
                "common",
                "extended_service_message",
                "service_message",
            ):
                errors.add(
                    request_id,
                    "NotSupportedChoice",
                    "note_type",
                    "The value you selected is not a valid choice.",
                )
                continue
            notes.append(
                {
                    "id": state.next_id(),
                    "entity_id": target,
                    "note_type": body["note_type"],
                    "params": body.get("params", {}),
                    "created_at": int(time.time()),
                    "account_id": account.id,
                    "request_id": request_id,
                }
            )
        if errors.items:
            return errors.response()
        for note in notes:
            account.notes[note["id"]] = note
        return hal(
            {
                "_embedded": {
                    "notes": [
                        {"id": n["id"], "entity_id": n["entity_id"], "request_id": n["request_id"]}
                        for n in notes
                    ]
                }
            }
        )

    @app.post("/api/v4/leads/notes")
    @app.post("/api/v4/leads/{lead_id}/notes")
    async def add_notes(request: Request) -> Response:
        account = account_of(request)
        batch = await read_batch(request)
        return await _add_notes(account, batch, lead_in_path(request))

    @app.get("/api/v4/leads/{lead_id}/notes")
    async def lead_notes(lead_id: int, request: Request) -> Response:
        account = account_of(request)
        return _paged(
            request, "notes", [n for n in account.notes.values() if n["entity_id"] == lead_id]
        )

    @app.get("/api/v4/catalogs")
    async def catalogs(request: Request) -> Response:
        account = account_of(request)
        listed = [{k: v for k, v in c.items() if k != "_embedded"} for c in account.catalogs]
        return _paged(request, "catalogs", listed)

    def _catalog(account: Account, catalog_id: int) -> dict[str, Any] | None:
        return next((c for c in account.catalogs if c["id"] == catalog_id), None)

    @app.get("/api/v4/catalogs/{catalog_id}/custom_fields")
    async def catalog_fields(catalog_id: int, request: Request) -> Response:
        account = account_of(request)
        catalog = _catalog(account, catalog_id)
        if catalog is None:
            return problem(404, "Not Found", "Catalog not found")
        return _paged(
            request, "custom_fields", catalog["_embedded"]["custom_fields"], MAX_FIELDS_PAGE
        )

    @app.get("/api/v4/catalogs/{catalog_id}/elements")
    async def elements(catalog_id: int, request: Request) -> Response:
        account = account_of(request)
        query = request.query_params.get("query")
        found = [
            e
            for e in account.elements.values()
            if e["catalog_id"] == catalog_id and (not query or _matches(query, e))
        ]
        return _paged(request, "elements", found)

    @app.post("/api/v4/catalogs/{catalog_id}/elements")
    async def create_elements(catalog_id: int, request: Request) -> Response:
        account = account_of(request)
        catalog = _catalog(account, catalog_id)
        if catalog is None:
            return problem(404, "Not Found", "Catalog not found")
        batch = await read_batch(request)
        errors = ValidationFailed()
        created: list[dict[str, Any]] = []
        for index, body in enumerate(batch):
            request_id = str(body.get("request_id", index))
            values = _field_values(
                catalog["_embedded"]["custom_fields"],
                body.get("custom_fields_values"),
                request_id,
                errors,
            )
            created.append(
                {
                    "id": state.next_id(),
                    "name": str(body.get("name", "")),
                    "catalog_id": catalog_id,
                    "custom_fields_values": values,
                    "request_id": request_id,
                }
            )
        if errors.items:
            return errors.response()
        for element in created:
            account.elements[element["id"]] = {
                k: v for k, v in element.items() if k != "request_id"
            }
        return hal(
            {
                "_embedded": {
                    "elements": [{"id": e["id"], "request_id": e["request_id"]} for e in created]
                }
            }
        )

    async def _link(
        account: Account, batch: list[dict[str, Any]], entity_id: int | None
    ) -> Response:
        errors = ValidationFailed()
        made = []
        for index, body in enumerate(batch):
            request_id = str(index)
            target = entity_id if entity_id is not None else body.get("entity_id")
            if target not in account.leads:
                errors.add(request_id, "NotSupportedChoice", "entity_id", "Entity not found.")
                continue
            if body.get("to_entity_type") == "catalog_elements":
                element = account.elements.get(int(body.get("to_entity_id") or 0))
                metadata = body.get("metadata") or {}
                if element is None or element["catalog_id"] != metadata.get("catalog_id"):
                    errors.add(
                        request_id, "NotSupportedChoice", "to_entity_id", "Element not found."
                    )
                    continue
                price_fields = {
                    f["id"]
                    for f in _catalog(account, element["catalog_id"])["_embedded"]["custom_fields"]  # type: ignore[index]
                    if f["type"] == "price"
                }
                if "price_id" in metadata and metadata["price_id"] not in price_fields:
                    errors.add(
                        request_id,
                        "NotSupportedChoice",
                        "metadata.price_id",
                        "The value you selected is not a valid choice.",
                    )
                    continue
                metadata = {**metadata, "quantity": float(metadata.get("quantity", 1))}
            elif body.get("to_entity_type") == "contacts":
                if body.get("to_entity_id") not in account.contacts:
                    errors.add(
                        request_id, "NotSupportedChoice", "to_entity_id", "Contact not found."
                    )
                    continue
                metadata = body.get("metadata")
            else:
                errors.add(
                    request_id,
                    "NotSupportedChoice",
                    "to_entity_type",
                    "The value you selected is not a valid choice.",
                )
                continue
            made.append(
                {
                    "entity_id": target,
                    "entity_type": "leads",
                    "to_entity_id": body["to_entity_id"],
                    "to_entity_type": body["to_entity_type"],
                    "metadata": metadata,
                }
            )
        if errors.items:
            return errors.response()
        account.links.extend(made)
        return hal({"_total_items": len(made), "_embedded": {"links": made}})

    @app.post("/api/v4/leads/link")
    @app.post("/api/v4/leads/{lead_id}/link")
    async def link(request: Request) -> Response:
        account = account_of(request)
        batch = await read_batch(request)
        return await _link(account, batch, lead_in_path(request))

    @app.get("/api/v4/leads/{lead_id}/links")
    async def lead_links(lead_id: int, request: Request) -> Response:
        account = account_of(request)
        return _paged(
            request, "links", [link for link in account.links if link["entity_id"] == lead_id]
        )
