"""The status batch's extras statement (serializers/statuses.py): every per-status fact of a page
(mentions, tags, media, polls, parents' authors, reactions, the reader's own state and filters)
in one UNION ALL, built and compiled once per shape. For BOUND_READERS (the streaming hub's
readers of one event) the reader's facts are read for all of them at once, each row carrying its
reader's id in the last column."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import Integer
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all

from models import BOUND_READERS
from models import BOUND_VIEWER
from models import Account
from models import Bookmark
from models import EmojiReaction
from models import Favourite
from models import Filter
from models import FilterKeyword
from models import FilterStatus
from models import Media
from models import Participation
from models import Poll
from models import PollVote
from models import Status
from models import StatusMention
from models import StatusTag
from models import ThreadMute
from portable_sql import as_text
from precompiled import Precompiled
from serializers.reactions import _hidden_reactors

_EXTRA_WIDTH = 7  # payload columns of the extras query; each kind fills what it needs


# The kinds of row that depend on the reader: for BOUND_READERS, their last column is the reader.
READER_KINDS = frozenset(
    (
        "parent",
        "reaction",
        "favourite",
        "bookmark",
        "reblogged",
        "thread_mute",
        "participation",
        "poll_own",
        "filter_keyword",
        "filter_status",
    )
)


def _part(kind: str, key: Any, *values: Any, viewer: Any = None) -> Select:
    """One member of the extras UNION ALL: (kind, key, a..g), untyped so no member's column type
    converts another's values. A member of READER_KINDS passes its `viewer`: for BOUND_READERS
    (whose rows must say whose they are) it fills no more than a..f and g is the reader."""
    if viewer is BOUND_READERS:
        values = (*values, *([null()] * (_EXTRA_WIDTH - 1 - len(values))), viewer.id)
    padded = [*values, *([null()] * (_EXTRA_WIDTH - len(values)))]
    columns = [literal_column(f"'{kind}'", String).label("kind"), as_text(key).label("key")]
    columns += [as_text(v).label(f"c{i}") for i, v in enumerate(padded)]
    found = select(*columns)
    return found.select_from(BOUND_READERS.table) if viewer is BOUND_READERS else found


def extras_query(
    every: list[Status], viewer: Account | None, reader_ids: list[str] | None = None
) -> tuple[Precompiled, dict]:
    """The extras statement for this page's shape (built once, see _extras_statement) and the
    page's values for it; with `reader_ids` (and no viewer), the reader's facts of each of them."""
    ids = list(dict.fromkeys(s.id for s in every))
    parent_ids = sorted({s.in_reply_to_id for s in every if s.in_reply_to_id})
    direct_contexts = sorted({s.context_id for s in every if s.visibility == "direct"})
    readers = reader_ids is not None
    # One status (an answer to a write, a status page, a streamed status): `= ?` instead of a
    # JSON list, which SQLite opens as a virtual table once per member of the UNION (44 -> 14 us).
    single = len(ids) == 1
    statement = _extras_statement(
        "readers" if readers else "viewer" if viewer is not None else None,
        bool(parent_ids),
        bool(direct_contexts),
        bool(current_app.config["SHOW_REACTIONS"]),
        single,
    )
    listed = _first if single else _json_list
    values: dict[str, Any] = {"ids": listed(ids), "parent_ids": listed(parent_ids)}
    if viewer is not None:
        values["viewer_id"] = viewer.id
    if reader_ids is not None:
        values |= BOUND_READERS.values(reader_ids)
    if viewer is not None or readers:
        values["context_ids"] = listed(sorted({s.context_id for s in every}))
        values["direct_contexts"] = listed(direct_contexts)
        values["now"] = Filter.now()
    return statement, values


def _json_list(values: Iterable[Any]) -> str:
    return orjson.dumps(list(values)).decode()


def _first(values: list[Any]) -> Any:
    return values[0] if values else None


def _listed(name: str, numbers: bool = False) -> Select:
    """The members of a list given as one JSON array (see _json_list), for `IN`. An expanding
    bind parameter would make SQLAlchemy render the SQL again for every execution, which cost
    more than running it; this SQL is the same whatever the length, and SQLite still searches
    the index once per member. `numbers`: integers, which PostgreSQL's members (text) are cast to."""
    value = cast(column("value"), Integer) if numbers else column("value")
    return select(value).select_from(func.json_each(bindparam(name, type_=String)))


def _among(column: Any, name: str, single: bool, numbers: bool = False) -> Any:
    """`column` is one of the values bound as `name`: the one value itself when `single`."""
    if single:
        return column == bindparam(name, type_=Integer if numbers else String)
    return column.in_(_listed(name, numbers))


@functools.lru_cache(maxsize=32)
def _extras_statement(
    reader: str | None, with_parents: bool, with_direct: bool, with_reactions: bool, single: bool = False
) -> Precompiled:
    """The UNION ALL of every per-status fact, built and compiled once per shape: statement
    building costs more Python than running it (and its execution, precompiled.py). `reader`:
    None (anonymous), "viewer" (BOUND_VIEWER) or "readers" (BOUND_READERS). Values: ids,
    parent_ids, and for a reader viewer_id (or BOUND_READERS.values), context_ids and direct_contexts;
    with `single` each of them one value (or None) instead of a JSON list."""
    viewer = {"viewer": BOUND_VIEWER, "readers": BOUND_READERS}.get(reader or "")
    ids = functools.partial(_among, name="ids", single=single)
    parts = [
        _part("mention", StatusMention.status_id, Account.id, Account.nickname, Account.domain, Account.ap_id)
        .join_from(StatusMention, Account, Account.id == StatusMention.account_id)
        .where(ids(StatusMention.status_id), StatusMention.is_visible.is_(True)),
        _part("tag", StatusTag.status_id, StatusTag.name).where(ids(StatusTag.status_id)),
        _part(
            "media",
            Media.status_id,
            Media.id,
            func.coalesce(Media.remote_url, Media.path),  # a remote attachment: its URL
            Media.mime_type,
            Media.description,
            Media.focus,
            Media.meta,
            Media.position,
        ).where(ids(Media.status_id)),
    ]
    parts += _poll_parts(viewer, ids)
    if with_parents:
        parts.append(
            _part("parent", Status.id, Account.nickname, Account.domain, viewer=viewer)
            .join_from(Status, Account, Account.id == Status.account_id)
            .where(_among(Status.id, "parent_ids", single), Status.visibility_filter(viewer))
        )
    if with_reactions:
        parts.append(
            _part(
                "reaction",
                EmojiReaction.status_id,
                EmojiReaction.emoji,
                EmojiReaction.url,
                EmojiReaction.account_id,
                EmojiReaction.id,
                viewer=viewer,
            )
            .join_from(EmojiReaction, Account, Account.id == EmojiReaction.account_id)
            .where(ids(EmojiReaction.status_id), Account.is_active.is_(True), *_hidden_reactors(viewer))
        )
    if viewer is not None:
        parts += [
            _part("favourite", Favourite.status_id, viewer=viewer).where(
                Favourite.account_id == viewer.id, ids(Favourite.status_id)
            ),
            _part("bookmark", Bookmark.status_id, Bookmark.folder_id, viewer=viewer).where(
                Bookmark.account_id == viewer.id, ids(Bookmark.status_id)
            ),
            _part("reblogged", Status.reblog_of_id, viewer=viewer).where(
                Status.account_id == viewer.id, ids(Status.reblog_of_id)
            ),
            _part("thread_mute", ThreadMute.context_id, viewer=viewer).where(
                ThreadMute.account_id == viewer.id,
                _among(ThreadMute.context_id, "context_ids", single, numbers=True),
            ),
        ]
        if with_direct:
            parts.append(
                _part("participation", Participation.context_id, Participation.id, viewer=viewer).where(
                    Participation.account_id == viewer.id,
                    _among(Participation.context_id, "direct_contexts", single, numbers=True),
                )
            )
        parts += _filter_parts(viewer)
    return Precompiled(union_all(*parts))


def _filter_parts(viewer: Any) -> list[Select]:
    """The reader's active filters (key: the filter id), a row per keyword (or one without, for
    a filter with none) and per filtered status: they do not depend on the page, but riding in
    this statement spares a round trip on every page."""
    columns = (Filter.title, Filter.context, Filter.action, Filter.expires_at)
    active = (
        Filter.account_id == viewer.id,
        or_(Filter.expires_at.is_(None), Filter.expires_at > bindparam("now")),
    )
    return [
        _part(
            "filter_keyword",
            Filter.id,
            *columns,
            FilterKeyword.keyword,
            FilterKeyword.is_whole_word,
            viewer=viewer,
        )
        .outerjoin_from(Filter, FilterKeyword, FilterKeyword.filter_id == Filter.id)
        .where(*active),
        _part("filter_status", Filter.id, *columns, FilterStatus.status_id, viewer=viewer)
        .join_from(Filter, FilterStatus, FilterStatus.filter_id == Filter.id)
        .where(*active),
    ]


def _poll_parts(viewer: Any, ids: Any) -> list[Select]:
    """The polls of the page's statuses, their tallies and voters (and the reader's votes)."""
    parts = [
        _part(
            "poll",
            Poll.status_id,
            Poll.id,
            Poll.options,
            Poll.is_multiple,
            Poll.hides_totals,
            Poll.expires_at,
        ).where(ids(Poll.status_id)),
        _part("poll_tally", Poll.status_id, PollVote.choice, func.count())
        .join_from(PollVote, Poll, Poll.id == PollVote.poll_id)
        .where(ids(Poll.status_id))
        .group_by(Poll.status_id, PollVote.choice),
        _part("poll_voters", Poll.status_id, func.count(PollVote.account_id.distinct()))
        .join_from(PollVote, Poll, Poll.id == PollVote.poll_id)
        .where(ids(Poll.status_id))
        .group_by(Poll.status_id),
        _part("poll_remote", Poll.status_id, Poll.remote_tallies, Poll.remote_voters).where(
            ids(Poll.status_id), Poll.remote_voters.is_not(None)
        ),
    ]
    if viewer is not None:
        parts.append(
            _part("poll_own", Poll.status_id, PollVote.choice, viewer=viewer)
            .join_from(PollVote, Poll, Poll.id == PollVote.poll_id)
            .where(ids(Poll.status_id), PollVote.account_id == viewer.id)
        )
    return parts
