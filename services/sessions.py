"""The browser session (`_pleroma_key` cookie) and token revocation, below auth.py so that the
services which end sessions (password change, account deletion) need not import it."""

from __future__ import annotations

import time

from flask import session

from models import Account
from models import Token
from models import db


def start_session(account: Account, token: Token | None) -> None:
    session["account_id"] = account.id
    session["token_id"] = token.id if token else None
    session["epoch"] = account.session_epoch or 0


def keep_current_session(account: Account) -> None:
    """After the account's `session_epoch` moved on, the browser making this request stays in."""
    if session.get("account_id") == account.id:
        session["epoch"] = account.session_epoch or 0


def revoke(token: Token) -> None:
    """Revoke both halves of a token; the browser signed in with it is signed out too."""
    now = int(time.time())
    token.access_token_revoked_at = now
    token.refresh_token_revoked_at = now
    db.session.commit()
    if session.get("token_id") == token.id:
        session.clear()
