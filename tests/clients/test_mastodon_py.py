"""Mastodon.py 2.3.3 against a live Kenoma on loopback, called exactly as an app calls it.

Mastodon.py reads `/api/v1/instance` and keeps the part of `version` before the first space:
Pleroma's "2.7.2 (compatible; Pleroma ...)" becomes Mastodon 2.7.2, which picks
`POST /api/v1/media` and `/api/v2/search` (CLIENTS.md 4.1). `version_check_mode="created"` makes
it refuse any method newer than the version it parsed, so these tests also prove that parse.
The OAuth URLs are plain http:// on loopback, which Mastodon.py only accepts with
`allow_http=True` (only relevant if the server publishes /.well-known/oauth-authorization-server).
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import pytest
import requests
from mastodon import Mastodon
from mastodon import MastodonAPIError
from mastodon import MastodonIllegalArgumentError
from PIL import Image

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer

SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"
PASSWORDS = {"alice": "alice-pw-123", "bob": "bob-pw-456", "carol": "carol-pw-789"}


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    for nickname, password in PASSWORDS.items():
        live_server.create_user(nickname, password, email=f"{nickname}@example.org")
    return live_server


@pytest.fixture(scope="module")
def credentials(server: LiveServer) -> tuple[str, str]:
    return Mastodon.create_app("Kenoma Mastodon.py test", scopes=SCOPES, api_base_url=server.base_url)


def _client(server: LiveServer, credentials: tuple[str, str], **options: object) -> Mastodon:
    client_id, client_secret = credentials
    options.setdefault("version_check_mode", "created")
    return Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=server.base_url,
        feature_set="pleroma",
        ratelimit_method="throw",
        request_timeout=10,
        **options,
    )


def _logged_in(server: LiveServer, credentials: tuple[str, str], nickname: str) -> Mastodon:
    api = _client(server, credentials)
    api.log_in(nickname, PASSWORDS[nickname], scopes=SCOPES, allow_http=True)
    return api


@pytest.fixture(scope="module")
def alice(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:
    return _logged_in(server, credentials, "alice")


@pytest.fixture(scope="module")
def bob(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:
    return _logged_in(server, credentials, "bob")


@pytest.fixture(scope="module")
def carol(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:
    return _logged_in(server, credentials, "carol")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


class _FormReader(HTMLParser):
    """The login page's form: its action and every input's name and value."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.code: str | None = None
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("name") and attributes.get("type") == "hidden":
            self.fields[str(attributes["name"])] = attributes.get("value") or ""
        if attributes.get("id") == "code":
            self._in_code = True

    def handle_data(self, data: str) -> None:
        if self._in_code and data.strip():
            self.code = data.strip()
            self._in_code = False


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


# --- Apps and logging in ------------------------------------------------------------------------


def test_instance_version_reads_as_mastodon_2_7_2(server: LiveServer, credentials: tuple[str, str]) -> None:
    api = _client(server, credentials)
    assert api.retrieve_mastodon_version() == "2.7.2"
    instance = api.instance()
    assert "Pleroma" in instance.version
    assert instance.uri


def test_create_app_returns_credentials(credentials: tuple[str, str]) -> None:
    client_id, client_secret = credentials
    assert client_id and client_secret and client_id != client_secret


def test_password_login_and_verify_credentials(alice: Mastodon, server: LiveServer) -> None:
    me = alice.account_verify_credentials()
    assert me.username == "alice"
    assert me.acct == "alice"
    assert str(me.id) == server.users["alice"]


def test_password_login_with_email(server: LiveServer, credentials: tuple[str, str]) -> None:
    api = _client(server, credentials)
    token = api.log_in("bob@example.org", PASSWORDS["bob"], scopes=SCOPES, allow_http=True)
    assert token
    assert api.account_verify_credentials().username == "bob"


def test_password_login_wrong_password_is_refused(server: LiveServer, credentials: tuple[str, str]) -> None:
    api = _client(server, credentials)
    with pytest.raises(MastodonIllegalArgumentError):
        api.log_in("alice", "not-the-password", scopes=SCOPES, allow_http=True)


def test_app_verify_credentials(alice: Mastodon) -> None:
    assert alice.app_verify_credentials().name == "Kenoma Mastodon.py test"


def test_authorization_code_flow_oob(server: LiveServer, credentials: tuple[str, str]) -> None:
    api = _client(server, credentials)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200
    form = _read(page.text)
    assert form.action is not None
    fields = dict(form.fields)
    fields["authorization[name]"] = "carol"
    fields["authorization[password]"] = PASSWORDS["carol"]
    answer = browser.post(urljoin(page.url, form.action), data=fields, timeout=10, allow_redirects=False)
    assert answer.status_code == 200, answer.text
    code = _read(answer.text).code
    assert code and re.fullmatch(r"[A-Za-z0-9_\-\.~]+", code)
    token = api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    assert token
    assert api.account_verify_credentials().username == "carol"
    # A code is single use.
    with pytest.raises(MastodonIllegalArgumentError):
        _client(server, credentials).log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)


def test_revoke_access_token(server: LiveServer, credentials: tuple[str, str]) -> None:
    api = _logged_in(server, credentials, "alice")
    assert api.account_verify_credentials().username == "alice"
    api.revoke_access_token(allow_http=True)
    with pytest.raises(MastodonAPIError):
        api.account_verify_credentials()


# --- Posting -----------------------------------------------------------------------------------


def test_status_post(alice: Mastodon) -> None:
    status = alice.status_post("Hello from Mastodon.py")
    assert "Hello from Mastodon.py" in status.content
    assert status.visibility == "public"
    assert status.account.username == "alice"
    assert alice.status(status.id).id == status.id


def test_status_post_markdown(alice: Mastodon) -> None:
    status = alice.status_post("some **bold** text", content_type="text/markdown")
    assert "<strong>bold</strong>" in status.content


def test_status_post_reply_and_spoiler(alice: Mastodon, bob: Mastodon) -> None:
    original = alice.status_post("first")
    reply = bob.status_post("@alice a reply", in_reply_to_id=original, spoiler_text="cw")
    assert str(reply.in_reply_to_id) == str(original.id)
    assert reply.spoiler_text == "cw"
    context = alice.status_context(original)
    assert [str(s.id) for s in context.descendants] == [str(reply.id)]


def test_media_post_and_attach(alice: Mastodon, server: LiveServer) -> None:
    media = alice.media_post(
        io.BytesIO(_png()), mime_type="image/png", description="a small square", file_name="square.png"
    )
    assert media.type == "image"
    assert media.url and media.url.startswith(server.base_url)
    assert media.description == "a small square"
    served = requests.get(media.url, timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("image/")
    assert served.content
    status = alice.status_post("with a picture", media_ids=[media])
    assert [str(m.id) for m in status.media_attachments] == [str(media.id)]


# --- Follows, favourites, notifications ----------------------------------------------------------


def test_follow_favourite_and_notifications(alice: Mastodon, bob: Mastodon, server: LiveServer) -> None:
    alice_id = server.users["alice"]
    relationship = bob.account_follow(alice_id)
    assert relationship.following is True
    assert str(relationship.id) == alice_id
    status = alice.status_post("favourite me")
    favourited = bob.status_favourite(status)
    assert favourited.favourited is True
    assert favourited.favourites_count == 1
    notifications = alice.notifications()
    kinds = [(n.type, n.account.username) for n in notifications]
    assert ("favourite", "bob") in kinds
    assert ("follow", "bob") in kinds
    favourite = next(n for n in notifications if n.type == "favourite")
    assert str(favourite.status.id) == str(status.id)
    only_follows = alice.notifications(types=["follow"])
    assert {n.type for n in only_follows} == {"follow"}
    single = alice.notifications(id=favourite.id)
    assert str(single.id) == str(favourite.id)


def test_timeline_home_paginates_with_fetch_next(
    alice: Mastodon, carol: Mastodon, server: LiveServer
) -> None:
    carol.account_follow(server.users["alice"])
    posted = [str(alice.status_post(f"page test {n}").id) for n in range(5)]
    first = carol.timeline_home(limit=2)
    assert len(first) == 2
    seen = [str(s.id) for s in first]
    page = first
    for _ in range(10):
        page = carol.fetch_next(page)
        if not page:
            break
        seen += [str(s.id) for s in page]
    assert len(seen) >= 5
    assert seen == sorted(seen, reverse=True)  # newest first, no overlap between pages
    assert len(seen) == len(set(seen))
    assert posted[::-1] == [i for i in seen if i in posted]
    newer = carol.fetch_previous(first)
    assert newer is None or all(str(s.id) > seen[0] for s in newer)


def test_conversations(alice: Mastodon, bob: Mastodon) -> None:
    direct = alice.status_post("@bob just between us", visibility="direct")
    assert direct.visibility == "direct"
    conversations = bob.conversations()
    assert conversations
    newest = conversations[0]
    assert str(newest.last_status.id) == str(direct.id)
    assert "alice" in [account.username for account in newest.accounts]
    assert newest.unread is True
    mine = alice.conversations()
    assert str(mine[0].last_status.id) == str(direct.id)


def test_default_version_check_mode_works_too(server: LiveServer, credentials: tuple[str, str]) -> None:
    # What most apps do: no version_check_mode at all.
    api = _client(server, credentials, version_check_mode="none")
    api.log_in("alice", PASSWORDS["alice"], scopes=SCOPES, allow_http=True)
    assert api.account_verify_credentials().username == "alice"
    assert api.status_post("default mode").visibility == "public"


def test_emoji_reaction_through_the_clients_own_request_path(alice: Mastodon, bob: Mastodon) -> None:
    # Mastodon.py has no Pleroma reaction method; Pleroma front ends call the endpoint with the
    # same token, so the test goes through Mastodon.py's own request machinery and parsing.
    status = alice.status_post("react to me")
    request = bob._Mastodon__api_request  # noqa: SLF001 - the client's generic request helper
    reacted = request("PUT", f"/api/v1/pleroma/statuses/{status.id}/reactions/%F0%9F%98%80")
    reactions = reacted["pleroma"]["emoji_reactions"]
    assert [(r["name"], r["count"], r["me"]) for r in reactions] == [("😀", 1, True)]
    listed = request("GET", f"/api/v1/pleroma/statuses/{status.id}/reactions")
    assert [(r["name"], r["count"]) for r in listed] == [("😀", 1)]
    kinds = [n.type for n in alice.notifications(types=["pleroma:emoji_reaction"])]
    assert kinds == ["pleroma:emoji_reaction"]
