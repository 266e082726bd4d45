"""Password reset by e-mail (SPEC 26): a one-use link valid 24 hours, stored as a hash.

Asking for a reset never tells whether an account matched (no account probing): the caller
answers the same either way, and the token is made and mailed in a job, so the secret never
sits in the job queue and the request does no more work for a known address than it must.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

import jobs
import mail
from errors import ApiError
from models import Account
from models import PasswordResetToken
from models import db
from models import utcnow
from services.passwords import hash_password
from services.passwords import secret_digest
from services.security import end_other_logins

TOKEN_LIFETIME = timedelta(hours=24)
LINK_PATH = "/api/v1/pleroma/password_reset/"
UNKNOWN = "This password reset link is not valid."
USED = "This password reset link has already been used."
EXPIRED = "This password reset link has expired."


def request_reset(login: str) -> None:
    """Mail a reset link to the local account named by `login` (nickname or e-mail), if any."""
    account = Account.find_by_login(login.strip()) if login.strip() else None
    if account is None or not account.is_active or not account.email:
        return
    jobs.enqueue("send_password_reset", account_id=account.id)


@jobs.job
def send_password_reset(account_id: str) -> None:
    account = db.session.get(Account, account_id)
    if account is None or not account.email:
        return
    link = reset_link(new_reset_token(account))
    name = current_app.config["INSTANCE_NAME"]
    body = (
        f"Someone asked to reset the password of {account.nickname} on {name}.\n\n"
        f"To choose a new password, open this link within 24 hours:\n{link}\n\n"
        "If it was not you, ignore this message: the password stays as it is.\n"
    )
    mail.send(account.email, f"Password reset for {account.nickname} on {name}", body)


def new_reset_token(account: Account) -> str:
    """A fresh one-use token for `account` (also what the CLI prints as a link)."""
    db.session.execute(delete(PasswordResetToken).where(PasswordResetToken.expires_at < utcnow()))
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(
            token_hash=secret_digest(token), account_id=account.id, expires_at=utcnow() + TOKEN_LIFETIME
        )
    )
    db.session.commit()
    return token


def reset_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}{LINK_PATH}{token}"


def live_token(token: str) -> PasswordResetToken:
    """The stored token for `token` if it can still be used; else ApiError (404 unknown, 410
    used or expired) with a message for the page."""
    row = db.session.get(PasswordResetToken, secret_digest(token or ""))
    if row is None or not row.account.is_active:
        raise ApiError(404, UNKNOWN)
    if row.used_at is not None:
        raise ApiError(410, USED)
    if row.expires_at < utcnow():
        raise ApiError(410, EXPIRED)
    return row


def reset_password(token: str, password: str) -> Account:
    """Set the password the link's account chose; the token is spent (and the account's other
    links with it), and every token and session of the account ends."""
    row = live_token(token)
    account = row.account
    row.used_at = utcnow()
    db.session.execute(
        delete(PasswordResetToken).where(
            PasswordResetToken.account_id == account.id, PasswordResetToken.token_hash != row.token_hash
        )
    )
    # As a password change, less the caller's own session: whoever holds the link is not
    # thereby signed in, and every browser and app must log in again.
    account.password_hash = hash_password(password)
    end_other_logins(account, keep=None)
    db.session.commit()
    return account
