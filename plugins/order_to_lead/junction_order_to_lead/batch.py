"""Orders to leads, many at once: each write step goes to amoCRM in one batch request.

Under a backlog the budget is amoCRM's seven requests per second, not our time: a lead,
a note and product links per order would cap at about two orders per second. Batched,
fifty orders cost three write requests (leads, notes, links) plus the lookups nothing
remembers yet.

Each order keeps its own outcome: a step that fails for one order (a refused lead)
fails that order only; a batch request that fails as a whole is tried again order by
order, or retried, never half-recorded: every id amoCRM returns is checkpointed at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from junction.plugins.interfaces import EventOutcome, PluginServices
from junction_amocrm.errors import AmoError, AmoValidationError
from junction_order_to_lead.lookups import AccountFields
from junction_order_to_lead.run import OrderRun


class _Orders:
    def __init__(self, runs: list[OrderRun | Exception]) -> None:
        self.runs = runs
        # A failed order keeps its first failure; later steps skip it.
        self.outcomes: list[EventOutcome | None] = [
            run if isinstance(run, Exception) else None for run in runs
        ]

    def live(self) -> list[tuple[int, OrderRun]]:
        return [
            (index, run)
            for index, run in enumerate(self.runs)
            if isinstance(run, OrderRun) and self.outcomes[index] is None
        ]

    def fail(self, index: int, exc: Exception) -> None:
        if self.outcomes[index] is None:
            self.outcomes[index] = exc

    async def each(self, step: Callable[[OrderRun], Awaitable[Any]]) -> dict[int, Any]:
        done = {}
        for index, run in self.live():
            try:
                done[index] = await step(run)
            except Exception as exc:  # noqa: BLE001 - the order's failure is its outcome
                self.fail(index, exc)
        return done


async def process_orders(
    runs: list[OrderRun | Exception], fields: AccountFields, services: PluginServices
) -> list[EventOutcome]:
    """Process the orders; `runs` holds an exception for an order that could not start."""
    orders = _Orders(runs)
    live = orders.live()
    if not live:
        return list(orders.outcomes)
    client = live[0][1].client

    contacts = await orders.each(lambda run: run.contact(fields))
    await _update_contacts(orders, fields, contacts, services)
    await orders.each(lambda run: run.earlier_lead())

    # Leads: one request for every order still without one.
    bodies: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for index, run in orders.live():
        if run.checkpoint.get("lead_id") is None:
            try:
                bodies[index] = run.lead_body(fields, contacts.get(index))
            except Exception as exc:  # noqa: BLE001
                orders.fail(index, exc)
    if bodies:
        # From here on a retry must look for the lead before creating another.
        await services.save_checkpoints(
            [(_run(orders, index).checkpoint, {"creating_lead": True}) for index in bodies]
        )
        created = await _send(orders, "lead", bodies, client.create_leads)
        saves = []
        for item in created:
            run = _run(orders, int(item["request_id"]))
            saves.append((run.checkpoint, {"lead_id": int(item["id"])}))
            run.log.info("lead created", lead_id=int(item["id"]))
        await services.save_checkpoints(saves)

    # Notes: one request.
    for index, run in orders.live():
        if run.checkpoint.get("lead_id") is None:
            orders.fail(index, AmoError("amoCRM's answer did not include this order's lead"))
    notes = {}
    for index, run in orders.live():
        try:
            body = run.note_body(int(run.checkpoint.get("lead_id")))
        except Exception as exc:  # noqa: BLE001
            orders.fail(index, exc)
            continue
        if body is not None:
            notes[index] = {**body, "request_id": str(index)}
    if notes:
        try:
            added = await client.add_notes(list(notes.values()))
        except AmoError as exc:
            for index in notes:
                orders.fail(index, exc)
            added = []
        saves = []
        for item in added:
            run = _run(orders, int(item["request_id"]))
            saves.append((run.checkpoint, {"note_id": int(item["id"])}))
            run.log.info("note added", note_id=int(item["id"]))
        await services.save_checkpoints(saves)

    # Products: elements found or created per order, links in one request.
    links = await orders.each(lambda run: run.product_links(run.checkpoint.get("lead_id")))
    linking = {
        index: found for index, found in links.items() if found and orders.outcomes[index] is None
    }
    if linking:
        try:
            await client.link_leads([link for found in linking.values() for link in found])
        except AmoError as exc:
            for index in linking:
                run = _run(orders, index)
                catalog_id = linking[index][0]["metadata"]["catalog_id"]
                orders.fail(index, run.catalog_problem(catalog_id, exc))
        else:
            await services.save_checkpoints(
                [(_run(orders, index).checkpoint, {"products_linked": True}) for index in linking]
            )
            for index, found in linking.items():
                _run(orders, index).log.info("products linked", count=len(found))

    for index, run in orders.live():
        orders.outcomes[index] = run.result()
    return list(orders.outcomes)


async def _update_contacts(
    orders: _Orders, fields: AccountFields, contacts: dict[int, Any], services: PluginServices
) -> None:
    """The mapped contact fields of the partners' existing contacts, in one request."""
    updates: dict[int, tuple[dict[str, Any], list[str]]] = {}
    for index, run in orders.live():
        try:
            found = run.contact_update(fields, contacts.get(index))
        except Exception as exc:  # noqa: BLE001
            orders.fail(index, exc)
            continue
        if found is not None:
            updates[index] = found
    if not updates:
        return
    client = _run(orders, next(iter(updates))).client
    updated = await _send(orders, "contact", updates, client.update_contacts)
    await services.save_checkpoints(
        [
            (_run(orders, int(item["request_id"])).checkpoint, {"contact_updated": True})
            for item in updated
        ]
    )


async def _send(
    orders: _Orders,
    step: str,
    bodies: dict[int, tuple[dict[str, Any], list[str]]],
    send: Callable[[list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """Send the orders' bodies in one request; amoCRM's answer, by request id.

    What amoCRM refuses fails its own order (the refusal names it by request id) and the
    others are sent again without it; any other failure fails them all.
    """
    pending = dict(bodies)
    while pending:
        try:
            return await send(
                [{**body, "request_id": str(index)} for index, (body, _) in pending.items()]
            )
        except AmoValidationError as exc:
            named = {str(item.get("request_id")) for item in exc.problems}
            refused = [index for index in pending if str(index) in named]
            for index in refused or list(pending):
                problem = _only(exc, str(index)) if refused else exc
                orders.fail(index, _run(orders, index).refused(step, problem, pending[index][1]))
                del pending[index]
        except AmoError as exc:
            for index in pending:
                orders.fail(index, exc)
            return []
    return []


def _run(orders: _Orders, index: int) -> OrderRun:
    run = orders.runs[index]
    assert isinstance(run, OrderRun)
    return run


def _only(exc: AmoValidationError, request_id: str) -> AmoValidationError:
    return AmoValidationError(
        [item for item in exc.problems if str(item.get("request_id")) == request_id]
    )
