"""Accounts named by reference (SPEC 1.11): `nick`, `@nick`, `nick@host`, `@nick@host` or an ap_id.
Local names resolve from the database; other hosts through WebFinger and their actor document,
which leaves a stub Account (domain set) that follows, aliases and moves can point at."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

from models import Account
from models import db


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
    if urlsplit(ap_id).netloc.lower() in local_host_names():  # ours and unknown: never ask ourselves
        return None
    from federation.actors import fetch_actor  # lazy: signing and fetching only where remotes are read

    return fetch_actor(ap_id)


def resolve_remote_account(nick: str, host: str) -> Account | None:
    """WebFinger `nick@host`, then read and store its actor (SPEC 24.4)."""
    import outbound  # lazy: requests and urllib3 (~5 MB) only in processes that fetch remotes
    from federation.actors import fetch_actor

    allow_private = current_app.config["ALLOW_PRIVATE_FETCH"]
    jrd = outbound.webfinger(f"{nick}@{host}", allow_private=allow_private)
    if jrd is None:
        return None
    link = _self_link(jrd)
    if link is None:
        return None
    existing = db.session.scalar(select(Account).where(Account.ap_id == link))
    return existing if existing is not None else fetch_actor(link)


def _self_link(jrd: dict) -> str | None:
    for link in jrd.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self" and "activity" in str(link.get("type", "")):
            href = link.get("href")
            return str(href) if href else None
    return None


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
