"""megalodon (npm) against a live Kenoma on loopback: a second real client, in node.

Each call runs `tests/clients/node/call.cjs`, which lets megalodon's own `detector()` read the
nodeinfo (Kenoma says "pleroma", so megalodon picks its Pleroma backend), then calls one of
megalodon's methods and prints what megalodon returned after its own Pleroma converters.
megalodon sends JSON bodies, DELETE included (`deleteAccountsFromList`), asks markers with
`timeline[]=...`, and reads `pleroma.unread_count` off the notifications marker (CLIENTS.md).
`make test` installs the pinned package (`npm ci --prefix tests/clients/node`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import pytest
import requests

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer

NODE_DIR = Path(__file__).parent / "node"
SCOPES = ["read", "write", "follow", "push"]
PASSWORDS = {"alice": "alice-pw-123", "bob": "bob-pw-456", "carol": "carol-pw-789"}


class MegalodonError(Exception):
    """A megalodon call that threw; the message is what call.cjs wrote on stderr."""


def _node_ready() -> None:
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "megalodon").is_dir():
        pytest.fail("megalodon is not installed: run `npm ci --prefix tests/clients/node` (make test does)")


def megalodon(server: LiveServer, token: str | None, method: str, *args: Any) -> dict[str, Any]:
    """Run one megalodon method; {"sns", "status", "data"} as megalodon returned them."""
    env = {**os.environ, "KENOMA_URL": server.base_url, "KENOMA_TOKEN": token or ""}
    command = ["node", "call.cjs", method, *(json.dumps(arg) for arg in args)]
    done = subprocess.run(
        command, cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise MegalodonError(done.stderr.strip())
    answer = json.loads(done.stdout)
    assert answer["sns"] == "pleroma"  # megalodon's detector read Kenoma's nodeinfo as Pleroma
    return answer


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    _node_ready()
    for nickname, password in PASSWORDS.items():
        live_server.create_user(nickname, password, email=f"{nickname}@example.org")
    return live_server


@pytest.fixture(scope="module")
def tokens(server: LiveServer) -> dict[str, str]:
    """megalodon registers the app (JSON body); the password grant, which megalodon lacks, gives tokens."""
    app = megalodon(server, None, "registerApp", "Kenoma megalodon test", {"scopes": SCOPES})["data"]
    assert app["url"].startswith(f"{server.base_url}/oauth/authorize?")
    out = {}
    for nickname, password in PASSWORDS.items():
        answer = requests.post(
            f"{server.base_url}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": nickname,
                "password": password,
                "scope": " ".join(SCOPES),
            },
            timeout=10,
        )
        answer.raise_for_status()
        out[nickname] = answer.json()["access_token"]
    return out


def call(server: LiveServer, tokens: dict[str, str], who: str, method: str, *args: Any) -> Any:
    return megalodon(server, tokens[who], method, *args)["data"]


def test_verify_account_credentials(server: LiveServer, tokens: dict[str, str]) -> None:
    account = call(server, tokens, "alice", "verifyAccountCredentials")
    assert (account["id"], account["username"], account["acct"]) == (server.users["alice"], "alice", "alice")
    assert account["emojis"] == []
    with pytest.raises(MegalodonError, match="HTTP 403"):
        megalodon(server, "not-a-token", "verifyAccountCredentials")


def test_lists(server: LiveServer, tokens: dict[str, str]) -> None:
    bob_id = server.users["bob"]
    assert call(server, tokens, "alice", "followAccount", bob_id)["following"] is True

    created = call(server, tokens, "alice", "createList", "Friends")
    assert created["title"] == "Friends"
    assert [item["id"] for item in call(server, tokens, "alice", "getLists")] == [created["id"]]

    added = megalodon(server, tokens["alice"], "addAccountsToList", created["id"], [bob_id])
    assert (added["status"], added["data"]) == (200, {})
    assert [a["id"] for a in call(server, tokens, "alice", "getAccountsInList", created["id"])] == [bob_id]

    posted = call(server, tokens, "bob", "postStatus", "for the list")
    call(server, tokens, "carol", "postStatus", "not in it")
    timeline = call(server, tokens, "alice", "getListTimeline", created["id"])
    assert [status["id"] for status in timeline] == [posted["id"]]
    assert timeline[0]["account"]["id"] == bob_id

    # megalodon's DELETE carries the account ids as a JSON body.
    removed = megalodon(server, tokens["alice"], "deleteAccountsFromList", created["id"], [bob_id])
    assert removed["status"] == 200
    assert call(server, tokens, "alice", "getAccountsInList", created["id"]) == []

    updated = call(server, tokens, "alice", "updateList", created["id"], "Close friends")
    assert (updated["id"], updated["title"]) == (created["id"], "Close friends")
    assert call(server, tokens, "alice", "getList", created["id"])["title"] == "Close friends"

    with pytest.raises(MegalodonError, match="HTTP 404"):
        call(server, tokens, "bob", "getList", created["id"])  # someone else's list
    assert megalodon(server, tokens["alice"], "deleteList", created["id"])["status"] == 200
    assert call(server, tokens, "alice", "getLists") == []
    with pytest.raises(MegalodonError, match="HTTP 404"):
        call(server, tokens, "alice", "getList", created["id"])


def test_polls(server: LiveServer, tokens: dict[str, str]) -> None:
    poll_options = {"options": ["tea", "coffee"], "expires_in": 3600, "multiple": False}
    status = call(server, tokens, "bob", "postStatus", "which one?", {"poll": poll_options})
    poll = status["poll"]
    assert [option["title"] for option in poll["options"]] == ["tea", "coffee"]
    assert (poll["expired"], poll["multiple"], poll["votes_count"]) == (False, False, 0)

    fetched = call(server, tokens, "alice", "getPoll", poll["id"])
    assert (fetched["id"], fetched["voted"]) == (poll["id"], False)

    voted = call(server, tokens, "alice", "votePoll", poll["id"], [1])
    assert (voted["voted"], voted["own_votes"], voted["votes_count"]) == (True, [1], 1)
    assert [option["votes_count"] for option in voted["options"]] == [0, 1]
    with pytest.raises(MegalodonError, match="HTTP 422"):
        call(server, tokens, "alice", "votePoll", poll["id"], [0])  # voted already

    seen_by_author = call(server, tokens, "bob", "getPoll", poll["id"])  # the author counts as voted
    assert (seen_by_author["votes_count"], seen_by_author["voted"]) == (1, True)
    assert seen_by_author["own_votes"] == []
    assert call(server, tokens, "bob", "getStatus", status["id"])["poll"]["votes_count"] == 1


def test_markers(server: LiveServer, tokens: dict[str, str]) -> None:
    # megalodon's Pleroma converter keeps only the notifications marker, with pleroma.unread_count;
    # saving it marks the notifications up to it as seen, so the count is of those after it.
    assert call(server, tokens, "carol", "getMarkers", ["home", "notifications"]) == {}

    call(server, tokens, "alice", "followAccount", server.users["carol"])
    call(server, tokens, "bob", "followAccount", server.users["carol"])
    notifications = call(server, tokens, "carol", "getNotifications")
    assert [n["type"] for n in notifications] == ["follow", "follow"]
    newest, oldest = notifications[0]["id"], notifications[1]["id"]
    home = call(server, tokens, "carol", "postStatus", "mine")

    saved = call(
        server,
        tokens,
        "carol",
        "saveMarkers",
        {"home": {"last_read_id": home["id"]}, "notifications": {"last_read_id": oldest}},
    )
    assert saved["notifications"]["last_read_id"] == oldest
    assert saved["notifications"]["unread_count"] == 1
    assert saved["notifications"]["version"] == 0

    call(server, tokens, "carol", "saveMarkers", {"notifications": {"last_read_id": newest}})
    markers = call(server, tokens, "carol", "getMarkers", ["home", "notifications"])
    assert markers["notifications"]["last_read_id"] == newest
    assert markers["notifications"]["unread_count"] == 0
    assert markers["notifications"]["version"] == 1
    assert markers["notifications"]["updated_at"]


def test_filters(server: LiveServer, tokens: dict[str, str]) -> None:
    # Until filters land, /api/v1/filters is only the read-only `[]` stub of routes/instance.py.
    paths = requests.get(f"{server.base_url}/openapi.json", timeout=10).json()["paths"]
    if "post" not in paths.get("/api/v1/filters", {}):
        pytest.skip("this Kenoma has no /api/v1/filters yet")

    created = call(
        server, tokens, "alice", "createFilter", "spoiler", ["home", "public"], {"whole_word": True}
    )
    assert (created["phrase"], sorted(created["context"]), created["whole_word"]) == (
        "spoiler",
        ["home", "public"],
        True,
    )
    assert created["irreversible"] is False
    assert [f["id"] for f in call(server, tokens, "alice", "getFilters")] == [created["id"]]
    assert call(server, tokens, "alice", "getFilter", created["id"])["phrase"] == "spoiler"
    with pytest.raises(MegalodonError, match="HTTP 404"):
        call(server, tokens, "bob", "getFilter", created["id"])

    options = {"whole_word": False}
    updated = call(
        server, tokens, "alice", "updateFilter", created["id"], "spoilers", ["notifications"], options
    )
    assert (updated["id"], updated["phrase"], updated["context"], updated["whole_word"]) == (
        created["id"],
        "spoilers",
        ["notifications"],
        False,
    )

    assert megalodon(server, tokens["alice"], "deleteFilter", created["id"])["status"] == 200
    assert call(server, tokens, "alice", "getFilters") == []
