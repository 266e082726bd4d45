"""Statuses, and the batch loader that renders a page of them in a constant number of queries."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from typing import NamedTuple

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

import emoji_packs
import formatting
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
from models import db
from portable_sql import as_text
from precompiled import Precompiled
from serializers.accounts import account_json
from serializers.common import base_url
from serializers.common import iso
from serializers.common import remote_emojis
from serializers.filters import FilterRules
from serializers.media import attachment_json
from serializers.polls import PollFacts
from serializers.polls import option_shortcodes
from serializers.polls import render_poll
from serializers.reactions import _group_reactions
from serializers.reactions import _hidden_reactors
from serializers.reactions import _reaction_summaries


class KnownFacts(NamedTuple):
    """What the extras statement would find for a status its author has just posted, known to
    the writer: its visible mentions (account id, nickname, domain, ap_id) and its tags, both
    sorted. Only for a status answered to its author that starts a thread of its own with no
    quote, media, poll or direct conversation: no reaction, favourite, bookmark, reblog, thread
    mute or participation can concern it yet, and the author's filters never apply to it."""

    mentions: list[tuple[str, str, str | None, str]]
    tags: list[str]


class _StatusBatch:
    """Everything a page of statuses needs, in a constant number of queries whatever its length:
    the reblogged originals and the quoted statuses (one query each, only when the page has any),
    then one UNION ALL for every per-status fact (mentions, tags, media, parents' authors,
    reactions and the viewer's own state)."""

    def __init__(
        self,
        statuses: list[Status],
        viewer: Account | None,
        context: str | None = None,
        known: KnownFacts | None = None,
    ) -> None:
        self.viewer = viewer
        self.context = context
        self.accounts: dict[str, dict] = {}  # account_json per account: a page repeats authors
        if known is not None:
            self._known_extras(statuses[0], known)
            return
        originals_ids = {s.reblog_of_id for s in statuses if s.reblog_of_id}
        self.originals: dict[str, Status] = {}
        if originals_ids:
            self.originals = {
                s.id: s for s in db.session.scalars(select(Status).where(Status.id.in_(originals_ids)))
            }
        # Quoted statuses the reader may see, for the page and its reblogged originals; they join
        # `every` so their mentions, media and viewer state load with the rest.
        quote_ids = {s.quote_id for s in statuses + list(self.originals.values()) if s.quote_id}
        self.quoted: dict[str, Status] = {}
        if quote_ids:
            self.quoted = {
                s.id: s
                for s in db.session.scalars(
                    select(Status).where(Status.id.in_(quote_ids), Status.visibility_filter(viewer))
                )
            }
        every = statuses + list(self.originals.values()) + list(self.quoted.values())
        self._load_extras(every)
        self._load_emoji(every)

    def _load_emoji(self, every: list[Status]) -> None:
        shortcodes = [sc for s in every for sc in s.emojis or ()]
        shortcodes += [sc for poll in self.polls.values() for sc in option_shortcodes(poll[1])]
        # Most statuses name no custom emoji: then the packs need not even be checked for changes.
        self.emoji = emoji_packs.emoji_by_shortcode(shortcodes) if shortcodes else {}

    def _known_extras(self, status: Status, known: KnownFacts) -> None:
        """The facts of a status just posted, from its writer instead of the extras statement
        (KnownFacts says when they are all known)."""
        self.originals, self.quoted = {}, {}
        self._no_extras()
        self.mentions[status.id] = list(known.mentions)
        self.tags[status.id] = list(known.tags)
        viewer_id = self.viewer.id if self.viewer is not None else None
        # The reader's filters never apply to the reader's own status (_filtered).
        self.filters = FilterRules(viewer_id, self.context, []) if viewer_id is not None else None
        self._load_emoji([status])

    def _no_extras(self) -> None:
        self.mentions: dict[str, list[tuple]] = defaultdict(list)
        self.tags: dict[str, list[str]] = defaultdict(list)
        self.media: dict[str, list[_MediaRow]] = defaultdict(list)
        self.parents: dict[str, str] = {}  # parent id -> its author's acct, when the viewer sees it
        self.reactions: dict[str, list[dict]] = {}
        self._reaction_rows: list[tuple[str, str, str | None, str]] = []  # (status, emoji, url, reactor)
        self.favourited: set[str] = set()
        self.bookmarks: dict[str, str | None] = {}
        self.reblogged: set[str] = set()
        self.muted_contexts: set[int] = set()
        self.participations: dict[int, str] = {}
        # Polls by status id: (id, options, multiple, hides totals, expires_at), then their counts.
        self.polls: dict[str, tuple[str, list[str], bool, bool, datetime]] = {}
        self.poll_tallies: dict[str, dict[int, int]] = defaultdict(dict)
        self.poll_voters: dict[str, int] = {}
        self.poll_remote: dict[str, tuple[dict[int, int], int]] = {}
        self.poll_own: dict[str, list[int]] = defaultdict(list)

    def _load_extras(self, every: list[Status]) -> None:
        self._no_extras()
        reactions: list[tuple] = []
        filter_rows: list[tuple] = []
        statement, values = _extras_query(every, self.viewer)
        session = db.session()
        if session.autoflush:  # as session.execute would
            session.flush()
        for kind, key, a, b, c, d, e, f, g in statement.rows(session.connection(), values):
            if kind == "mention":
                self.mentions[key].append((a, b, c, d))
            elif kind == "tag":
                self.tags[key].append(a)
            elif kind == "media":
                self.media[key].append(_MediaRow(a, b, c, d, e, f, g))
            elif kind == "parent":
                self.parents[key] = a if b is None else f"{a}@{b}"
            elif kind == "reaction":
                reactions.append((key, a, b, c, d))
            elif kind == "favourite":
                self.favourited.add(key)
            elif kind == "bookmark":
                self.bookmarks[key] = a
            elif kind == "reblogged":
                self.reblogged.add(key)
            elif kind == "thread_mute":
                self.muted_contexts.add(int(key))
            elif kind == "participation":
                self.participations[int(key)] = a
            elif kind.startswith("poll"):
                self._poll_fact(kind, key, a, b, c, d, e)
            elif kind.startswith("filter"):
                filter_rows.append((kind, key, a, b, c, d, e, f))
        # UNION ALL keeps no order: each kind is put in the order the entities show it.
        for rows in self.mentions.values():
            rows.sort()
        for names in self.tags.values():
            names.sort()
        for media in self.media.values():
            media.sort(key=lambda m: (int(m.position or 0), m.id))
        reactions.sort(key=lambda r: r[4])
        self._reaction_rows = [(s, n, u, a) for s, n, u, a, _ in reactions]
        self._group()
        viewer_id = self.viewer.id if self.viewer is not None else None
        self.filters = FilterRules(viewer_id, self.context, filter_rows) if viewer_id is not None else None

    def _group(self) -> None:
        self.reactions = _group_reactions(self._reaction_rows, self.viewer.id if self.viewer else None)

    def _poll_fact(self, kind: str, key: str, a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
        if kind == "poll":
            self.polls[key] = (a, orjson.loads(b), bool(int(c)), bool(int(d)), datetime.fromisoformat(e))
        elif kind == "poll_tally":
            self.poll_tallies[key][int(a)] = int(b)
        elif kind == "poll_voters":
            self.poll_voters[key] = int(a)
        elif kind == "poll_own":
            self.poll_own[key].append(int(a))
        elif kind == "poll_remote":  # another server's poll: the counts its Question gave
            self.poll_remote[key] = (dict(enumerate(int(n) for n in orjson.loads(a))), int(b))

    def poll(self, status: Status) -> dict | None:
        found = self.polls.get(status.id)
        if found is None:
            return None
        tallies, voters = self.poll_remote.get(
            status.id, (self.poll_tallies.get(status.id, {}), self.poll_voters.get(status.id, 0))
        )
        facts = PollFacts(
            *found,
            author_id=status.account_id,
            tallies=tallies,
            voters_count=voters,
            own_votes=self.poll_own.get(status.id, []),
        )
        return render_poll(facts, self.viewer, self.emoji)

    def account(self, account: Account) -> dict:
        found = self.accounts.get(account.id)
        if found is None:
            found = self.accounts[account.id] = account_json(account, self.viewer)
        return found

    def render(self, status: Status) -> dict:
        if status.reblog_of_id:
            original = self.originals.get(status.reblog_of_id)
            data = self._one(status, as_reblog=True)
            data["reblog"] = self._one(original) if original else None
            if original is not None and "filtered" in data:
                # A reblog is filtered on what it shares (Mastodon matches the status's proper).
                data["filtered"] = self._filtered(original, (status.id, original.id), status.account_id)
            return data
        return self._one(status)

    def _filtered(self, status: Status, ids: tuple[str, ...], author_id: str) -> list[dict]:
        """The reader's FilterResults for a status; `[]` when nothing matches."""
        if self.filters is None or not self.filters.rules or author_id == self.filters.viewer_id:
            return []
        poll = self.polls.get(status.id)
        text = "\n\n".join(
            [
                status.spoiler_text or "",
                formatting.html_to_text(status.content or ""),
                *(poll[1] if poll else ()),
                *(m.description or "" for m in self.media.get(status.id, ())),
            ]
        )
        return self.filters.results(ids, text)

    def hidden(self, rendered: dict) -> bool:
        return self.filters is not None and self.filters.hides(rendered.get("filtered") or ())

    def _one(self, status: Status, as_reblog: bool = False, embed_quote: bool = True) -> dict:
        # A quoted status is embedded one level deep: its own quote stays a bare quote_id.
        quoted = self.quoted.get(status.quote_id) if status.quote_id and embed_quote else None
        quote = self._one(quoted, embed_quote=False) if quoted is not None else None
        parent_acct = self.parents.get(status.in_reply_to_id) if status.in_reply_to_id else None
        mentions = [
            {
                "id": account_id,
                "username": nickname,
                "acct": nickname if domain is None else f"{nickname}@{domain}",
                "url": ap_id,
            }
            for account_id, nickname, domain, ap_id in self.mentions.get(status.id, ())
        ]
        content = "" if as_reblog else status.content
        reactions = [] if as_reblog else _reaction_summaries(self.reactions.get(status.id, []))
        root = base_url()
        muted = status.context_id in self.muted_contexts
        data: dict[str, Any] = {
            "id": status.id,
            "uri": status.uri,
            "url": status.url or f"{root}/notice/{status.id}",
            "account": self.account(status.account),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "reblog": None,
            "content": content,
            "text": None,
            "created_at": iso(status.created_at),
            "edited_at": iso(status.edited_at),
            "emojis": [self.emoji[sc] for sc in status.emojis or () if sc in self.emoji]
            + remote_emojis(status.emoji_urls),
            "replies_count": 0 if as_reblog else status.replies_count,
            "reblogs_count": 0 if as_reblog else status.reblogs_count,
            "favourites_count": 0 if as_reblog else status.favourites_count,
            "reblogged": status.id in self.reblogged,
            "favourited": status.id in self.favourited,
            "bookmarked": status.id in self.bookmarks,
            "muted": muted,
            "pinned": status.pinned_at is not None,
            "sensitive": status.is_sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "media_attachments": [attachment_json(m) for m in self.media.get(status.id, ())],
            "mentions": mentions,
            "tags": [{"name": t, "url": f"{root}/tag/{t}"} for t in self.tags.get(status.id, ())],
            "application": {"name": status.app_name, "website": status.app_website}
            if status.app_name
            else None,
            "language": status.language,
            "card": None,
            "poll": None if as_reblog else self.poll(status),
            "quote": quote,
            "quote_id": status.quote_id,
            "emoji_reactions": reactions,
        }
        if self.viewer is not None:
            data["filtered"] = [] if as_reblog else self._filtered(status, (status.id,), status.account_id)
        data["pleroma"] = {
            "local": status.account.domain is None,
            "conversation_id": status.context_id,
            "context": f"{root}/contexts/{status.context.uri}",
            "direct_conversation_id": self.participations.get(status.context_id)
            if status.visibility == "direct"
            else None,
            "in_reply_to_account_acct": parent_acct,
            "content": {"text/plain": formatting.html_to_text(content)},
            "spoiler_text": {"text/plain": status.spoiler_text},
            "expires_at": iso(status.expires_at),
            "thread_muted": muted,
            "emoji_reactions": reactions,
            "parent_visible": parent_acct is not None,
            "pinned_at": iso(status.pinned_at),
            "quote": quote,
            "quote_id": status.quote_id,
            "quote_url": f"{root}/notice/{status.quote_id}" if status.quote_id else None,
            "quote_visible": quoted is not None,
            "bookmark_folder": self.bookmarks.get(status.id),
        }
        return data


class _MediaRow(NamedTuple):
    """The columns of a Media that attachment_json reads, as the batch query returns them."""

    id: str
    path: str
    mime_type: str
    description: str | None
    focus: str | None
    meta_json: str | None
    position: int | None

    @property
    def meta(self) -> dict:
        return json.loads(self.meta_json) if self.meta_json else {}

    @property
    def remote_url(self) -> str | None:
        """A remote attachment's URL (the batch query reads it in place of the path)."""
        return self.path if self.path.startswith(("http://", "https://")) else None


_EXTRA_WIDTH = 7  # payload columns of the extras query; each kind fills what it needs


def _part(kind: str, key: Any, *values: Any) -> Select:
    """One member of the extras UNION ALL: (kind, key, a..g), untyped so no member's column type
    converts another's values."""
    padded = [*values, *([null()] * (_EXTRA_WIDTH - len(values)))]
    columns = [literal_column(f"'{kind}'", String).label("kind"), as_text(key).label("key")]
    columns += [as_text(v).label(f"c{i}") for i, v in enumerate(padded)]
    return select(*columns)


def _extras_query(every: list[Status], viewer: Account | None) -> tuple[Any, dict]:
    """The extras statement for this page's shape (built once, see _extras_statement) and the
    page's values for it."""
    ids = list(dict.fromkeys(s.id for s in every))
    parent_ids = sorted({s.in_reply_to_id for s in every if s.in_reply_to_id})
    direct_contexts = sorted({s.context_id for s in every if s.visibility == "direct"})
    # One status (an answer to a write, a status page): `= ?` instead of a JSON list, which
    # SQLite opens as a virtual table once per member of the UNION (44 -> 14 us here).
    single = len(ids) == 1
    statement = _extras_statement(
        viewer is not None,
        bool(parent_ids),
        bool(direct_contexts),
        bool(current_app.config["SHOW_REACTIONS"]),
        single,
    )
    listed = (lambda values: values[0] if values else None) if single else _json_list
    values: dict[str, Any] = {"ids": listed(ids), "parent_ids": listed(parent_ids)}
    if viewer is not None:
        values["viewer_id"] = viewer.id
        values["context_ids"] = listed(sorted({s.context_id for s in every}))
        values["direct_contexts"] = listed(direct_contexts)
        values["now"] = Filter.now()
    return statement, values


def _json_list(values: Iterable[Any]) -> str:
    return orjson.dumps(list(values)).decode()


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


@functools.lru_cache(maxsize=16)
def _extras_statement(
    signed_in: bool, with_parents: bool, with_direct: bool, with_reactions: bool, single: bool = False
) -> Precompiled:
    """The UNION ALL of every per-status fact, built and compiled once per shape: statement
    building costs more Python than running it (and its execution, precompiled.py). Values:
    ids, parent_ids, and for a reader viewer_id, context_ids and direct_contexts; with `single`
    each of them one value (or None) instead of a JSON list."""
    viewer = BOUND_VIEWER if signed_in else None
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
            _part("parent", Status.id, Account.nickname, Account.domain)
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
            )
            .join_from(EmojiReaction, Account, Account.id == EmojiReaction.account_id)
            .where(ids(EmojiReaction.status_id), Account.is_active.is_(True), *_hidden_reactors(viewer))
        )
    if viewer is not None:
        parts += [
            _part("favourite", Favourite.status_id).where(
                Favourite.account_id == viewer.id, ids(Favourite.status_id)
            ),
            _part("bookmark", Bookmark.status_id, Bookmark.folder_id).where(
                Bookmark.account_id == viewer.id, ids(Bookmark.status_id)
            ),
            _part("reblogged", Status.reblog_of_id).where(
                Status.account_id == viewer.id, ids(Status.reblog_of_id)
            ),
            _part("thread_mute", ThreadMute.context_id).where(
                ThreadMute.account_id == viewer.id,
                _among(ThreadMute.context_id, "context_ids", single, numbers=True),
            ),
        ]
        if with_direct:
            parts.append(
                _part("participation", Participation.context_id, Participation.id).where(
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
        _part("filter_keyword", Filter.id, *columns, FilterKeyword.keyword, FilterKeyword.is_whole_word)
        .outerjoin(FilterKeyword, FilterKeyword.filter_id == Filter.id)
        .where(*active),
        _part("filter_status", Filter.id, *columns, FilterStatus.status_id)
        .join(FilterStatus, FilterStatus.filter_id == Filter.id)
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
            _part("poll_own", Poll.status_id, PollVote.choice)
            .join_from(PollVote, Poll, Poll.id == PollVote.poll_id)
            .where(ids(Poll.status_id), PollVote.account_id == viewer.id)
        )
    return parts


def statuses_json(
    statuses: Iterable[Status], viewer: Account | None, context: str | None = None
) -> list[dict]:
    """With a filter `context` (home, public, thread, account, notifications), statuses the
    reader's `hide` filters of that context match are left out; without, nothing is left out."""
    statuses = list(statuses)
    if not statuses:
        return []
    batch = _StatusBatch(statuses, viewer, context)
    rendered = [batch.render(s) for s in statuses]
    return [d for d in rendered if not batch.hidden(d)] if context is not None else rendered


def status_json(status: Status, viewer: Account | None, known: KnownFacts | None = None) -> dict:
    """`known`: the facts of a status its writer has just posted (no extras statement)."""
    if known is None:
        return statuses_json([status], viewer)[0]
    return _StatusBatch([status], viewer, known=known).render(status)


class StatusAnswer:
    """The answer to a write on one status: its facts read before the write (reads first: SQLite
    writers queue for one lock), rendered after the commit with no second transaction; the
    write says what it changed of them (and sets the status' own columns it changed)."""

    def __init__(self, status: Status, viewer: Account) -> None:
        self.status, self._viewer_id = status, viewer.id
        self._batch = _StatusBatch([status], viewer)

    def favourited(self, favourited: bool) -> None:
        """The viewer's favourite of the status now exists (or not)."""
        (self._batch.favourited.add if favourited else self._batch.favourited.discard)(self.status.id)

    def reacted(self, name: str, url: str | None) -> None:
        """The viewer added this reaction, the status' newest (where reactions are shown)."""
        if current_app.config["SHOW_REACTIONS"]:
            self._batch._reaction_rows.append((self.status.id, name, url, self._viewer_id))
            self._batch._group()

    def json(self) -> dict:
        return self._batch.render(self.status)


def status_source_json(status: Status) -> dict:
    """StatusSource (GET /api/v1/statuses/:id/source): what the author typed."""
    return {
        "id": status.id,
        "text": status.source,
        "spoiler_text": status.spoiler_text,
        "content_type": status.content_type,
    }
