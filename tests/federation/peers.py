"""Two (or more) Kenoma servers on loopback for federation tests: each a LiveServer from
tests/conftest.py, used only through its HTTP API as another server's users would."""

from __future__ import annotations

from typing import Any

import requests

from models import db
from services.accounts import create_local_account

TIMEOUT = 15
PASSWORD = "secret-pw"


class Peer:
    """One live Kenoma and the bearer tokens of its seeded users."""

    def __init__(self, server: Any, *nicknames: str, locked: tuple[str, ...] = ()) -> None:
        self.server = server
        self.url, self.host = server.url, server.host
        self.tokens: dict[str, dict[str, str]] = {}
        with server.app.app_context():
            for nickname in nicknames:
                account = create_local_account(nickname, PASSWORD, email=f"{nickname}@example.org")
                account.is_locked = nickname in locked
            db.session.commit()
            db.session.remove()
        for nickname in nicknames:
            self.tokens[nickname] = self._bearer(nickname)

    def _bearer(self, nickname: str) -> dict[str, str]:
        app = requests.post(
            f"{self.url}/api/v1/apps",
            data={
                "client_name": "peer",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            },
            timeout=TIMEOUT,
        ).json()
        token = requests.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": nickname,
                "password": PASSWORD,
                "scope": "read write follow",
            },
            timeout=TIMEOUT,
        ).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> requests.Response:
        headers = self.tokens[who] if who else {}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)

    def get(self, path: str, who: str | None = None, **kwargs: Any) -> Any:
        response = self.call("GET", path, who, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, who: str, **kwargs: Any) -> Any:
        response = self.call("POST", path, who, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def account(self, acct: str, who: str) -> dict:
        """An account as `who` sees it, resolved over WebFinger when it is another server's."""
        found = self.get("/api/v2/search", who, params={"q": acct, "resolve": "true", "type": "accounts"})
        exact = [a for a in found["accounts"] if a["acct"] == acct]
        assert len(exact) == 1, found
        return exact[0]

    def acct_of(self, nickname: str) -> str:
        return f"{nickname}@{self.host}"

    def follow(self, who: str, acct: str) -> dict:
        """`who` follows `acct` through the API; the relationship it answers."""
        target = self.account(acct, who)
        return self.post(f"/api/v1/accounts/{target['id']}/follow", who)

    def post_status(self, who: str, text: str, **fields: Any) -> dict:
        return self.post("/api/v1/statuses", who, json={"status": text, **fields})
