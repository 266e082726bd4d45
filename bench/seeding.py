"""Seeding: the schema, the two users through the CLI, then over the HTTP API the OAuth app and
tokens, the follows, the 50-file emoji pack, 1,000 statuses, 200 reactions, 200 favourites, the
favourites that notify alice and the 40 accounts of the relationships row (README: Seeding)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from loopback import Client
from loopback import multipart
from settings import B62
from settings import BENCH
from settings import BIN
from settings import EMOJI_FILES
from settings import FAVOURITES
from settings import NOTIFYING_FAVOURITES
from settings import PASSWORD
from settings import PEERS
from settings import REACTIONS
from settings import ROOT
from settings import STATUSES
from settings import UNICODE_EMOJI


@dataclass
class Seeded:
    alice_id: str = ""
    bob_id: str = ""
    alice_token: str = ""
    bob_token: str = ""
    status_ids: list[str] = field(default_factory=list)  # newest first
    reacted_id: str = ""
    shortcodes: list[str] = field(default_factory=list)
    peer_ids: list[str] = field(default_factory=list)  # the relationships row's accounts

    @property
    def pin(self) -> str:
        """The id just above the newest seeded status: as max_id it pins home and favourites to
        the seeded pages, whatever the write rows and GROWTH add above them later (keyset paging
        seeks there on the index), so every round and both sizes measure the same 20 statuses."""
        value = 0
        for char in self.status_ids[0]:
            value = value * 62 + B62.index(char)
        value += 1
        out = ""
        while value:
            value, rest = divmod(value, 62)
            out = B62[rest] + out
        return out.rjust(18, "0")

    def home(self, limit: int = 20) -> str:
        return f"/api/v1/timelines/home?limit={limit}&max_id={self.pin}"

    def favourites(self, limit: int = 20) -> str:
        return f"/api/v1/pleroma/accounts/{self.alice_id}/favourites?limit={limit}&max_id={self.pin}"

    def account_statuses(self, limit: int = 20) -> str:
        """bob's statuses as alice sees them, pinned like home (alice's POST row adds hers)."""
        return f"/api/v1/accounts/{self.bob_id}/statuses?limit={limit}&max_id={self.pin}"

    def notifications(self, limit: int = 20) -> str:
        """alice's: bob's mentions, reactions, favourites and follow. No write row notifies her
        (her reactions, posts and favourites notify bob), so the page stays the same."""
        return f"/api/v1/notifications?limit={limit}"

    def relationships(self) -> str:
        return "/api/v1/accounts/relationships?" + "&".join(f"id[]={i}" for i in self.peer_ids)

    @property
    def single_status(self) -> str:
        """The newest seeded status: 20 reactions, as a client opens a busy status."""
        return f"/api/v1/statuses/{self.reacted_id}"

    @property
    def cycle_targets(self) -> list[str]:
        """bob's statuses outside the measured pages, which alice never favourited: the
        favourite cycle row's (each ends unfavourited, so no measured page changes). Statuses
        alternate from the newest, bob's first (seed_statuses: alice posted the even ones)."""
        return self.status_ids[100::2]


def run_flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout.strip()


def build_schema(env: dict[str, str], instance: Path) -> str:
    """Migrate as `make run` does; if migrations/ lags models.py, build from the models instead
    (said in the output, so a stale migration never hides silently)."""
    run_flask(env, "db", "upgrade")
    check = subprocess.run(
        [str(BIN / "flask"), "--app", "app", "db", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check.returncode == 0:
        return "flask db upgrade"
    for name in ("kenoma.db", "kenoma.db-wal", "kenoma.db-shm"):
        (instance / name).unlink(missing_ok=True)
    code = "from app import create_app\nfrom models import db\napp = create_app()\nwith app.app_context(): db.create_all()"
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    return "db.create_all() (migrations/ lags models.py: `flask db check` found changes)"


def emoji_png(n: int) -> bytes:
    """A distinct 64x64 PNG of some kilobytes, like a real emoji image."""
    import io
    import random

    from PIL import Image

    rng = random.Random(n)
    image = Image.new("RGBA", (64, 64))
    image.putdata([(rng.randrange(256), rng.randrange(256), 128, 255) for _ in range(64 * 64)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed(port: int, env: dict[str, str]) -> Seeded:
    """2 users (CLI), then over HTTP: follows, 1,000 statuses, a 50-file pack, 200 reactions and
    200 favourites."""
    seeded = Seeded()
    seeded.alice_id = run_flask(env, "user", "create", "alice", "--password", PASSWORD, "--admin")
    seeded.bob_id = run_flask(env, "user", "create", "bob", "--password", PASSWORD)
    anon = Client(port)
    app = anon.ok(
        "POST",
        "/api/v1/apps",
        form={
            "client_name": "bench",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow push admin",
        },
    )

    def token(nickname: str) -> str:
        answer = anon.ok(
            "POST",
            "/oauth/token",
            form={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": nickname,
                "password": PASSWORD,
                "scope": "read write follow push admin",
            },
        )
        return answer["access_token"]

    seeded.alice_token, seeded.bob_token = token("alice"), token("bob")
    alice, bob = Client(port, seeded.alice_token), Client(port, seeded.bob_token)
    alice.ok("PATCH", "/api/v1/accounts/update_credentials", form={"hide_favorites": "false"})
    alice.ok("POST", f"/api/v1/accounts/{seeded.bob_id}/follow")
    bob.ok("POST", f"/api/v1/accounts/{seeded.alice_id}/follow")

    seeded.shortcodes = seed_pack(alice)
    seed_statuses(port, seeded)
    seed_reactions(alice, bob, seeded)
    bob_statuses = seeded.status_ids[1::2][: FAVOURITES * 2]
    for status_id in bob_statuses[::2][:FAVOURITES]:
        alice.ok("POST", f"/api/v1/statuses/{status_id}/favourite")
    # Outside the measured pages (the first hundred), so their counts stay as they were.
    for status_id in seeded.status_ids[101::2][:NOTIFYING_FAVOURITES]:  # alice's
        bob.ok("POST", f"/api/v1/statuses/{status_id}/favourite")
    seeded.peer_ids = seed_peers(alice, env)
    return seeded


def seed_peers(alice: Client, env: dict[str, str]) -> list[str]:
    """The relationships row's accounts (bulk insert): alice follows a quarter and mutes two."""
    made = subprocess.run(
        [str(BIN / "python"), str(BENCH / "bulk.py"), "peers", str(PEERS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    peer_ids = json.loads(made.stdout.strip().splitlines()[-1])
    for peer_id in peer_ids[::4]:
        alice.ok("POST", f"/api/v1/accounts/{peer_id}/follow")
    for peer_id in peer_ids[1:4:2]:
        alice.ok("POST", f"/api/v1/accounts/{peer_id}/mute")
    return peer_ids


def seed_pack(admin: Client) -> list[str]:
    admin.ok("POST", "/api/v1/pleroma/emoji/pack", form={"name": "bench"})
    shortcodes = []
    for n in range(1, EMOJI_FILES + 1):
        shortcode = f"bench_{n:02d}"
        body, content_type = multipart(
            {"name": "bench", "shortcode": shortcode, "filename": f"{shortcode}.png"},
            {"file": (f"{shortcode}.png", emoji_png(n), "image/png")},
        )
        admin.ok(
            "POST", "/api/v1/pleroma/emoji/packs/files", body=body, headers={"Content-Type": content_type}
        )
        shortcodes.append(shortcode)
    metadata = {"description": "bench pack", "license": "CC0", "homepage": "", "share-files": True}
    admin.ok("PATCH", "/api/v1/pleroma/emoji/pack", json_body={"name": "bench", "metadata": metadata})
    return shortcodes


def seed_statuses(port: int, seeded: Seeded) -> None:
    """500 statuses each, alice and bob taking turns, some with a tag, a mention or an emoji."""
    ids: list[str] = []
    clients = {True: Client(port, seeded.alice_token), False: Client(port, seeded.bob_token)}
    for n in range(STATUSES):
        mine = n % 2 == 0
        client = clients[mine]
        text = f"Bench status {n}: the quick brown fox jumps over the lazy dog."
        if n % 5 == 0:
            text += " #bench"
        if n % 7 == 0:
            text += " @bob" if mine else " @alice"
        if n % 11 == 0:
            text += f" :{seeded.shortcodes[n % len(seeded.shortcodes)]}:"
        ids.append(client.ok("POST", "/api/v1/statuses", form={"status": text})["id"])
    seeded.status_ids = list(reversed(ids))


def seed_reactions(alice: Client, bob: Client, seeded: Seeded) -> None:
    """Ten emoji from each user on each of the ten newest statuses: 200 reactions, so the first
    home page carries reactions and one status has twenty."""
    emoji = UNICODE_EMOJI[:5] + [f":{sc}:" for sc in seeded.shortcodes[:5]]
    per_user = REACTIONS // 2 // len(emoji)
    for status_id in seeded.status_ids[:per_user]:
        for name in emoji:
            for client in (alice, bob):
                client.ok("PUT", f"/api/v1/pleroma/statuses/{status_id}/reactions/{quote(name)}")
    seeded.reacted_id = seeded.status_ids[0]


def quote(text: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(text, safe="")
