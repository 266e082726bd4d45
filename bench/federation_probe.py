"""The federation probe (issue 15, SPEC 24.5): outbound, one public post by alice once she has
1,000 remote followers spread over 50 loopback servers (small threaded HTTP servers started
here), timed until every server's shared inbox has it, and the POST's own latency beside the
same POST without remote followers; inbound, signed Creates POSTed to /inbox by wrk, accepted
per second, as a ratio to the write floor measured around it.

The remote accounts and follows are bulk-inserted (bench/bulk.py remote-followers), all with one
RSA key: the probe measures delivery and verification, not key generation. Signatures are made
here with `cryptography` (draft-cavage, as Mastodon signs), independently of Kenoma's code."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from loopback import Client
from servers import Pass
from servers import Server
from servers import wrk
from settings import BENCH
from settings import BIN
from settings import ROOT
from settings import SECONDS
from settings import log

INBOX_SERVERS = 50
FOLLOWERS = 1000
POSTS = 10
INBOUND = 4000
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class Inboxes:
    """INBOX_SERVERS loopback servers; each counts the Creates its inboxes receive per object."""

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.received: dict[tuple[int, str], int] = {}  # (server, object id) -> requests
        self.servers = [self._start(n) for n in range(count)]

    def _start(self, number: int) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                activity = json.loads(body or b"{}")
                if activity.get("type") == "Create":
                    key = (number, str(activity["object"]["id"]))
                    with owner.lock:
                        owner.received[key] = owner.received.get(key, 0) + 1

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def hosts(self) -> list[str]:
        return [f"127.0.0.1:{server.server_port}" for server in self.servers]

    def requests_for(self, object_id: str) -> list[int]:
        with self.lock:
            return [self.received.get((n, object_id), 0) for n in range(len(self.servers))]

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@dataclass
class FederationResult:
    post_ms_without: float  # median POST latency of bob's posts in between (no remote followers)
    post_ms_with: float  # median POST latency with FOLLOWERS remote followers
    delivered_s: float  # median time from the POST to the last server's Create
    max_requests: int  # most Creates one server got for one post (1: one per shared inbox)
    complete: bool
    inbound: Pass
    floor: list[Pass]
    processed_s: float | None  # from the end of the inbound pass until no job was left queued

    @property
    def inbound_ratio(self) -> float:
        base = statistics.mean(p.rate for p in self.floor)
        return self.inbound.rate / base if base else 0.0


def _key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def _post(client: Client, text: str) -> tuple[float, str]:
    started = time.perf_counter()
    answer = client.request("POST", "/api/v1/statuses", form={"status": text})
    if answer.status != 200:
        raise RuntimeError(f"POST /api/v1/statuses answered {answer.status}")
    return (time.perf_counter() - started) * 1000, answer.json()["uri"]


def _outbound(
    port: int, token: str, other_token: str, inboxes: Inboxes
) -> tuple[list[float], list[float], list[float], int, bool]:
    """POSTS posts by alice, each timed until every server has it, and as many by bob (no remote
    followers) in between: the same POST without the deliveries, under the same conditions."""
    client, other = Client(port, token), Client(port, other_token)
    without, latencies, delivered, most, complete = [], [], [], 0, True
    for n in range(POSTS):
        without.append(_post(other, f"bench post without remote followers {n}")[0])
        started = time.perf_counter()
        latency, uri = _post(client, f"federated bench post {n}")
        latencies.append(latency)
        deadline = started + 30
        while time.perf_counter() < deadline:
            counts = inboxes.requests_for(uri)
            if all(counts):
                break
            time.sleep(0.005)
        counts = inboxes.requests_for(uri)
        complete = complete and all(counts)
        most = max(most, *counts)
        delivered.append(time.perf_counter() - started)
    return without, latencies, delivered, most, complete


def _signed_lines(port: int, hosts: list[str], key: rsa.RSAPrivateKey) -> list[str]:
    """INBOUND signed Creates, one per line (lua/signed.lua): path, Date, Digest, Signature and
    the body, tab-separated; each from the next remote follower in turn."""
    lines = []
    date = formatdate(usegmt=True)
    for n in range(INBOUND):
        host = hosts[n % len(hosts)]
        actor = f"http://{host}/users/f{n % FOLLOWERS}"
        note = {
            "id": f"http://{host}/objects/{uuid.uuid4()}",
            "type": "Note",
            "attributedTo": actor,
            "content": f"<p>inbound bench note {n}</p>",
            "to": [PUBLIC],
            "cc": [f"{actor}/followers"],
        }
        activity = {"id": f"{note['id']}/activity", "type": "Create", "actor": actor, "object": note}
        body = json.dumps(activity)
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        text = f"(request-target): post /inbox\nhost: 127.0.0.1:{port}\ndate: {date}\ndigest: {digest}"
        raw = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
        signature = (
            f'keyId="{actor}#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",'
            f'signature="{raw}"'
        )
        lines.append("\t".join(["/inbox", date, digest, signature, body]))
    return lines


def _queued(jobs_db: Path, redis_url: str | None) -> int:
    """Jobs waiting: huey's SQLite task table, or its Redis list in the scaled layout."""
    if redis_url:
        import redis

        return redis.Redis.from_url(redis_url).llen("huey.redis.kenoma")
    with sqlite3.connect(jobs_db, timeout=10) as connection:
        return connection.execute("select count(*) from task").fetchone()[0]


def _drained(jobs_db: Path, redis_url: str | None, timeout: float = 120.0) -> float | None:
    """Seconds until the job queue (the inbound activities' processing) is empty; None if not."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _queued(jobs_db, redis_url) == 0:
            return time.perf_counter() - started
        time.sleep(0.05)
    return None


def federation_probe(
    kenoma: Server, floor: Server, env: dict[str, str], tokens: tuple[str, str], workdir: Path
) -> FederationResult:
    """`tokens`: alice's (she gets the remote followers) and bob's (he has none)."""
    port = kenoma.port
    inboxes = Inboxes(INBOX_SERVERS)
    try:
        key, public = _key()
        spec = workdir / "remote-followers.json"
        spec.write_text(json.dumps({"hosts": inboxes.hosts(), "followers": FOLLOWERS, "public_pem": public}))
        subprocess.run(
            [str(BIN / "python"), str(BENCH / "bulk.py"), "remote-followers", "alice", str(spec)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        log(f"federation: {FOLLOWERS} remote followers on {INBOX_SERVERS} servers; {POSTS} posts")
        without, latencies, delivered, most, complete = _outbound(port, *tokens, inboxes)
        signed = workdir / "signed-creates.txt"
        signed.write_text("\n".join(_signed_lines(port, inboxes.hosts(), key)) + "\n")
        floor_file = workdir / "federation-floor.txt"
        floor_file.write_text(
            "".join(f"POST /write status=bench+federation+{i}+the+quick+brown+fox\n" for i in range(100_000))
        )
        log("federation: inbound signed Creates against the write floor")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        before = wrk(floor.port, "/write", SECONDS, headers=form, requests_file=floor_file)
        inbound = wrk(port, "/inbox", SECONDS, requests_file=signed, script="signed.lua")
        after = wrk(floor.port, "/write", SECONDS, headers=form, requests_file=floor_file)
        processed = _drained(workdir / "instance" / "jobs.db", env.get("KENOMA_REDIS_URL"))
    finally:
        inboxes.stop()
    return FederationResult(
        post_ms_without=statistics.median(without),
        post_ms_with=statistics.median(latencies),
        delivered_s=statistics.median(delivered),
        max_requests=most,
        complete=complete,
        inbound=inbound,
        floor=[before, after],
        processed_s=processed,
    )


def federation_checks(result: FederationResult | None) -> list[tuple[str, str, str, bool | None]]:
    if result is None:
        return [("federation", "not measured", "", False)]
    ratio = result.post_ms_with / result.post_ms_without if result.post_ms_without else 0.0
    return [
        (
            "federation out",
            f"{FOLLOWERS} followers on {INBOX_SERVERS} servers: all delivered in {result.delivered_s:.2f}s "
            f"(median of {POSTS}), at most {result.max_requests} request per server per post",
            "delivered everywhere, one request per shared inbox",
            result.complete and result.max_requests == 1,
        ),
        (
            "federation POST",
            f"p50 {result.post_ms_with:.1f} ms with remote followers, {result.post_ms_without:.1f} ms "
            f"without ({ratio:.2f}x)",
            "unchanged (<= 1.5x)",
            ratio <= 1.5,
        ),
        (
            "federation in",
            f"{result.inbound.rate:.0f} signed Creates/s accepted = {result.inbound_ratio:.0%} of the write "
            f"floor; {result.inbound.non_2xx} non-2xx; "
            + (
                f"all processed {result.processed_s:.1f}s after the pass"
                if result.processed_s is not None
                else "jobs still queued after 120 s"
            ),
            "zero non-2xx",
            result.inbound.non_2xx == 0 and result.inbound.requests > 0,
        ),
    ]
