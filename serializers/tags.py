"""Mastodon's Tag and FeaturedTag entities (SPEC 26). Names are the stored, lower-cased ones."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import distinct
from sqlalchemy import func
from sqlalchemy import select

from models import TAGGABLE_VISIBILITIES
from models import Account
from models import FeaturedTag
from models import Status
from models import StatusTag
from models import TagFollow
from models import db
from models import flake_for_time
from models import utcnow
from serializers.common import base_url
from serializers.common import iso

HISTORY_DAYS = 7


def tag_url(name: str) -> str:
    return f"{base_url()}/tag/{quote(name)}"


def _histories(names: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """name -> day (YYYY-MM-DD) -> (statuses, distinct authors) over the last HISTORY_DAYS UTC
    days, public statuses of active authors only, in one grouped query."""
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=HISTORY_DAYS - 1)
    day = func.date(Status.created_at)
    query = (
        select(StatusTag.name, day, func.count(), func.count(distinct(Status.account_id)))
        .join(Status, Status.id == StatusTag.status_id)
        .join(Account, Account.id == Status.account_id)
        .where(
            StatusTag.name.in_(names),
            # Ids grow with time: the (name, status_id) index bounds the scan to the window.
            StatusTag.status_id >= flake_for_time(start),
            Status.created_at >= start,
            Status.visibility.in_(TAGGABLE_VISIBILITIES),
            Account.is_active.is_(True),
        )
        .group_by(StatusTag.name, day)
    )
    found: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for name, when, uses, accounts in db.session.execute(query):
        found[name][str(when)] = (uses, accounts)  # SQLite's date() gives text, PostgreSQL's a date
    return found


def _history(days: dict[str, tuple[int, int]]) -> list[dict]:
    """Mastodon's shape: newest day first, each as its UTC midnight in Unix seconds, all strings."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    history = []
    for back in range(HISTORY_DAYS):
        moment = today - timedelta(days=back)
        uses, accounts = days.get(moment.strftime("%Y-%m-%d"), (0, 0))
        stamp = int(moment.replace(tzinfo=UTC).timestamp())
        history.append({"day": str(stamp), "uses": str(uses), "accounts": str(accounts)})
    return history


def tags_json(names: list[str], viewer: Account | None = None) -> list[dict]:
    """Tag entities in two queries whatever their number; `following` only for a viewer."""
    histories = _histories(names) if names else {}
    followed: set[str] = set()
    if viewer is not None and names:
        query = select(TagFollow.name).where(TagFollow.account_id == viewer.id, TagFollow.name.in_(names))
        followed = set(db.session.scalars(query))
    tags = []
    for name in names:
        tag: dict = {"name": name, "url": tag_url(name), "history": _history(histories.get(name, {}))}
        if viewer is not None:
            tag["following"] = name in followed
        tags.append(tag)
    return tags


def tag_json(name: str, viewer: Account | None = None) -> dict:
    return tags_json([name], viewer)[0]


def featured_tags_json(featured: list[FeaturedTag], account: Account) -> list[dict]:
    """One account's featured tags with their counts over its public statuses, in one query."""
    names = [f.name for f in featured]
    stats: dict[str, tuple[int, datetime | None]] = {}
    if names:
        query = (
            select(StatusTag.name, func.count(), func.max(Status.created_at))
            .join(Status, Status.id == StatusTag.status_id)
            .where(
                Status.account_id == account.id,
                Status.visibility.in_(TAGGABLE_VISIBILITIES),
                StatusTag.name.in_(names),
            )
            .group_by(StatusTag.name)
        )
        stats = {name: (count, last) for name, count, last in db.session.execute(query)}
    root = f"{base_url()}/@{quote(account.nickname)}/tagged"
    out = []
    for item in featured:
        count, last = stats.get(item.name, (0, None))
        out.append(
            {
                "id": item.id,
                "name": item.name,
                "url": f"{root}/{quote(item.name)}",
                "statuses_count": count,
                "last_status_at": iso(last),
            }
        )
    return out


def featured_tag_json(featured: FeaturedTag, account: Account) -> dict:
    return featured_tags_json([featured], account)[0]
