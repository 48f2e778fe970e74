"""The configuration form: what the connected amoCRM account offers, and mappings whose
values cannot go into their fields refused when saved."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.settings import Settings
from junction.tenancy.models import Role
from tests.factories import PluginInstallationFactory
from tests.support.accounts import api_with_key
from tests.support.order_to_lead_shop import Shop


async def test_the_form_offers_the_accounts_pipelines_users_and_fields(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    answer = await shop_api.get(f"/api/installations/{shop.installation.id}/form")
    assert answer.status_code == 200, answer.text
    form = answer.json()
    assert form["plugin"] == "order_to_lead"
    assert "pipeline_id" in form["config_schema"]["properties"]
    assert form["choices_problem"] is None
    choices = form["choices"]
    pipeline = shop.account["pipelines"][0]
    assert {"value": pipeline["id"], "label": pipeline["name"]}.items() <= choices["pipeline_id"][
        0
    ].items()
    statuses = [c for c in choices["status_id"] if c["parent"] == pipeline["id"]]
    assert [s["value"] for s in statuses] == [s["id"] for s in pipeline["_embedded"]["statuses"]]
    assert choices["responsible_user_id"]
    order_date = next(f for f in choices["mappings.value"] if f["label"] == "Order date")
    assert order_date["kind"] == "date"
    assert order_date["group"] == "lead"
    assert (
        order_date["value"]
        == f"lead.cf.{shop.installation.config['amo_fields']['lead.cf.order_date']}"
    )
    partner = next(f for f in choices["partner.contact_field"] if f["label"] == "Partner ID")
    assert (
        partner["value"]
        == f"contact.cf.{shop.installation.config['amo_fields']['contact.cf.partner_id']}"
    )
    assert {f["kind"] for f in choices["order_marker_field"]} <= {
        "text",
        "textarea",
        "url",
        "streetaddress",
    }
    total = next(f for f in choices["mappings.key"] if f["value"] == "total")
    assert total["kind"] == "number"
    assert "numeric" in total["fits"]
    assert "date" not in total["fits"]
    # The workspace's amoCRM connections, for the setting that names one.
    [connection] = choices["connection_id"]
    assert connection["value"] == str(shop.connection.id)
    assert connection["kind"] == "healthy"
    # The settings' labels come in both languages.
    pipeline_field = form["config_schema"]["properties"]["pipeline_id"]
    assert pipeline_field["title"] == "Pipeline"
    assert pipeline_field["x-i18n"]["ru"]["title"] == "Воронка"


async def test_fields_picked_from_the_lists_are_saved_by_id_and_used(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    """What the form saves (fields by id, no `amo_fields` entry) is accepted and checked."""
    choices = (await shop_api.get(f"/api/installations/{shop.installation.id}/form")).json()[
        "choices"
    ]
    order_date = next(f for f in choices["mappings.value"] if f["label"] == "Order date")
    partner = next(f for f in choices["partner.contact_field"] if f["label"] == "Partner ID")
    config = {
        "pipeline_id": choices["pipeline_id"][0]["value"],
        "status_id": choices["status_id"][0]["value"],
        "partner": {"contact_field": partner["value"]},
        "mappings": {"created_at": order_date["value"]},
    }
    saved = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config", json={"config": config}
    )
    assert saved.status_code == 200, saved.text
    wrong = {**config, "mappings": {"total": order_date["value"]}}
    refused = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config", json={"config": wrong}
    )
    assert refused.status_code == 422
    assert (
        "mappings.total: a number value cannot go into the date field 'Order date'"
        in (refused.json()["error"]["message"])
    )
    gone = {**config, "mappings": {"created_at": "lead.cf.999999"}}
    refused = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config", json={"config": gone}
    )
    assert refused.status_code == 422
    assert (
        "lead.cf.999999: the account has no lead field 999999" in refused.json()["error"]["message"]
    )
    unnamed = {**config, "mappings": {"created_at": "lead.cf.order_when"}}
    refused = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config", json={"config": unnamed}
    )
    assert refused.status_code == 422
    assert (
        "mappings.created_at: 'lead.cf.order_when' is neither a field id"
        in refused.json()["error"]["message"]
    )


async def test_a_mapping_whose_values_cannot_go_into_its_field_is_refused(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    config = dict(shop.installation.config)
    config["mappings"] = {**config["mappings"], "total": "lead.cf.order_date"}
    saved = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config", json={"config": config}
    )
    assert saved.status_code == 422
    error = saved.json()["error"]
    assert error["field"] == "config"
    assert (
        "mappings.total: a number value cannot go into the date field 'Order date'"
        in (error["message"])
    )


async def test_without_a_connection_the_form_says_why_it_has_no_choices(
    shop: Shop,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    unconnected = PluginInstallationFactory(plugin="order_to_lead", config=shop.installation.config)
    await session.commit()
    async with api_with_key(settings, sessionmaker, session, unconnected.tenant, Role.admin) as api:
        answer = await api.get(f"/api/installations/{unconnected.id}/form")
    assert answer.status_code == 200, answer.text
    form = answer.json()
    # Only the connections (none) the core lists itself.
    assert form["choices"] == {"connection_id": []}
    assert "amocrm" in form["choices_problem"].lower()
    assert form["config"] == shop.installation.config
