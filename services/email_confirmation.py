"""E-mail confirmation at registration (SPEC 26, 29: `ACCOUNT_ACTIVATION_REQUIRED`).

With the setting on, a new account starts unconfirmed and cannot log in; a job mails it a
one-use link (`/api/account/confirm_email/:id/:token`, Pleroma's route) whose secret is stored
only as a hash. Asking for the mail again never tells whether an account matched.
"""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import delete

import jobs
import mail
from errors import ApiError
from models import Account
from models import EmailConfirmationToken
from models import db
from services.passwords import secret_digest

LINK_PATH = "/api/account/confirm_email/"
INVALID = "This confirmation link is not valid."
LOGIN_BLOCKED = "Your login is missing a confirmed e-mail address"
REGISTERED = "You have been registered. Please check your email for further instructions."


def is_required() -> bool:
    return bool(current_app.config["ACCOUNT_ACTIVATION_REQUIRED"])


def login_blocked(account: Account) -> bool:
    """Whether the account waits for its e-mail confirmation. As in Pleroma, turning the
    setting off lets accounts still unconfirmed log in."""
    return not account.is_confirmed and is_required()


def request_confirmation(account: Account) -> None:
    """Mail `account` a (new) confirmation link, from a job: SMTP is remote."""
    if account.is_confirmed or not account.email:
        return
    jobs.enqueue("send_email_confirmation", account_id=account.id)


def resend(login: str) -> None:
    """Mail a new link to the unconfirmed local account named by `login`, if there is one."""
    account = Account.find_by_login(login.strip()) if login and login.strip() else None
    if account is None or not account.is_active:
        return
    request_confirmation(account)


@jobs.job
def send_email_confirmation(account_id: str) -> None:
    account = db.session.get(Account, account_id)
    if account is None or account.is_confirmed or not account.email:
        return
    link = confirmation_link(account, new_confirmation_token(account))
    name = current_app.config["INSTANCE_NAME"]
    body = (
        f"Welcome to {name}, {account.nickname}.\n\n"
        f"To confirm your e-mail address and start using your account, open this link:\n{link}\n\n"
        "If you did not register, ignore this message.\n"
    )
    mail.send(account.email, f"Confirm your account {account.nickname} on {name}", body)


def new_confirmation_token(account: Account) -> str:
    """A fresh one-use token; the account's earlier links stop working."""
    db.session.execute(delete(EmailConfirmationToken).where(EmailConfirmationToken.account_id == account.id))
    token = secrets.token_urlsafe(32)
    db.session.add(EmailConfirmationToken(token_hash=secret_digest(token), account_id=account.id))
    db.session.commit()
    return token


def confirmation_link(account: Account, token: str) -> str:
    return f"{current_app.config['BASE_URL']}{LINK_PATH}{account.id}/{token}"


def confirm(account_id: str, token: str) -> Account:
    """Confirm the account of a link; the link is spent. Unknown or spent → 404."""
    row = db.session.get(EmailConfirmationToken, secret_digest(token or ""))
    account = db.session.get(Account, account_id) if row is not None else None
    if row is None or account is None or row.account_id != account.id or not account.is_active:
        raise ApiError(404, INVALID)
    account.is_confirmed = True
    db.session.execute(delete(EmailConfirmationToken).where(EmailConfirmationToken.account_id == account.id))
    db.session.commit()
    return account
