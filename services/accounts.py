"""Creating local accounts (CLI, registration) and their profile text."""

from __future__ import annotations

import re

from flask import current_app

import formatting
from auth import hash_password
from errors import ApiError
from models import Account
from models import db
from keys import new_account_keys

NICKNAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
# Paths of this server that a nickname would shadow (Pleroma's restricted nicknames).
RESTRICTED_NICKNAMES = (
    ".well-known", "about", "activities", "api", "auth", "check_password", "dev", "friend-requests",
    "inbox", "internal", "main", "media", "nodeinfo", "notice", "oauth", "objects", "ostatus_subscribe",
    "pleroma", "proxy", "push", "registration", "relay", "settings", "status", "tag",
    "user-search", "user_exists", "users", "web", "verify_credentials", "update_credentials",
    "relationships", "search", "confirmation_resend", "mfa", "emoji", "images", "static",
)


def registration_errors(nickname: str, email: str | None) -> dict[str, list[str]]:
    """Field → messages, in Pleroma's changeset wording."""
    found: dict[str, list[str]] = {}
    if not NICKNAME_RE.match(nickname) or len(nickname) > 64:
        found["nickname"] = ["has invalid format"]
    elif nickname.lower() in RESTRICTED_NICKNAMES or Account.find_local(nickname) is not None:
        found["nickname"] = ["has already been taken"]
    if email:
        if "@" not in email.strip("@"):
            found["email"] = ["has invalid format"]
        elif Account.find_by_login(email) is not None and "@" in email:
            found["email"] = ["has already been taken"]
    return found


def create_local_account(
    nickname: str,
    password: str,
    email: str | None = None,
    is_admin: bool = False,
    display_name: str = "",
    bio: str = "",
) -> Account:
    problems = registration_errors(nickname, email)
    if problems:
        raise ApiError(400, _json_string(problems))
    private_key, public_key = new_account_keys()
    account = Account(
        nickname=nickname,
        ap_id=f"{current_app.config['BASE_URL']}/users/{nickname}",
        email=email or None,
        password_hash=hash_password(password),
        is_admin=is_admin,
        display_name=display_name or "",
        private_key=private_key,
        public_key=public_key,
    )
    set_bio(account, bio)
    db.session.add(account)
    db.session.commit()
    return account


def set_bio(account: Account, text: str) -> None:
    account.note_source = text
    rendered = formatting.render_bio(text, current_app.config["BASE_URL"], mention_resolver())
    account.note_html = rendered.html


def mention_resolver() -> formatting.Resolver:
    """Resolve `@nick` / `@nick@host` against accounts this server knows."""
    local_hosts = local_host_names()

    def resolve(nickname: str, host: str | None) -> formatting.MentionTarget | None:
        if host is None or host.lower() in local_hosts:
            account = Account.find_local(nickname)
        else:
            account = Account.by_id_or_nickname(f"{nickname}@{host}")
        if account is None or not account.is_active:
            return None
        return formatting.MentionTarget(account.id, account.nickname, account.ap_id, account.acct)

    return resolve


def local_host_names() -> set[str]:
    """This server's host, with and without its port (SPEC 1.11)."""
    from urllib.parse import urlsplit

    parts = urlsplit(current_app.config["BASE_URL"])
    names = {parts.netloc.lower()}
    if parts.hostname:
        names.add(parts.hostname.lower())
    return names


def _json_string(problems: dict) -> str:
    # Pleroma reports registration problems as a JSON *string* inside `error` (SPEC 3).
    import json

    return json.dumps(problems, separators=(",", ":"))
