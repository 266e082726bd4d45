"""HTTP Signatures as the fediverse uses them (SPEC 24.3): draft-cavage-http-signatures-12 with
RSA-SHA256 keys, a `Digest: SHA-256=` header over POST bodies, and a `Date` checked for skew.

Why our own ~150 lines on top of `cryptography` rather than a signature package: the maintained
packages speak RFC 9421 (`http-message-signatures`, `requests-http-signature` ≥ 0.4), which
Mastodon, Pleroma and GoToSocial do not; the cavage-era ones are unmaintained (`httpsig`, last
release 2019) or come inside a whole framework (`bovine`, `federation`). The RSA itself is
`cryptography`'s; tests check both directions against `bovine`'s independent implementation."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa

MAX_SKEW_SECONDS = 12 * 3600
# Headers a signature must cover: the target, the host and the time always; the body's digest
# on requests that carry one.
REQUIRED_GET = ("(request-target)", "host")
REQUIRED_POST = (*REQUIRED_GET, "digest")
ALGORITHMS = ("rsa-sha256", "hs2019")
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*,?')


class SignatureError(Exception):
    """The request is not signed as it must be; the message says why (for logs, not clients)."""


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(moment: datetime | None = None) -> str:
    return format_datetime(moment or datetime.now(UTC), usegmt=True)


def _request_target(method: str, url_or_path: str) -> str:
    parts = urlsplit(url_or_path)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return f"{method.lower()} {path}"


def _signing_string(names: list[str], method: str, path: str, headers: Mapping[str, str]) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {_request_target(method, path)}")
        else:  # (created) and (expires) were put among the headers by _lowered
            lines.append(f"{name}: {headers[name]}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=256)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    # Loading checks the RSA key's consistency, which costs ~20-170 ms: more than the rest of a
    # delivery. The keys are Kenoma's own, made by keys.py, so the check is skipped and the
    # loaded key kept for the next delivery of the same account.
    key = serialization.load_pem_private_key(pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError("not an RSA private key")
    return key


def _public_key(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise SignatureError("unreadable public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("not an RSA public key")
    return key


def sign_request(method: str, url: str, body: bytes | None, key_id: str, private_pem: str) -> dict[str, str]:
    """The headers that sign a request to `url`: Date, Host, Digest (with a body) and Signature."""
    headers = {"host": urlsplit(url).netloc, "date": http_date()}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest(body)
        names.append("digest")
    text = _signing_string(names, method, url, headers).encode()
    raw = _private_key(private_pem).sign(text, padding.PKCS1v15(), hashes.SHA256())
    signature = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(raw).decode()}"'
    )
    return {
        "Host": headers["host"],
        "Date": headers["date"],
        **({"Digest": headers["digest"]} if body is not None else {}),
        "Signature": signature,
    }


def parse_signature(value: str) -> dict[str, str]:
    """The parameters of a `Signature` (or `Authorization: Signature …`) header."""
    value = value.strip()
    if value.lower().startswith("signature "):
        value = value[len("signature ") :]
    params = {name.lower(): text for name, text in _PARAM.findall(value)}
    if not params.get("keyid") or not params.get("signature"):
        raise SignatureError("no keyId or signature")
    return params


def signature_params(headers: Mapping[str, str]) -> dict[str, str]:
    value = headers.get("Signature") or ""
    if not value and headers.get("Authorization", "").lower().startswith("signature "):
        value = headers["Authorization"]
    if not value:
        raise SignatureError("unsigned request")
    return parse_signature(value)


def _lowered(headers: Mapping[str, str], params: dict[str, str]) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in headers.items()}
    for pseudo in ("created", "expires"):
        if pseudo in params:
            lowered[f"({pseudo})"] = params[pseudo]
    return lowered


def _check_date(lowered: dict[str, str], now: datetime) -> None:
    if "date" in lowered:
        try:
            moment = parsedate_to_datetime(lowered["date"])
        except (TypeError, ValueError) as exc:
            raise SignatureError("unreadable Date") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        skew = abs((now - moment).total_seconds())
    elif "(created)" in lowered and lowered["(created)"].isdigit():
        skew = abs(now.timestamp() - int(lowered["(created)"]))
    else:
        raise SignatureError("no Date")
    if skew > MAX_SKEW_SECONDS:
        raise SignatureError("Date too far from now")


def _check_digest(lowered: dict[str, str], body: bytes) -> None:
    wanted = digest(body).split("=", 1)[1]
    for part in lowered.get("digest", "").split(","):
        algorithm, _, value = part.strip().partition("=")
        if algorithm.lower() == "sha-256" and value == wanted:
            return
    raise SignatureError("Digest does not match the body")


def verify_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | None,
    public_pem: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """Check a signed request against the signer's public key; its parameters when valid.
    `path` is the request target as received (path and query)."""
    params = signature_params(headers)
    if params.get("algorithm", "rsa-sha256").lower() not in ALGORITHMS:
        raise SignatureError("unsupported algorithm")
    names = params.get("headers", "date").lower().split()
    required = REQUIRED_POST if body is not None else REQUIRED_GET
    if any(name not in names for name in required) or not ({"date", "(created)"} & set(names)):
        raise SignatureError("signature does not cover the required headers")
    lowered = _lowered(headers, params)
    if any(name not in lowered and name != "(request-target)" for name in names):
        raise SignatureError("a signed header is missing")
    _check_date(lowered, now or datetime.now(UTC))
    if body is not None:
        _check_digest(lowered, body)
    text = _signing_string(names, method, path, lowered).encode()
    try:
        raw = base64.b64decode(params["signature"], validate=True)
        _public_key(public_pem).verify(raw, text, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("signature does not verify") from exc
    return params


def key_owner_hint(key_id: str) -> str:
    """The actor a keyId most likely belongs to: the keyId without its fragment (Mastodon,
    Pleroma) — GoToSocial's `/main-key` path form is resolved by fetching it."""
    return key_id.split("#", 1)[0]
