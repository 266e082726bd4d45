"""OAuth apps and the sessions (tokens) issued to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app

from models import App
from models import Token


def app_json(app: App, with_secrets: bool = False) -> dict:
    data: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "vapid_key": current_app.config["VAPID_PUBLIC_KEY"],
    }
    if with_secrets:
        data["redirect_uri"] = "\n".join(app.redirect_uris)
        data["client_id"] = app.client_id
        data["client_secret"] = app.client_secret
    return data


def oauth_token_json(token: Token) -> dict:
    """A session entry (SPEC 20.11): integer id, naive ISO `valid_until` (Pleroma's format)."""
    valid_until = token.created_at + timedelta(seconds=token.expires_in or 0)
    return {
        "id": token.id,
        "app_name": token.app.name if token.app else None,
        "valid_until": valid_until.isoformat(),
    }


def oauth_tokens_json(tokens: Iterable[Token]) -> list[dict]:
    return [oauth_token_json(token) for token in tokens]
