"""Secrets generated once into the instance folder: the session key and the VAPID key pair."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa


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


def _vapid_private(instance: Path) -> ec.EllipticCurvePrivateKey:
    path = instance / "vapid_private.pem"
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(path, pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded


def vapid_public_key(instance: Path) -> str:
    """URL-safe base64 (no padding) of the uncompressed P-256 point, as Web Push wants it."""
    point = (
        _vapid_private(instance)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def new_account_keys() -> tuple[str, str]:
    """An RSA pair for the account's ActivityPub actor (federation-ready from the start)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public
