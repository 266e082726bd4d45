"""Password and secret hashing (argon2), shared by the OAuth grants, the CLI and the services."""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app

from models import Account


def _hasher() -> PasswordHasher:
    # The cost comes from config so the test suite can hash cheaply; verifying reads the cost
    # stored in each hash, so changing it never locks anyone out.
    config = current_app.config
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(account: Account, password: str) -> bool:
    return verify_hash(account.password_hash, password)


def verify_hash(hashed: str | None, secret: str) -> bool:
    """Does `secret` match an argon2 hash made by hash_password (passwords, MFA backup codes)?"""
    if not hashed or not secret:
        return False
    try:
        return _hasher().verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def secret_digest(secret: str) -> str:
    """What is stored of a random one-use secret (MFA tickets, password-reset and confirmation
    links): its SHA-256. The secrets are 256 random bits, so a fast hash is enough; a stolen
    database still holds nothing that can be used."""
    return hashlib.sha256(secret.encode()).hexdigest()
