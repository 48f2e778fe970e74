"""A configuration checked against the amoCRM account it will write to, when it is saved."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from junction_amocrm.client import AmoClient
from junction_order_to_lead import lookups
from junction_order_to_lead.config import OrderToLeadConfig
from junction_order_to_lead.fields import fits, kind_of


async def config_problems(
    config: OrderToLeadConfig, client: AmoClient, redis: Redis, connection_id: uuid.UUID
) -> list[str]:
    problems = []
    fields = await lookups.account_fields(redis, connection_id, client)
    for name, field_id in config.field_ids.items():
        if field_id not in fields.of(name):
            entity = "lead" if name.startswith("lead.") else "contact"
            where = f"amo_fields.{name}" if name in config.amo_fields else name
            problems.append(f"{where}: the account has no {entity} field {field_id}")
    for order_field, target in config.mappings.items():
        field = fields.of(target).get(config.field_id(target))
        if field is not None and not fits(order_field, str(field.get("type"))):
            problems.append(
                f"mappings.{order_field}: a {kind_of(order_field)} value cannot go into "
                f"the {field.get('type')} field {field.get('name')!r}"
            )
    pipelines = {pipeline["id"]: pipeline for pipeline in await client.pipelines()}
    pipeline = pipelines.get(config.pipeline_id)
    if pipeline is None:
        problems.append(f"pipeline_id: the account has no pipeline {config.pipeline_id}")
    else:
        statuses = {status["id"] for status in pipeline.get("_embedded", {}).get("statuses", [])}
        if config.status_id not in statuses:
            problems.append(
                f"status_id: pipeline {pipeline.get('name')!r} has no status {config.status_id}"
            )
    if config.responsible_user_id is not None:
        users = {user["id"] for user in await client.users()}
        if config.responsible_user_id not in users:
            problems.append(
                f"responsible_user_id: the account has no user {config.responsible_user_id}"
            )
    if (
        config.products.enabled
        and await lookups.products_catalog(redis, connection_id, client) is None
    ):
        problems.append("products: the account has no products catalog; turn products off")
    return problems
