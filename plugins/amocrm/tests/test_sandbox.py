"""The sandbox's token endpoint behaves as amoCRM's does at the edges."""

from __future__ import annotations

from typing import Any

import httpx


def _token(sandbox: httpx.Client, **body: Any) -> httpx.Response:
    integration = sandbox.get("/_sandbox/integration").json()
    return sandbox.post(
        "/oauth2/access_token",
        json={
            "client_id": integration["client_id"],
            "client_secret": integration["client_secret"],
            "redirect_uri": integration["redirect_uri"],
            **body,
        },
    )


def test_a_refresh_token_works_once(sandbox: httpx.Client, account_id: int) -> None:
    tokens = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()
    first = _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"token_type", "expires_in", "server_time", "access_token", "refresh_token"}
    assert body["refresh_token"] != tokens["refresh_token"]
    again = _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.status_code == 401
    assert again.json()["hint"] == "Token has been revoked"
    assert again.json()["type"] == "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"


def test_a_refresh_token_unused_for_three_months_is_dead(
    sandbox: httpx.Client, account_id: int
) -> None:
    old = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()
    young = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()
    sandbox.post(f"/_sandbox/accounts/{account_id}/clock", json={"advance_seconds": 89 * 86400})
    assert _token(
        sandbox, grant_type="refresh_token", refresh_token=young["refresh_token"]
    ).is_success
    sandbox.post(f"/_sandbox/accounts/{account_id}/clock", json={"advance_seconds": 2 * 86400})
    dead = _token(sandbox, grant_type="refresh_token", refresh_token=old["refresh_token"])
    assert dead.status_code == 401
    assert dead.json()["hint"] == "Token has been revoked"
    # The account's API sees the same clock: a day's access token is long dead.
    answer = sandbox.get(
        "/api/v4/account", headers={"Authorization": f"Bearer {old['access_token']}"}
    )
    assert answer.status_code == 401


def test_an_authorization_code_works_once(sandbox: httpx.Client, account_id: int) -> None:
    client_id = sandbox.get("/_sandbox/integration").json()["client_id"]
    code = sandbox.post(
        f"/_sandbox/accounts/{account_id}/codes", json={"client_id": client_id}
    ).json()["code"]
    assert _token(sandbox, grant_type="authorization_code", code=code).status_code == 200
    reused = _token(sandbox, grant_type="authorization_code", code=code)
    assert reused.status_code == 400
    assert reused.json()["hint"] == "Authorization code has been revoked"


def test_a_wrong_client_secret_is_refused(sandbox: httpx.Client) -> None:
    response = _token(sandbox, grant_type="refresh_token", refresh_token="x", client_secret="wrong")
    assert response.status_code == 401
    assert response.json()["hint"] == "Client authentication failed"


def test_expired_tokens_get_401_and_empty_searches_204(
    sandbox: httpx.Client, account_id: int
) -> None:
    token = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        sandbox.get("/api/v4/contacts", params={"query": "nobody"}, headers=headers).status_code
        == 204
    )
    sandbox.post(f"/_sandbox/accounts/{account_id}/expire-access-tokens")
    expired = sandbox.get("/api/v4/account", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["status"] == 401
