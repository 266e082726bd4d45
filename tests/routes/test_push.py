from __future__ import annotations

import pytest

BASE = "/api/v1/push/subscription"
SUBSCRIPTION = {
    "subscription": {
        "endpoint": "https://push.example/abc",
        "keys": {"p256dh": "BEl6+/Ae==", "auth": "a+b/c=="},
    },
    "data": {"alerts": {"mention": True, "follow": False, "bogus": True}},
}


def test_subscribe_stores_the_subscription(app, client, account, auth_headers):
    response = client.post(BASE, json=SUBSCRIPTION, headers=auth_headers(account, "push"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["endpoint"] == "https://push.example/abc"
    assert body["alerts"] == {"mention": True, "follow": False}
    assert body["server_key"] == app.config["VAPID_PUBLIC_KEY"]
    assert isinstance(body["id"], str)


def test_subscribe_keeps_keys_url_safe_and_unpadded(client, account, auth_headers):
    from models import PushSubscription
    from models import db

    client.post(BASE, json=SUBSCRIPTION, headers=auth_headers(account))
    stored = db.session.scalar(db.select(PushSubscription))
    assert (stored.key_p256dh, stored.key_auth) == ("BEl6-_Ae", "a-b_c")


def test_subscribe_with_nested_form_keys(client, account, auth_headers):
    form = {
        "subscription[endpoint]": "https://push.example/form",
        "subscription[keys][p256dh]": "key",
        "subscription[keys][auth]": "auth",
        "data[alerts][pleroma:emoji_reaction]": "true",
        "data[alerts][poll]": "0",
    }
    response = client.post(BASE, data=form, headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json()["alerts"] == {"pleroma:emoji_reaction": True, "poll": False}


def test_subscribe_replaces_the_previous_one(client, account, auth_headers):
    headers = auth_headers(account)
    first = client.post(BASE, json=SUBSCRIPTION, headers=headers).get_json()
    again = dict(
        SUBSCRIPTION,
        subscription={"endpoint": "https://push.example/new", "keys": {"p256dh": "k", "auth": "a"}},
    )
    second = client.post(BASE, json=again, headers=headers).get_json()
    assert second["id"] != first["id"]
    assert client.get(BASE, headers=headers).get_json()["endpoint"] == "https://push.example/new"


def test_subscribe_requires_the_subscription(client, account, auth_headers):
    response = client.post(BASE, json={"data": {"alerts": {}}}, headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: subscription."}
    broken = {"subscription": {"endpoint": "https://push.example/x", "keys": {"p256dh": "k"}}}
    response = client.post(BASE, json=broken, headers=auth_headers(account))
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_subscription_belongs_to_the_token(client, account, auth_headers):
    mine = auth_headers(account)
    other = auth_headers(account)
    client.post(BASE, json=SUBSCRIPTION, headers=mine)
    for call in (client.get, client.delete):
        response = call(BASE, headers=other)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}
    response = client.put(BASE, json={"data": {"alerts": {"reblog": True}}}, headers=other)
    assert response.status_code == 404
    assert client.get(BASE, headers=mine).status_code == 200


def test_get_subscription(client, account, auth_headers):
    headers = auth_headers(account)
    assert client.get(BASE, headers=headers).status_code == 404
    created = client.post(BASE, json=SUBSCRIPTION, headers=headers).get_json()
    response = client.get(BASE, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == created


def test_put_subscription_replaces_the_alerts(client, account, auth_headers):
    headers = auth_headers(account)
    client.post(BASE, json=SUBSCRIPTION, headers=headers)
    response = client.put(
        BASE, data={"data[alerts][reblog]": "true", "data[alerts][nope]": "true"}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["alerts"] == {"reblog": True}
    assert client.get(BASE, headers=headers).get_json()["alerts"] == {"reblog": True}


def test_put_subscription_rejects_a_non_boolean_alert(client, account, auth_headers):
    headers = auth_headers(account)
    client.post(BASE, json=SUBSCRIPTION, headers=headers)
    response = client.put(BASE, json={"data": {"alerts": {"mention": "maybe"}}}, headers=headers)
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_delete_subscription(client, account, auth_headers):
    headers = auth_headers(account)
    assert client.delete(BASE, headers=headers).status_code == 404
    client.post(BASE, json=SUBSCRIPTION, headers=headers)
    response = client.delete(BASE, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {}
    assert client.get(BASE, headers=headers).status_code == 404


def test_revoked_token_no_longer_reaches_its_subscription(client, account, oauth_app, token):
    value = token(account)
    client.post(BASE, json=SUBSCRIPTION, headers={"Authorization": f"Bearer {value}"})
    response = client.post(
        "/oauth/revoke",
        data={
            "token": value,
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert response.status_code == 200
    assert client.get(BASE, headers={"Authorization": f"Bearer {value}"}).status_code == 403


@pytest.mark.parametrize("method", ["post", "get", "put", "delete"])
def test_push_subscription_needs_auth_and_push_scope(client, account, auth_headers, method):
    call = getattr(client, method)
    response = call(BASE, json=SUBSCRIPTION)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = call(BASE, json=SUBSCRIPTION, headers=auth_headers(account, "read write follow"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: push."}


def test_push_subscription_tolerates_a_trailing_slash(client, account, auth_headers):
    assert client.get(f"{BASE}/", headers=auth_headers(account)).status_code == 404


def test_push_subscription_over_basic_auth_is_refused(client, account):
    from tests.conftest import basic_headers

    response = client.post(BASE, json=SUBSCRIPTION, headers=basic_headers("alice"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_policy_and_standard_are_stored_and_shown(client, account, auth_headers):
    headers = auth_headers(account, "push")
    plain = client.post(BASE, json=SUBSCRIPTION, headers=headers).get_json()
    assert (plain["policy"], plain["standard"]) == ("all", False)
    form = {
        "subscription[endpoint]": "https://push.example/std",
        "subscription[keys][p256dh]": "key",
        "subscription[keys][auth]": "auth",
        "subscription[standard]": "true",
        "data[policy]": "follower",
    }
    body = client.post(BASE, data=form, headers=headers).get_json()
    assert (body["policy"], body["standard"]) == ("follower", True)
    updated = client.put(
        BASE, json={"data": {"alerts": {"mention": True}, "policy": "none"}}, headers=headers
    )
    assert updated.status_code == 200
    assert updated.get_json()["policy"] == "none"
    # Alerts alone keep the policy.
    again = client.put(BASE, json={"data": {"alerts": {"follow": True}}}, headers=headers).get_json()
    assert (again["policy"], again["alerts"]) == ("none", {"follow": True})


def test_an_unknown_policy_is_refused(client, account, auth_headers):
    headers = auth_headers(account, "push")
    bad = dict(SUBSCRIPTION, data={"alerts": {"mention": True}, "policy": "friends"})
    response = client.post(BASE, json=bad, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("data")
    assert client.get(BASE, headers=headers).status_code == 404
