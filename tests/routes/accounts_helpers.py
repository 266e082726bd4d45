"""Helpers shared by the account route tests (test_accounts*.py)."""

from __future__ import annotations

from models import db


def _refresh(*accounts):
    for account in accounts:
        db.session.refresh(account)
