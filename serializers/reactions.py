"""Emoji reactions: the summaries statuses embed, and the full lists with reactors' Accounts.
The grouping, the summaries and the hidden-reactor filter are shared with the status batch loader
(statuses.py), which reads reactions in its extras query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import select

from models import BOUND_VIEWER
from models import Account
from models import Block
from models import EmojiReaction
from models import Mute
from models import Status
from models import cached_statement
from models import db
from serializers.accounts import account_json


def _group_reactions(
    rows: Iterable[tuple[str, str, str | None, Any]], viewer_id: str | None
) -> dict[str, list[dict]]:
    """Reactions per status, one entry per emoji in order of first use. `rows` are (status_id,
    emoji, url, reactor) in reaction order; a reactor is an Account or, for summaries, its id."""
    grouped: dict[str, dict[str, dict]] = defaultdict(dict)
    for status_id, name, url, reactor in rows:
        entry = grouped[status_id].get(name)
        if entry is None:
            entry = grouped[status_id][name] = {"name": name, "url": url, "me": False, "accounts": []}
        entry["accounts"].append(reactor)
        if (reactor if isinstance(reactor, str) else reactor.id) == viewer_id:
            entry["me"] = True
    return {status_id: list(by_emoji.values()) for status_id, by_emoji in grouped.items()}


def reactions_of(status_id: str, viewer: Account | None, with_muted: bool = False) -> list[dict]:
    """A status's reactions with the reactors' Accounts, in one query that also checks the reader
    may see the status (none for a reblog, an unknown or an invisible status). Reactors who are
    deactivated, blocked by the reader or muted by them are left out (SPEC 16)."""
    if not current_app.config["SHOW_REACTIONS"]:
        return []
    query = cached_statement(_reactions_query, BOUND_VIEWER if viewer is not None else None, with_muted)
    bind = {"status_id": status_id} | ({"viewer_id": viewer.id} if viewer is not None else {})
    rows = db.session.execute(query, bind).all()
    return _group_reactions(rows, viewer.id if viewer is not None else None).get(status_id, [])


def _reactions_query(viewer: Any, with_muted: bool) -> Select:
    return (
        select(EmojiReaction.status_id, EmojiReaction.emoji, EmojiReaction.url, Account)
        .join(Account, Account.id == EmojiReaction.account_id)
        .join(Status, Status.id == EmojiReaction.status_id)
        .where(
            EmojiReaction.status_id == bindparam("status_id"),
            Status.reblog_of_id.is_(None),
            Status.visibility_filter(viewer),
            Account.is_active.is_(True),
            *_hidden_reactors(viewer, with_muted),
        )
        .order_by(EmojiReaction.id)
    )


def _hidden_reactors(viewer: Account | None, with_muted: bool = False) -> list[ColumnElement[bool]]:
    """Reactors the reader blocked, or muted (unless `with_muted`), are left out (SPEC 16)."""
    if viewer is None:
        return []
    # NOT EXISTS rather than NOT IN: PostgreSQL makes it an anti-join even when the viewer is a
    # column of the statement (BOUND_READERS), where a NOT IN subquery runs once per row.
    conditions = [~exists().where(Block.account_id == viewer.id, Block.target_id == EmojiReaction.account_id)]
    if not with_muted:
        conditions.append(
            ~exists().where(
                Mute.account_id == viewer.id, Mute.target_id == EmojiReaction.account_id, Mute.active()
            )
        )
    return conditions


def _reaction_summaries(entries: list[dict]) -> list[dict]:
    return [
        {
            "name": e["name"],
            "count": len(e["accounts"]),
            "me": e["me"],
            "url": e["url"],
            "account_ids": [a if isinstance(a, str) else a.id for a in e["accounts"]],
        }
        for e in entries
    ]


def reactions_json(entries: list[dict], viewer: Account | None) -> list[dict]:
    """GET .../reactions: like the status summary, with full Account entities (each rendered once
    however many emoji the account used)."""
    rendered: dict[str, dict] = {}

    def account(a: Account) -> dict:
        if a.id not in rendered:
            rendered[a.id] = account_json(a, viewer)
        return rendered[a.id]

    return [
        {
            "name": e["name"],
            "count": len(e["accounts"]),
            "me": e["me"],
            "url": e["url"],
            "accounts": [account(a) for a in e["accounts"]],
        }
        for e in entries
    ]
