"""outbound.py: SSRF guard, redirects, size and time limits, WebFinger.

Every request goes to a throwaway http.server on a loopback address; nothing here ever
talks to a non-loopback address (names that must "resolve" elsewhere are faked).
"""

from __future__ import annotations

import hashlib
import http.server
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

import outbound
from outbound import FetchError

TWO_MB = 2 * 1024 * 1024
ONE_MB = 1024 * 1024
SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"


class FakeRemote(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), Handler)
        self.hits: list[str] = []

    @property
    def base(self) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up on purpose (size cap, timeouts)


class Handler(http.server.BaseHTTPRequestHandler):
    server: FakeRemote

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        route = ROUTES.get(parts.path)
        if route is None:
            self.reply(404, b'{"error": "not found"}')
        else:
            route(self, query)

    def reply(self, status: int, body: bytes, length: bool = True, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def webfinger_route(handler: Handler, query: dict[str, str]) -> None:
    host = handler.headers["Host"]
    if query.get("resource") != f"acct:alice@{host}":
        handler.reply(404, b"{}")
        return
    jrd = {
        "subject": f"acct:alice@{host}",
        "links": [
            {"rel": "self", "href": f"http://{host}/users/alice"},
            {
                "rel": SUBSCRIBE,
                "template": f"http://{host}/ostatus_subscribe?acct={{uri}}",
            },
        ],
    }
    handler.reply(200, json.dumps(jrd).encode(), Content_Type="application/jrd+json")


def drip_route(handler: Handler, query: dict[str, str]) -> None:
    handler.send_response(200)
    handler.end_headers()
    for _ in range(30):  # one byte every 0.1 s: each read is quick, the sum is not
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.1)


def drip_headers_route(handler: Handler, query: dict[str, str]) -> None:
    # The status line and headers a byte at a time: every socket read gets its byte in time, so
    # only a limit on the whole request ends it.
    for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"x" * 100:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.1)


def slow_route(handler: Handler, query: dict[str, str]) -> None:
    time.sleep(1.5)
    handler.reply(200, b"late")


ROUTES: dict[str, Callable[[Handler, dict[str, str]], None]] = {
    "/ok": lambda h, q: h.reply(200, b'{"ok": true}', Content_Type="application/json"),
    "/bad-json": lambda h, q: h.reply(200, b"<html>not json</html>"),
    "/status": lambda h, q: h.reply(int(q["code"]), b"nope"),
    "/redirect": lambda h, q: h.reply(302, b"", Location=q["to"]),
    "/loop": lambda h, q: h.reply(302, b"", Location="/loop"),
    # No Content-Length: the cap must hold while streaming, not only on the header.
    "/big": lambda h, q: h.reply(200, b"x" * TWO_MB, length=False),
    "/big-declared": lambda h, q: h.reply(200, b"x" * TWO_MB),
    "/file": lambda h, q: h.reply(200, b"emoji bytes" * 1000),
    "/slow": slow_route,
    "/drip": drip_route,
    "/drip-headers": drip_headers_route,
    "/.well-known/webfinger": webfinger_route,
}


def start(host: str) -> FakeRemote:
    server = FakeRemote(host)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, FakeRemote]]:
    # 127.0.0.2 is loopback too; tests may declare it "public" to exercise the guard.
    running = {"main": start("127.0.0.1"), "second": start("127.0.0.2")}
    yield running
    for server in running.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def remote(servers: dict[str, FakeRemote]) -> FakeRemote:
    servers["main"].hits.clear()
    return servers["main"]


@pytest.fixture
def second_remote(servers: dict[str, FakeRemote]) -> FakeRemote:
    servers["second"].hits.clear()
    return servers["second"]


# --- the address policy ---------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "::127.0.0.1",  # deprecated IPv4-compatible form
    ],
)
def test_is_public_address_refuses_non_public(address: str) -> None:
    assert not outbound.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_is_public_address_accepts_public(address: str) -> None:
    assert outbound.is_public_address(ipaddress.ip_address(address))


# --- refused by default ---------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2130706433",
        "0177.0.0.1",
        "0x7f000001",
        "0x7f.1",
        "127.1",
        "0.0.0.0",
    ],
)
def test_fetch_refuses_loopback_spellings_by_default(remote: FakeRemote, host: str) -> None:
    port = remote.server_address[1]
    with pytest.raises(FetchError, match="refused non-public address"):
        outbound.fetch(f"http://{host}:{port}/ok", allow_private=False)
    assert remote.hits == []


def test_fetch_refuses_https_to_loopback_by_default(remote: FakeRemote) -> None:
    with pytest.raises(FetchError, match="refused non-public address"):
        outbound.fetch(f"https://127.0.0.1:{remote.server_address[1]}/", allow_private=False)


def test_fetch_checks_the_address_resolved_at_connect_time(
    remote: FakeRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A public-looking name that resolves to loopback (DNS rebinding) is refused.
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host: str, *args: object, **kwargs: object) -> list:
        return real_getaddrinfo("127.0.0.1" if host == "rebind.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    url = f"http://rebind.example:{remote.server_address[1]}/ok"
    with pytest.raises(FetchError, match="refused non-public address"):
        outbound.fetch(url, allow_private=False)
    assert remote.hits == []
    assert outbound.fetch(url, allow_private=True).status == 200


def test_fetch_rechecks_every_redirect_hop(
    remote: FakeRemote, second_remote: FakeRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend 127.0.0.2 is a public host; 127.0.0.1 stays private.
    allowed = ipaddress.ip_address("127.0.0.2")
    monkeypatch.setattr(outbound, "is_public_address", lambda ip: ip == allowed)
    assert outbound.fetch(f"{second_remote.base}/ok", allow_private=False).status == 200

    hop = f"{second_remote.base}/redirect?to={remote.base}/ok"
    with pytest.raises(FetchError, match="refused non-public address"):
        outbound.fetch(hop, allow_private=False)
    assert second_remote.hits[-1].startswith("/redirect")
    assert remote.hits == []


def test_fetch_follows_redirects_when_private_allowed(remote: FakeRemote, second_remote: FakeRemote) -> None:
    hop = f"{second_remote.base}/redirect?to={remote.base}/ok"
    result = outbound.fetch(hop, allow_private=True)
    assert result.status == 200
    assert result.url == f"{remote.base}/ok"
    assert json.loads(result.content) == {"ok": True}


def test_fetch_stops_after_five_redirects(remote: FakeRemote) -> None:
    with pytest.raises(FetchError, match="too many redirects"):
        outbound.fetch(f"{remote.base}/loop", allow_private=True)
    assert len(remote.hits) == outbound.MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1/",
        "http:///nohost",
    ],
)
def test_fetch_refuses_other_schemes(url: str) -> None:
    with pytest.raises(FetchError, match="unsupported URL"):
        outbound.fetch(url, allow_private=True)


def test_fetch_refuses_redirect_to_other_scheme(remote: FakeRemote) -> None:
    with pytest.raises(FetchError, match="unsupported URL"):
        outbound.fetch(f"{remote.base}/redirect?to=file:///etc/passwd", allow_private=True)


# --- allowed, limits, statuses --------------------------------------------------------


def test_fetch_allows_loopback_when_private_allowed(remote: FakeRemote) -> None:
    result = outbound.fetch(f"{remote.base}/ok", allow_private=True, accept="application/json")
    assert result.status == 200
    assert result.content == b'{"ok": true}'
    assert result.headers["content-type"] == "application/json"
    assert result.url == f"{remote.base}/ok"


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_fetch_enforces_size_cap(remote: FakeRemote, path: str) -> None:
    with pytest.raises(FetchError, match="too large"):
        outbound.fetch(f"{remote.base}{path}", allow_private=True)  # a document: 1 MiB at most
    assert len(outbound.fetch(f"{remote.base}{path}", allow_private=True, max_bytes=TWO_MB).content) == TWO_MB


def test_stream_to_file_enforces_size_cap_and_leaves_nothing(
    remote: FakeRemote, tmp_path: pytest.TempPathFactory
) -> None:
    with pytest.raises(FetchError, match="too large"):
        outbound.stream_to_file(
            f"{remote.base}/big",
            tmp_path / "pack.zip",
            allow_private=True,
            max_bytes=ONE_MB,
        )
    assert list(tmp_path.iterdir()) == []


def test_stream_to_file_writes_and_returns_upper_sha256(remote: FakeRemote, tmp_path) -> None:
    dest = tmp_path / "pack.zip"
    digest = outbound.stream_to_file(f"{remote.base}/file", dest, allow_private=True, max_bytes=ONE_MB)
    assert dest.read_bytes() == b"emoji bytes" * 1000
    assert digest == hashlib.sha256(dest.read_bytes()).hexdigest().upper()
    assert [p.name for p in tmp_path.iterdir()] == ["pack.zip"]


def test_stream_to_file_refuses_private_by_default(remote: FakeRemote, tmp_path) -> None:
    with pytest.raises(FetchError):
        outbound.stream_to_file(f"{remote.base}/file", tmp_path / "x", allow_private=False, max_bytes=ONE_MB)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/slow", "/drip", "/drip-headers"])
def test_fetch_enforces_timeout(remote: FakeRemote, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError):
        outbound.fetch(f"{remote.base}{path}", allow_private=True, timeout=0.5)
    assert time.monotonic() - started < 1.0


def test_stream_to_file_ends_a_dripping_server_on_time_and_leaves_nothing(
    remote: FakeRemote, tmp_path
) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError):
        outbound.stream_to_file(
            f"{remote.base}/drip-headers", tmp_path / "x", allow_private=True, max_bytes=ONE_MB, timeout=0.5
        )
    assert time.monotonic() - started < 1.0
    assert list(tmp_path.iterdir()) == []


def test_document_limits_follow_spec() -> None:
    # SPEC 24.6: fetched documents (WebFinger, nodeinfo, actors, objects) ≤ 1 MiB and 10 s.
    assert (outbound.DOCUMENT_MAX_BYTES, outbound.DOCUMENT_TIMEOUT) == (ONE_MB, 10.0)
    # An archive's time grows with its size: 64 MiB may take over a minute, never forever.
    assert outbound.archive_timeout(64 * ONE_MB) == pytest.approx(74.0)


@pytest.mark.parametrize("code", [404, 410, 500])
def test_fetch_raises_on_non_2xx(remote: FakeRemote, code: int) -> None:
    with pytest.raises(FetchError) as info:
        outbound.fetch(f"{remote.base}/status?code={code}", allow_private=True)
    assert info.value.status == code


def test_fetch_json_decodes_json(remote: FakeRemote) -> None:
    assert outbound.fetch_json(f"{remote.base}/ok", allow_private=True) == {"ok": True}


def test_fetch_json_raises_on_bad_json(remote: FakeRemote) -> None:
    with pytest.raises(FetchError, match="invalid JSON"):
        outbound.fetch_json(f"{remote.base}/bad-json", allow_private=True)


def test_fetch_raises_when_nothing_listens() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError):
        outbound.fetch(f"http://127.0.0.1:{port}/", allow_private=True)


# --- WebFinger ------------------------------------------------------------------------


def test_webfinger_returns_jrd_from_plain_http_test_server(remote: FakeRemote) -> None:
    host = f"127.0.0.1:{remote.server_address[1]}"
    jrd = outbound.webfinger(f"alice@{host}", allow_private=True)
    assert jrd is not None
    assert jrd["subject"] == f"acct:alice@{host}"
    link = outbound.webfinger_link(jrd, SUBSCRIBE)
    assert link == {
        "rel": SUBSCRIBE,
        "template": f"http://{host}/ostatus_subscribe?acct={{uri}}",
    }
    assert remote.hits[-1] == f"/.well-known/webfinger?resource=acct%3Aalice%40{host.replace(':', '%3A')}"


def test_webfinger_accepts_leading_at(remote: FakeRemote) -> None:
    host = f"127.0.0.1:{remote.server_address[1]}"
    assert outbound.webfinger(f"@alice@{host}", allow_private=True) is not None


def test_webfinger_returns_none_for_unknown_account(remote: FakeRemote) -> None:
    host = f"127.0.0.1:{remote.server_address[1]}"
    assert outbound.webfinger(f"bob@{host}", allow_private=True) is None


def test_webfinger_refuses_loopback_by_default(remote: FakeRemote) -> None:
    host = f"127.0.0.1:{remote.server_address[1]}"
    assert outbound.webfinger(f"alice@{host}", allow_private=False) is None
    assert remote.hits == []


@pytest.mark.parametrize("acct", ["alice", "@alice", "alice@", "@host", "a@b/c", "a@b?x", "a b@c"])
def test_webfinger_returns_none_for_malformed_acct(acct: str) -> None:
    assert outbound.webfinger(acct, allow_private=True) is None


def test_webfinger_link_returns_first_match_or_none() -> None:
    jrd = {"links": [{"rel": "a", "href": "1"}, "junk", {"rel": "a", "href": "2"}]}
    assert outbound.webfinger_link(jrd, "a") == {"rel": "a", "href": "1"}
    assert outbound.webfinger_link(jrd, "b") is None
    assert outbound.webfinger_link({"links": "nope"}, "a") is None
    assert outbound.webfinger_link({}, "a") is None
