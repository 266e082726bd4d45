"""Secrets generated once into the instance folder: the session key, the VAPID key pair and
the instance actor's RSA pair.

cryptography (~6 MB with its Rust library) is imported inside the functions that need it: a
server process reads the VAPID public key from its cached copy and never loads it unless an
account is created."""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec


def _write_private(path: Path, data: bytes) -> None:
    """Create the file readable by the owner only; a concurrent starter's copy wins."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(tmp, path)  # atomic and never overwrites a key another worker already made
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    if not path.exists():
        _write_private(path, secrets.token_hex(32).encode())
    return path.read_text().strip()


def _vapid_pem(instance: Path) -> bytes:
    path = instance / "vapid_private.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization  # lazy: see the module docstring
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(path, pem)
    return path.read_bytes()


def _vapid_private(pem: bytes) -> ec.EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives import serialization  # lazy: see the module docstring
    from cryptography.hazmat.primitives.asymmetric import ec

    loaded = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded


def vapid_public_key(instance: Path) -> str:
    """URL-safe base64 (no padding) of the uncompressed P-256 point, as Web Push wants it. Kept in
    `vapid_public_key` with the hash of the private key it came from, so a replaced key is
    derived again."""
    pem = _vapid_pem(instance)
    tag = hashlib.sha256(pem).hexdigest()
    cached = instance / "vapid_public_key"
    try:
        cached_tag, _, public = cached.read_text().partition(" ")
    except OSError:
        cached_tag = public = ""
    if cached_tag == tag and public.strip():
        return public.strip()
    from cryptography.hazmat.primitives import serialization  # lazy: see the module docstring

    point = (
        _vapid_private(pem)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    public = base64.urlsafe_b64encode(point).rstrip(b"=").decode()
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(f"{tag} {public}\n")
    os.replace(tmp, cached)  # atomic: a concurrent starter writes the same text
    return public


def new_account_keys() -> tuple[str, str]:
    """An RSA pair for the account's ActivityPub actor (federation-ready from the start)."""
    from cryptography.hazmat.primitives import serialization  # lazy: see the module docstring
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def instance_actor_keys(instance: Path) -> tuple[str, str]:
    """The instance actor's RSA pair (private PEM, public PEM), made once into the instance
    folder: it signs the fetches no account makes (SPEC 24.1, /internal/fetch)."""
    path = instance / "instance_actor.pem"
    if not path.exists():
        private, _ = new_account_keys()
        _write_private(path, private.encode())  # a concurrent starter's pair wins
    private = path.read_text()
    return private, _public_pem(private)


@functools.lru_cache(maxsize=4)
def _public_pem(private_pem: str) -> str:
    """Derived, not stored: a replaced private key can never be served with a stale public one."""
    from cryptography.hazmat.primitives import serialization  # lazy: see the module docstring

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
