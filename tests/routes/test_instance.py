from __future__ import annotations

from datetime import timedelta

import pytest

import readcache
import routes.instance
from models import Account
from models import db
from models import utcnow
from routes.instance import FEATURES
from tests.conftest import BASE_URL
from tests.conftest import basic_headers

PROFILE_20 = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"'


# --- /api/v1/instance and /api/v2/instance ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v1/instance/"])
def test_instance_v1_pleroma_shape(app, client, make_account, path):
    alice = make_account("alice")
    make_account("bob", is_admin=True)
    gone = make_account("gone")
    gone.is_active = False
    alice.statuses_count = 3
    db.session.commit()

    response = client.get(path)

    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == "2.7.2 (compatible; Pleroma 2.7.0+kenoma)"
    assert "(compatible; Pleroma" in body["version"]
    assert body["uri"] == BASE_URL
    assert body["title"] == "Kenoma"
    assert body["stats"] == {"user_count": 2, "status_count": 3, "domain_count": 0}
    assert body["registrations"] is True
    assert body["approval_required"] is False
    assert body["max_toot_chars"] == 5000
    assert body["poll_limits"]["max_options"] == 20
    assert body["upload_limit"] == app.config["UPLOAD_LIMIT"]
    assert body["avatar_upload_limit"] == app.config["AVATAR_UPLOAD_LIMIT"]
    assert body["pleroma"]["vapid_public_key"] == app.config["VAPID_PUBLIC_KEY"]
    assert body["pleroma"]["metadata"]["features"] == list(FEATURES)
    federation = {"enabled": True, "mrf_policies": [], "exclusions": False}
    assert body["pleroma"]["metadata"]["federation"] == federation
    assert body["urls"]["streaming_api"] == "ws://127.0.0.1:5000"


def test_instance_v1_registrations_follow_config(app, client):
    app.config["REGISTRATIONS_OPEN"] = False
    assert client.get("/api/v1/instance").get_json()["registrations"] is False


def test_instance_thumbnail_and_background_resolve(client):
    body = client.get("/api/v1/instance").get_json()
    for url in (body["thumbnail"], body["background_image"]):
        assert url.startswith(BASE_URL)
        response = client.get(url.removeprefix(BASE_URL))
        assert response.status_code == 200
        assert response.mimetype == "image/png"


def test_instance_features_advertise_reactions_and_packs():
    assert "pleroma_emoji_reactions" in FEATURES
    assert "shareable_emoji_packs" in FEATURES
    assert "polls" in FEATURES


@pytest.mark.parametrize("path", ["/api/v2/instance", "/api/v2/instance/"])
def test_instance_v2_mastodon_shape(app, client, account, path):
    response = client.get(path)

    assert response.status_code == 200
    body = response.get_json()
    assert body["domain"] == "127.0.0.1:5000"
    assert body["version"] == "2.7.2 (compatible; Pleroma 2.7.0+kenoma)"
    assert body["thumbnail"]["url"].startswith(BASE_URL)
    assert body["usage"]["users"]["active_month"] == 1
    assert body["configuration"]["statuses"]["max_characters"] == 5000
    assert body["configuration"]["media_attachments"]["image_size_limit"] == app.config["UPLOAD_LIMIT"]
    assert body["configuration"]["polls"]["max_options"] == 20
    assert body["configuration"]["accounts"]["max_featured_tags"] == 10
    assert body["registrations"] == {"enabled": True, "approval_required": False, "message": None}
    assert body["contact"] == {"email": "", "account": None}
    assert body["rules"] == []
    assert body["pleroma"]["metadata"]["features"] == list(FEATURES)


def test_instance_kept_answer_ends_when_the_active_window_moves_past_an_account(client, account, monkeypatch):
    """The answer is kept until a write (readcache.py); an account leaving the month's window
    is no write, so the answer must end then too."""
    assert client.get("/api/v2/instance").get_json()["usage"]["users"]["active_month"] == 1
    later = utcnow() + timedelta(days=31)
    for module in (routes.instance, readcache):
        monkeypatch.setattr(module, "utcnow", lambda: later)
    body = client.get("/api/v2/instance").get_json()
    assert body["usage"]["users"]["active_month"] == 0


def test_instance_kept_answer_follows_a_changed_setting(app, client):
    assert client.get("/api/v1/instance").get_json()["title"] == "Kenoma"
    app.config["INSTANCE_NAME"] = "Renamed"
    assert client.get("/api/v1/instance").get_json()["title"] == "Renamed"


@pytest.mark.parametrize("path", ["/api/v1/instance/peers", "/api/v1/instance/rules"])
def test_instance_peers_and_rules_are_empty(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == []


def _remote(nickname: str, domain: str) -> Account:
    account = Account(nickname=nickname, domain=domain, ap_id=f"https://{domain}/users/{nickname}")
    db.session.add(account)
    return account


def test_instance_peers_lists_each_known_remote_host_once_blocked_ones_left_out(app, client, account):
    for nickname, domain in [("a", "b.example"), ("b", "b.example"), ("c", "a.test:8443"), ("d", "x.bad")]:
        _remote(nickname, domain)
    db.session.commit()
    app.config["BLOCKED_INSTANCES"] = ["*.bad"]
    response = client.get("/api/v1/instance/peers")
    assert response.status_code == 200
    assert response.get_json() == ["a.test:8443", "b.example"]


@pytest.mark.parametrize("path", ["/nodeinfo/2.0.json", "/nodeinfo/2.1.json", "/api/v1/instance"])
def test_federation_metadata_names_the_simple_policy_when_instances_are_blocked(app, client, path):
    def federation() -> dict:
        body = client.get(path).get_json(force=True)
        return (
            body["metadata"]["federation"]
            if "metadata" in body
            else body["pleroma"]["metadata"]["federation"]
        )

    assert federation() == {"enabled": True, "mrf_policies": [], "exclusions": False}
    app.config["BLOCKED_INSTANCES"] = ["*.example"]
    assert federation() == {"enabled": True, "mrf_policies": ["SimplePolicy"], "exclusions": False}
    app.config["FEDERATING"] = False
    assert federation()["enabled"] is False


def test_unknown_instance_subpath_is_json_404(client):
    response = client.get("/api/v1/instance/nope")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Not found"}


# --- nodeinfo ---------------------------------------------------------------------------------


def test_nodeinfo_links_are_absolute(client):
    response = client.get("/.well-known/nodeinfo")

    assert response.status_code == 200
    links = response.get_json()["links"]
    assert links == [
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": f"{BASE_URL}/nodeinfo/2.0.json"},
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": f"{BASE_URL}/nodeinfo/2.1.json"},
    ]
    for link in links:
        assert client.get(link["href"].removeprefix(BASE_URL)).status_code == 200


@pytest.mark.parametrize("path", ["/nodeinfo/2.0.json", "/nodeinfo/2.0", "/nodeinfo/2.0/"])
def test_nodeinfo_20(client, make_account, path):
    make_account("alice")
    admin = make_account("root", is_admin=True)

    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == PROFILE_20
    body = response.get_json(force=True)
    assert body["version"] == "2.0"
    assert body["software"] == {"name": "pleroma", "version": "2.7.0+kenoma"}
    assert body["openRegistrations"] is True
    assert body["usage"]["users"]["total"] == 2
    assert body["usage"]["localPosts"] == 0
    metadata = body["metadata"]
    assert metadata["staffAccounts"] == [admin.ap_id]
    assert metadata["features"] == list(FEATURES)
    assert metadata["uploadLimits"]["general"] == 16 * 1024 * 1024
    assert metadata["nodeName"] == "Kenoma"
    assert "users" in metadata["restrictedNicknames"]
    assert metadata["fieldsLimits"]["maxFields"] == 4


@pytest.mark.parametrize("path", ["/nodeinfo/2.1.json", "/nodeinfo/2.1"])
def test_nodeinfo_21(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["Content-Type"].endswith(
        'profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    body = response.get_json(force=True)
    assert body["version"] == "2.1"
    assert body["software"]["name"] == "pleroma"
    assert body["software"]["repository"]


def test_nodeinfo_unknown_version(client):
    response = client.get("/nodeinfo/3.0.json")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Nodeinfo schema version not handled"}


# --- default images -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["avi.png", "banner.png"])
def test_default_images_are_served(client, name):
    response = client.get(f"/images/{name}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"


def test_images_refuse_traversal(client):
    response = client.get("/images/../../app.py")
    assert response.status_code == 404


# --- client conveniences --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/pleroma/frontend_configurations",
        "/api/v1/pleroma/frontend_configurations",
        "/api/pleroma/frontend_configurations/",
    ],
)
def test_frontend_configurations_default_empty(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == {}


def test_frontend_configurations_from_config(app, client):
    app.config["FRONTEND_CONFIGURATIONS"] = {"pleroma_fe": {"theme": "pleroma-dark"}}
    response = client.get("/api/pleroma/frontend_configurations")
    assert response.get_json() == {"pleroma_fe": {"theme": "pleroma-dark"}}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/suggestions", "/api/v1/trends", "/api/v1/trends/tags"],
)
def test_unimplemented_lists_answer_empty(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == []


def test_preferences(client, account, auth_headers):
    account.default_scope = "unlisted"
    account.is_sensitive_default = True
    db.session.commit()

    response = client.get("/api/v1/preferences", headers=auth_headers(account, "read:accounts"))

    assert response.status_code == 200
    assert response.get_json() == {
        "posting:default:visibility": "unlisted",
        "posting:default:sensitive": True,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }


def test_preferences_with_basic_auth(client, account):
    response = client.get("/api/v1/preferences", headers=basic_headers("alice"))
    assert response.status_code == 200
    assert response.get_json()["posting:default:visibility"] == "public"


def test_preferences_without_auth(client):
    response = client.get("/api/v1/preferences")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_preferences_wrong_scope(client, account, auth_headers):
    response = client.get("/api/v1/preferences", headers=auth_headers(account, "write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:accounts."}


def test_instance_counts_only_local_accounts(client, account):
    db.session.add(
        Account(
            nickname="remote",
            domain="far.example",
            ap_id="https://far.example/users/remote",
            statuses_count=7,
        )
    )
    db.session.commit()
    stats = client.get("/api/v1/instance").get_json()["stats"]
    assert stats == {"user_count": 1, "status_count": 0, "domain_count": 1}
