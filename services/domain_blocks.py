"""User-level domain blocks (SPEC 26): blocking a remote domain ends the follows between the user
and that domain's accounts both ways; timelines and notifications hide the domain by reading the
DomainBlock rows (models.py), so unblocking brings everything but the follows back."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from errors import ApiError
from models import Account
from models import DomainBlock
from models import Follow
from models import begin_write
from models import db
from models import new_flake_id
from models import utcnow
from services.follows import drop_follow

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_DOMAIN = 253


def normalise_domain(value: str) -> str:
    """`value` as Account.domain stores hosts: lower-case, IDNA-encoded, an optional `:port`
    kept. A pasted URL counts as its host. Anything else is a 422, as Mastodon's validation."""
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).netloc.rpartition("@")[2]
    host, colon, port = text.partition(":")
    host = host.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if host else ""
    except UnicodeError:
        host = ""
    valid_port = not colon or (port.isdigit() and 0 < int(port) < 65536)
    if not host or len(host) > _MAX_DOMAIN or not valid_port:
        raise ApiError(422, "Validation failed: Domain is not a valid domain")
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise ApiError(422, "Validation failed: Domain is not a valid domain")
    return f"{host}:{port}" if colon else host


def block_domain(account: Account, domain: str) -> None:
    """Block `domain` (again: nothing changes) and end the follows and requests with its
    accounts in both directions, counters and notifications included."""
    begin_write()
    row = {"id": new_flake_id(), "account_id": account.id, "domain": domain, "created_at": utcnow()}
    db.session.execute(sqlite_insert(DomainBlock).values(**row).on_conflict_do_nothing())
    # From the user's own follows (both indexed), each other side read by primary key.
    followed = (
        select(Follow)
        .join(Account, Account.id == Follow.followee_id)
        .where(Follow.follower_id == account.id, Account.domain == domain)
    )
    followers = (
        select(Follow)
        .join(Account, Account.id == Follow.follower_id)
        .where(Follow.followee_id == account.id, Account.domain == domain)
    )
    for query in (followed, followers):
        for follow in db.session.scalars(query).all():
            drop_follow(follow)
    db.session.commit()


def unblock_domain(account: Account, domain: str) -> None:
    db.session.execute(
        delete(DomainBlock).where(DomainBlock.account_id == account.id, DomainBlock.domain == domain)
    )
    db.session.commit()
