"""`flask demo`, then Mastodon.py as a client developer would use it (SPEC 27): the printed logins
and tokens work and the timelines are filled; `flask reset` and the testing endpoint leave an
empty instance that works as a new one."""

from __future__ import annotations

import re

import pytest
import requests
from mastodon import Mastodon
from mastodon import MastodonAPIError

from tests.clients.conftest import CLIENT_SCOPES
from tests.clients.conftest import LiveServer


def _tokens(output: str) -> dict[str, tuple[str, str]]:
    """nickname -> (password, token) from the table `flask demo` prints."""
    rows = re.findall(r"^(\w+)\s+(\S+-demo-pw)\s+(\S+)", output, re.MULTILINE)
    return {nickname: (password, token) for nickname, password, token in rows}


def _api(server: LiveServer, token: str) -> Mastodon:
    return Mastodon(
        access_token=token, api_base_url=server.base_url, version_check_mode="none", request_timeout=10
    )


@pytest.fixture(scope="module")
def demo(server: LiveServer) -> dict[str, tuple[str, str]]:
    return _tokens(server.cli("demo"))


def test_demo_tokens_read_filled_timelines(server: LiveServer, demo: dict[str, tuple[str, str]]) -> None:
    assert sorted(demo) == ["alice", "bob", "carol", "dave"]
    alice = _api(server, demo["alice"][1])
    me = alice.account_verify_credentials()
    assert me["acct"] == "alice" and me["avatar"].endswith(".png") and "/images/" not in me["avatar"]
    assert [f["name"] for f in me["fields"]] == ["Website", "Pronouns"]
    home = alice.timeline_home()
    assert len(home) >= 5
    public = alice.timeline_public()
    assert any(s["media_attachments"] for s in public)
    assert any(s["poll"] and s["poll"]["votes_count"] == 2 for s in public)
    welcome = next(s for s in public if "Welcome to Kenoma" in s["content"])
    assert welcome["favourites_count"] == 1 and welcome["replies_count"] == 1
    assert {r["name"] for r in welcome["pleroma"]["emoji_reactions"]} == {"🎉", "kenoma_heart"}
    assert any(e["shortcode"] == "kenoma_heart" for e in alice.custom_emojis())
    notifications = alice.notifications()
    assert {n["type"] for n in notifications} >= {"follow", "favourite", "mention", "pleroma:emoji_reaction"}
    ids = [int(n["id"]) for n in notifications]
    assert ids == sorted(ids, reverse=True)  # numbers, newest first (SPEC 1.6)
    assert alice.conversations()[0]["last_status"]["visibility"] == "direct"
    assert [entry["title"] for entry in alice.lists()] == ["Friends"]
    dave = _api(server, demo["dave"][1])
    assert [a["acct"] for a in dave.follow_requests()] == ["carol"]


def test_demo_passwords_log_in(server: LiveServer, demo: dict[str, tuple[str, str]]) -> None:
    client_id, client_secret = Mastodon.create_app(
        "demo-login", scopes=CLIENT_SCOPES, api_base_url=server.base_url
    )
    api = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=server.base_url,
        version_check_mode="none",
    )
    api.log_in("bob", demo["bob"][0], scopes=CLIENT_SCOPES, allow_http=True)
    assert api.account_verify_credentials()["acct"] == "bob"


def test_demo_refuses_a_filled_instance(server: LiveServer, demo: dict[str, tuple[str, str]]) -> None:
    result = server.app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "reset" in result.output


def test_reset_then_the_testing_endpoint(server: LiveServer, demo: dict[str, tuple[str, str]]) -> None:
    assert "instance emptied" in server.cli("reset", "--yes")
    old = _api(server, demo["alice"][1])
    with pytest.raises(MastodonAPIError):
        old.account_verify_credentials()
    assert old.timeline_public() == []
    # Empty, and working: an account made afterwards posts and reads as on a new instance.
    server.create_user("alice", "alice-pw-123", email="alice@example.org")
    client_id, client_secret = Mastodon.create_app(
        "after-reset", scopes=CLIENT_SCOPES, api_base_url=server.base_url
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
    api.log_in("alice", "alice-pw-123", scopes=CLIENT_SCOPES, allow_http=True)
    api.status_post("first post after the reset")
    assert [s["content"] for s in api.timeline_home()] == ["first post after the reset"]
    # The testing endpoint: absent until enabled, then the same reset for a test suite.
    url = f"{server.base_url}/api/kenoma/testing/reset"
    assert requests.post(url, timeout=10).status_code == 404
    server.app.config["TESTING_API"] = True
    try:
        assert requests.post(url, timeout=10).json() == {}
    finally:
        server.app.config["TESTING_API"] = False
    assert api.timeline_public() == []
    assert server.cli("demo").count("-demo-pw") == 4  # and the demo can start over
