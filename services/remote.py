"""Accounts named by reference (SPEC 1.11): `nick`, `@nick`, `nick@host`, `@nick@host` or an ap_id.
Local names resolve from the database; other hosts through WebFinger and their actor document,
which leaves a stub Account (domain set) that follows, aliases and moves can point at."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

import formatting
from models import Account
from models import db

AP_TYPES = "application/activity+json"


def local_host_names() -> set[str]:
    """This server's host, with and without its port (SPEC 1.11)."""
    parts = urlsplit(current_app.config["BASE_URL"])
    names = {parts.netloc.lower()}
    if parts.hostname:
        names.add(parts.hostname.lower())
    return names


def split_reference(reference: str) -> tuple[str, str | None]:
    """`@nick@host` → (nick, host); a local host counts as no host."""
    nick, _, host = reference.strip().lstrip("@").partition("@")
    if not host or host.lower() in local_host_names():
        return nick, None
    return nick, host.lower()


def find_account(reference: str, resolve_remote: bool = True) -> Account | None:
    """The account a reference names, or None. Remote hosts are asked only when allowed."""
    reference = reference.strip()
    if not reference:
        return None
    if reference.startswith(("http://", "https://")):
        return _by_ap_id(reference, resolve_remote)
    nick, host = split_reference(reference)
    if not nick:
        return None
    if host is None:
        return Account.find_local(nick)
    known = db.session.scalar(
        select(Account).where(func.lower(Account.nickname) == nick.lower(), Account.domain == host)
    )
    if known is not None or not resolve_remote:
        return known
    return resolve_remote_account(nick, host)


def _by_ap_id(ap_id: str, resolve_remote: bool) -> Account | None:
    known = db.session.scalar(select(Account).where(Account.ap_id == ap_id))
    if known is not None or not resolve_remote:
        return known
    host = urlsplit(ap_id).netloc.lower()
    if host in local_host_names():  # ours and unknown: never ask ourselves over HTTP
        return None
    actor = _fetch_actor(ap_id)
    if actor is None or not actor.get("preferredUsername"):
        return None
    return _store_remote(str(actor["preferredUsername"]), host, ap_id, actor)


def resolve_remote_account(nick: str, host: str) -> Account | None:
    """WebFinger `nick@host`, read its actor, and keep a stub account for it."""
    import outbound  # lazy: requests and urllib3 (~5 MB) only in processes that fetch remotes

    allow_private = current_app.config["ALLOW_PRIVATE_FETCH"]
    jrd = outbound.webfinger(f"{nick}@{host}", allow_private=allow_private)
    if jrd is None:
        return None
    link = _self_link(jrd)
    if link is None:
        return None
    existing = db.session.scalar(select(Account).where(Account.ap_id == link))
    if existing is not None:
        return existing
    return _store_remote(nick, host, link, _fetch_actor(link) or {})


def _self_link(jrd: dict) -> str | None:
    for link in jrd.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self" and "activity" in str(link.get("type", "")):
            href = link.get("href")
            return str(href) if href else None
    return None


def _fetch_actor(ap_id: str) -> dict | None:
    import outbound  # lazy: see resolve_remote_account

    try:
        actor = outbound.fetch_json(
            ap_id, allow_private=current_app.config["ALLOW_PRIVATE_FETCH"], accept=AP_TYPES
        )
    except outbound.FetchError:
        return None
    return actor if isinstance(actor, dict) else None


def _store_remote(nick: str, host: str, ap_id: str, actor: dict) -> Account:
    account = Account(
        nickname=nick,
        domain=host,
        ap_id=ap_id,
        display_name=str(actor.get("name") or "")[:255],
        note_html=formatting.sanitize_html(str(actor.get("summary") or "")),
        actor_type="Service" if actor.get("type") == "Service" else "Person",
        also_known_as=[str(a) for a in actor.get("alsoKnownAs") or [] if isinstance(a, str)],
        is_locked=bool(actor.get("manuallyApprovesFollowers")),
    )
    db.session.add(account)
    db.session.commit()
    return account


def subscribe_template(reference: str) -> str | None:
    """The `{uri}` template where the account named wants remote interactions to go."""
    nick, host = split_reference(reference)
    if host is None:
        account = Account.find_local(nick)
        if account is None or not account.is_active:
            return None
        return f"{current_app.config['BASE_URL']}/ostatus_subscribe?acct={{uri}}"
    import outbound  # lazy: see resolve_remote_account

    jrd = outbound.webfinger(f"{nick}@{host}", allow_private=current_app.config["ALLOW_PRIVATE_FETCH"])
    link = outbound.webfinger_link(jrd, "http://ostatus.org/schema/1.0/subscribe") if jrd else None
    template = link.get("template") if link else None
    return str(template) if template else None
