"""Every outbound HTTP request of Kenoma goes through this module (SPEC §1.10).

Callers pass ``allow_private=current_app.config["ALLOW_PRIVATE_FETCH"]``; this module
never imports Flask so jobs and tests can use it without an app.

How private destinations are refused (SSRF guard)
-------------------------------------------------
Checking the URL's host before the request is not enough: a name can resolve to a
public address during the check and to 127.0.0.1 when the socket connects (DNS
rebinding), and odd spellings such as ``2130706433``, ``0177.0.0.1`` or ``0x7f.1`` are
only "decoded" by the resolver. So the check lives inside the connection itself:
``_Adapter`` makes urllib3 build its sockets with ``_connect_public``, which
resolves the host once, checks every resolved address with ``is_public_address`` and
connects to that very address (TLS still verifies the certificate against the original
host name). Redirects are followed by hand, one request per hop, so each hop opens its
connection through the same guard and is re-checked. Environment proxies are ignored
(``trust_env = False``): through a proxy we would only ever check the proxy's address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import pathlib
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NameResolutionError
from urllib3.exceptions import NewConnectionError
from urllib3.util.connection import allowed_gai_family

MAX_REDIRECTS = 5
CHUNK_SIZE = 64 * 1024
USER_AGENT = "Kenoma"
JRD_ACCEPT = "application/jrd+json, application/json"
ALLOWED_SCHEMES = frozenset({"http", "https"})
# SPEC 24.6: documents (WebFinger, nodeinfo, actors, objects) are small and come quickly.
DOCUMENT_MAX_BYTES = 1024 * 1024
DOCUMENT_TIMEOUT = 10.0
# Archives may be large: their time grows with the size allowed, at 1 MiB/s at the slowest.
ARCHIVE_MIN_RATE = 1024 * 1024


def archive_timeout(max_bytes: int) -> float:
    """The whole-download limit for a file of at most max_bytes."""
    return DOCUMENT_TIMEOUT + max_bytes / ARCHIVE_MIN_RATE


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges not (or not on every Python version) covered by the ipaddress flags below.
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "64:ff9b:1::/48",  # local-use NAT64
        "fec0::/10",  # deprecated site-local
    )
)
# NAT64 well-known prefix: the low 32 bits are the IPv4 host a gateway would reach.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """Any outbound failure: refused address, timeout, size, bad status, bad JSON."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AddressRefused(NewConnectionError):
    """The host resolved only to addresses we must not connect to."""

    def __init__(self, conn: HTTPConnection, detail: str) -> None:
        super().__init__(conn, detail)
        self.detail = detail


@dataclass(frozen=True)
class FetchResult:
    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str


# --- address policy -------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really reaches (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # ::ffff:127.0.0.1 connects to 127.0.0.1: judge the IPv4 address.
            return is_public_address(embedded)
    flagged = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not flagged and not any(ip in net for net in _EXTRA_BLOCKED)


def _parse_sockaddr_ip(sockaddr: tuple[Any, ...]) -> IPAddress:
    # IPv6 link-local sockaddrs may carry "%scope"; the scope cannot change the verdict.
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])


# --- whole-request deadline ------------------------------------------------------------


class _Deadline:
    """The limit on a request's whole duration. Per-read timeouts cannot end a server that drips
    its status line and headers a byte at a time (each read gets its byte in time), so when the
    time is up a timer thread shuts down the request's sockets, which wakes the blocked read."""

    _active = threading.local()

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @classmethod
    def watch(cls, connection: HTTPConnection) -> None:
        """Called by every new connection: the request running on this thread owns it."""
        deadline = getattr(cls._active, "deadline", None)
        if deadline is not None:
            with deadline._lock:
                deadline._connections.append(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                sock = connection.sock  # the TLS socket once wrapped; None once closed
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def check(self) -> None:
        """A body cut short by the shutdown ends like any other: as a timeout, never as data."""
        if self.expired:
            raise FetchError("timed out")

    def __enter__(self) -> _Deadline:
        self._active.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Cancelled before the session closes its sockets: a shutdown never reaches a socket
        # that another request may since have been given.
        with self._lock:
            self._timer.cancel()
            self._connections.clear()
        self._active.deadline = None


# --- connect-time guard ---------------------------------------------------------------


class _RefusedAddresses(OSError):
    """Every resolved address failed is_public_address (internal to _connect_public)."""


def _connect_public(
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None,
    socket_options: list[tuple[int, int, int | bytes]] | None,
) -> socket.socket:
    """Resolve once, connect only to an address that passes ``is_public_address``."""
    last_error: OSError | None = None
    refused: list[str] = []
    for family, type_, proto, _, sockaddr in socket.getaddrinfo(
        host, port, allowed_gai_family(), socket.SOCK_STREAM
    ):
        if not is_public_address(_parse_sockaddr_ip(sockaddr)):
            refused.append(str(sockaddr[0]))
            continue
        sock = socket.socket(family, type_, proto)
        try:
            for level, name, value in socket_options or ():
                sock.setsockopt(level, name, value)
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    if last_error is not None:
        raise last_error
    raise _RefusedAddresses(", ".join(refused) or "no address")


class _PublicOnlyConnectionMixin:
    """urllib3's ``_new_conn``, but the socket only ever reaches a public address."""

    def _new_conn(self) -> socket.socket:
        conn: HTTPConnection = self  # type: ignore[assignment]
        timeout = conn.timeout if isinstance(conn.timeout, (int, float)) else None
        try:
            sock = _connect_public(
                conn._dns_host.strip("[]"),
                conn.port,
                timeout,
                conn.source_address,
                conn.socket_options,
            )
        except _RefusedAddresses as exc:
            raise AddressRefused(conn, f"refused non-public address for {conn.host}: {exc}") from exc
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(conn, f"connection to {conn.host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(conn, f"failed to connect: {exc}") from exc
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock


class _WatchedConnectionMixin:
    """Every connection joins the deadline of the request that opened it."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _Deadline.watch(self)  # type: ignore[arg-type]
        return sock


class _PublicHTTPConnection(_WatchedConnectionMixin, _PublicOnlyConnectionMixin, HTTPConnection):
    pass


class _PublicHTTPSConnection(_WatchedConnectionMixin, _PublicOnlyConnectionMixin, HTTPSConnection):
    pass


class _WatchedHTTPConnection(_WatchedConnectionMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnectionMixin, HTTPSConnection):
    pass


class _PublicHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _Adapter(HTTPAdapter):
    """requests adapter whose pools build every connection under the request's deadline and,
    unless private addresses are allowed, through ``_connect_public``."""

    def __init__(self, allow_private: bool) -> None:
        self.pools: dict[str, type[HTTPConnectionPool]] = {
            "http": _WatchedHTTPConnectionPool if allow_private else _PublicHTTPConnectionPool,
            "https": _WatchedHTTPSConnectionPool if allow_private else _PublicHTTPSConnectionPool,
        }
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self.pools


def _session(allow_private: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no env proxies/netrc: the guard must see the real peer
    adapter = _Adapter(allow_private)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def guarded_session(allow_private: bool) -> requests.Session:
    """A requests session whose every connection passes the guard above, for a library that
    makes its own request with it (pywebpush posting to a subscription's push service)."""
    return _session(allow_private)


# --- request / redirect / body --------------------------------------------------------


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        raise FetchError(f"unsupported URL: {url[:200]}")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timed out")
    return left


def _refusal_reason(exc: requests.ConnectionError) -> str | None:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return reason.detail if isinstance(reason, AddressRefused) else None


# Signs one hop of a request: the URL in, the headers that sign it out (HTTP Signatures).
Signer = Callable[[str], Mapping[str, str]]


def _get(
    session: requests.Session, url: str, accept: str | None, deadline: float, sign: Signer | None = None
) -> requests.Response:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": accept or "*/*",
        "Accept-Encoding": "identity",
        **(sign(url) if sign is not None else {}),
    }
    try:
        return session.get(
            url,
            headers=headers,
            stream=True,
            allow_redirects=False,
            timeout=_remaining(deadline),
        )
    except requests.ConnectionError as exc:
        refusal = _refusal_reason(exc)
        if refusal is not None:
            raise FetchError(refusal) from exc
        raise


def _open(
    session: requests.Session, url: str, accept: str | None, deadline: float, sign: Signer | None = None
) -> requests.Response:
    """GET, following redirects by hand so every hop goes through the guard again (and is
    signed for its own URL)."""
    for _ in range(MAX_REDIRECTS + 1):
        _check_url(url)
        response = _get(session, url, accept, deadline, sign)
        location = session.get_redirect_target(response)
        if location is None:
            if not 200 <= response.status_code < 300:
                response.close()
                raise FetchError(f"HTTP {response.status_code}", status=response.status_code)
            return response
        response.close()
        url = urljoin(response.url, location)
    raise FetchError("too many redirects")


def _shrink_read_timeout(response: requests.Response, deadline: float) -> None:
    # The read timeout applies to each socket read; cutting it to what is left of the
    # deadline makes a stalled body end on time, not one full timeout later.
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(_remaining(deadline))


def _iter_body(response: requests.Response, max_bytes: int, deadline: float) -> Iterator[bytes]:
    """Yield the body, never reading more than max_bytes + 1 bytes in total."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("response too large")
    total = 0
    while True:
        _shrink_read_timeout(response, deadline)
        # read1 returns what has arrived instead of waiting for a full chunk, so a
        # server dripping one byte at a time still meets the deadline check below.
        chunk = response.raw.read1(min(CHUNK_SIZE, max_bytes - total + 1), decode_content=True)
        if not chunk:
            return
        total += len(chunk)
        if total > max_bytes:
            raise FetchError("response too large")
        _remaining(deadline)
        yield chunk


# Everything the network stack may raise; all of it becomes FetchError.
_NETWORK_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
    ValueError,
)


def fetch(
    url: str,
    *,
    allow_private: bool,
    max_bytes: int = DOCUMENT_MAX_BYTES,
    timeout: float = DOCUMENT_TIMEOUT,
    accept: str | None = None,
    sign: Signer | None = None,
) -> FetchResult:
    """GET url: 2xx only, ≤5 redirects, body ≤ max_bytes, all within timeout seconds."""
    try:
        with (
            _session(allow_private) as session,
            _Deadline(timeout) as deadline,
            _open(session, url, accept, deadline.at, sign) as response,
        ):
            content = b"".join(_iter_body(response, max_bytes, deadline.at))
            deadline.check()
            return FetchResult(response.status_code, response.headers, content, response.url)
    except _NETWORK_ERRORS as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc


def fetch_json(
    url: str,
    *,
    allow_private: bool,
    max_bytes: int = DOCUMENT_MAX_BYTES,
    timeout: float = DOCUMENT_TIMEOUT,
    accept: str = "application/json",
    sign: Signer | None = None,
) -> Any:
    """fetch() and decode the body as JSON."""
    result = fetch(
        url, allow_private=allow_private, max_bytes=max_bytes, timeout=timeout, accept=accept, sign=sign
    )
    try:
        return json.loads(result.content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise FetchError(f"invalid JSON from {result.url[:200]}") from exc


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_private: bool,
    timeout: float = DOCUMENT_TIMEOUT,
) -> int:
    """POST body (an inbox delivery) through the same guard; the status code. Redirects are
    not followed: an inbox that moves is answered by the next delivery's actor refresh."""
    try:
        with _session(allow_private) as session, _Deadline(timeout) as deadline:
            _check_url(url)
            sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
            response = session.post(url, data=body, headers=sent, allow_redirects=False, timeout=timeout)
            with response:
                for _ in _iter_body(response, DOCUMENT_MAX_BYTES, deadline.at):
                    pass  # drained so the connection closes cleanly; the answer is not read
            return response.status_code
    except requests.ConnectionError as exc:
        refusal = _refusal_reason(exc)
        raise FetchError(refusal or f"ConnectionError: {exc}") from exc
    except _NETWORK_ERRORS as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc


def stream_to_file(
    url: str,
    dest: pathlib.Path,
    *,
    allow_private: bool,
    max_bytes: int,
    timeout: float | None = None,
) -> str:
    """Download url into dest; return the upper-case SHA-256 hex digest.

    The body goes to a temporary sibling first and is moved into place only when
    complete, so a failed download leaves no partial dest behind.
    """
    dest = pathlib.Path(dest)
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    digest = hashlib.sha256()
    try:
        with (
            _session(allow_private) as session,
            _Deadline(timeout or archive_timeout(max_bytes)) as deadline,
            _open(session, url, None, deadline.at) as response,
            part.open("wb") as out,
        ):
            for chunk in _iter_body(response, max_bytes, deadline.at):
                digest.update(chunk)
                out.write(chunk)
            deadline.check()
        os.replace(part, dest)
    except _NETWORK_ERRORS as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        part.unlink(missing_ok=True)
    return digest.hexdigest().upper()


# --- WebFinger ------------------------------------------------------------------------


def _split_acct(acct: str) -> tuple[str, str] | None:
    """'nick@host[:port]' (also '@nick@host', 'acct:nick@host') -> (nick, host)."""
    acct = acct.strip().removeprefix("acct:").removeprefix("@")
    nick, sep, host = acct.rpartition("@")
    bad = set("/?#@ \t\r\n\\")
    if not sep or not nick or not host or bad & set(nick + host):
        return None
    return nick, host


def webfinger(acct: str, *, allow_private: bool, timeout: float = DOCUMENT_TIMEOUT) -> dict | None:
    """Fetch the JRD for nick@host, or None on any failure."""
    parts = _split_acct(acct)
    if parts is None:
        return None
    nick, host = parts
    query = urlencode({"resource": f"acct:{nick}@{host}"})
    # Remote servers are asked over https (SPEC §10). Plain http is a fallback only in
    # dev/test mode (allow_private), where fake remotes are plain HTTP on loopback; in
    # production it would let anyone on the path downgrade the lookup.
    schemes = ("https", "http") if allow_private else ("https",)
    deadline = time.monotonic() + timeout
    for index, scheme in enumerate(schemes):
        left = deadline - time.monotonic()
        # Leave the fallback half the budget in case https stalls instead of failing.
        budget = left / (len(schemes) - index)
        if budget <= 0:
            break
        url = f"{scheme}://{host}/.well-known/webfinger?{query}"
        try:
            jrd = fetch_json(url, allow_private=allow_private, timeout=budget, accept=JRD_ACCEPT)
        except FetchError:
            continue
        if isinstance(jrd, dict):
            return jrd
    return None


def webfinger_link(jrd: dict, rel: str) -> dict | None:
    """First link of the JRD with that rel, or None."""
    links = jrd.get("links") if isinstance(jrd, dict) else None
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("rel") == rel:
            return link
    return None
