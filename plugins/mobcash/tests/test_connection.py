"""What the web app offers for connecting MobCash: the credential forms, and what they
send connects."""

from __future__ import annotations

from tests.support.mobcash_sandbox import Desk


async def test_the_credential_forms_describe_what_connects(desk: Desk) -> None:
    providers = {p["name"]: p for p in (await desk.api.get("/api/connections/providers")).json()}
    mobcash = providers["mobcash"]
    assert mobcash["consent"] is False
    forms = {form["title"]: form for form in mobcash["credential_forms"]}
    assert set(forms) == {"Cash desk log-in", "Browser session"}
    cashbox = forms["Cash desk log-in"]
    # The way is told by a constant the form sends as it is; secrets are typed as such.
    assert cashbox["properties"]["mode"]["const"] == "cashbox"
    assert cashbox["properties"]["password"]["x-widget"] == "password"
    assert cashbox["properties"]["login"]["x-i18n"]["ru"]["title"] == "Логин"
    assert set(cashbox["required"]) == set(desk.cashbox_fields())
    # The fields a form names are what connects.
    connected = await desk.connect(desk.cashbox_fields())
    assert connected["status"] == "healthy"
    assert providers["amocrm"]["consent"] is True
    assert [f["title"] for f in providers["amocrm"]["credential_forms"]] == [
        "Long-lived token",
        "Private integration",
    ]
