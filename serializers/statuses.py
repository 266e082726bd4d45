"""Statuses, and the batch loader that renders a page of them in a constant number of queries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from typing import NamedTuple

import orjson
from flask import current_app
from sqlalchemy import select

import emoji_packs
import formatting
import readcache
from models import BOUND_READERS
from models import Account
from models import Status
from models import db
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
from serializers.reactions import _reaction_summaries
from serializers.status_extras import READER_KINDS
from serializers.status_extras import extras_query


class KnownFacts(NamedTuple):
    """What the extras statement would find for a status its author has just posted, known to
    the writer: its visible mentions (account id, nickname, domain, ap_id) and its tags, both
    sorted. Only for a status answered to its author that starts a thread of its own with no
    quote, media, poll or direct conversation: no reaction, favourite, bookmark, reblog, thread
    mute or participation can concern it yet, and the author's filters never apply to it."""

    mentions: list[tuple[str, str, str | None, str]]
    tags: list[str]


class _Loaded(NamedTuple):
    """What a batch reads: the reblogged originals, the quoted statuses its reader may see and
    the extras statement's rows."""

    originals: dict[str, Status]
    quoted: dict[str, Status]
    rows: list[Any]


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
        loaded: _Loaded | None = None,
    ) -> None:
        """`loaded`: what _load would read, read already (for several readers at once)."""
        self.viewer = viewer
        self.context = context
        self.accounts: dict[str, dict] = {}  # account_json per account: a page repeats authors
        if known is not None:
            self._known_extras(statuses[0], known)
            return
        if loaded is None:
            loaded = _load(statuses, viewer)
        self.originals, self.quoted = loaded.originals, loaded.quoted
        self._read_extras(loaded.rows)
        self._load_emoji(statuses + list(self.originals.values()) + list(self.quoted.values()))

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

    def _read_extras(self, rows: list[Any]) -> None:
        self._no_extras()
        reactions: list[tuple] = []
        filter_rows: list[tuple] = []
        for kind, key, a, b, c, d, e, f, g in rows:
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


def _load(statuses: list[Status], viewer: Account | None) -> _Loaded:
    originals = _originals(statuses)
    # Quoted statuses the reader may see, for the page and its reblogged originals; they join
    # `every` so their mentions, media and viewer state load with the rest.
    quote_ids = _quote_ids(statuses, originals)
    quoted: dict[str, Status] = {}
    if quote_ids:
        quoted = {
            s.id: s
            for s in db.session.scalars(
                select(Status).where(Status.id.in_(quote_ids), Status.visibility_filter(viewer))
            )
        }
    every = statuses + list(originals.values()) + list(quoted.values())
    return _Loaded(originals, quoted, readcache.request_rows(*extras_query(every, viewer)))


def _load_for_readers(statuses: list[Status], reader_ids: list[str]) -> dict[str, _Loaded]:
    """_load for each reader, in as many statements as _load takes for one: the reader's facts
    and the quoted statuses each may see come for all of them at once (BOUND_READERS), the rest
    once for all."""
    originals = _originals(statuses)
    quote_ids = _quote_ids(statuses, originals)
    quoted: dict[str, dict[str, Status]] = defaultdict(dict)
    if quote_ids:
        visible = (
            select(Status, BOUND_READERS.id)
            .select_from(BOUND_READERS.beside(Status))
            .where(Status.id.in_(quote_ids), Status.visibility_filter(BOUND_READERS))
        )
        for status, reader_id in db.session.execute(visible, BOUND_READERS.values(reader_ids)):
            quoted[reader_id][status.id] = status
    every = statuses + list(originals.values())
    every += list({s.id: s for found in quoted.values() for s in found.values()}.values())
    shared: list[Any] = []
    own: dict[str, list[Any]] = defaultdict(list)
    for row in readcache.request_rows(*extras_query(every, None, reader_ids)):
        if row[0] in READER_KINDS:
            own[row[8]].append(row)
        else:
            shared.append(row)
    return {r: _Loaded(originals, quoted[r], shared + own[r]) for r in reader_ids}


def _originals(statuses: list[Status]) -> dict[str, Status]:
    ids = {s.reblog_of_id for s in statuses if s.reblog_of_id}
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(select(Status).where(Status.id.in_(ids)))}


def _quote_ids(statuses: list[Status], originals: dict[str, Status]) -> set[str]:
    return {s.quote_id for s in statuses + list(originals.values()) if s.quote_id}


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


def statuses_json(
    statuses: Iterable[Status], viewer: Account | None, context: str | None = None
) -> list[dict]:
    """With a filter `context` (home, public, thread, account, notifications), statuses the
    reader's `hide` filters of that context match are left out; without, nothing is left out."""
    statuses = list(statuses)
    if not statuses:
        return []
    return _rendered(_StatusBatch(statuses, viewer, context), statuses)


def statuses_json_by_reader(
    statuses: Iterable[Status], readers: Iterable[tuple[Account, str | None]]
) -> dict[tuple[str, str | None], list[dict]]:
    """statuses_json(statuses, viewer, context) for each (viewer, context), by (viewer id,
    context), in the statements one reader's takes, however many readers (the streaming hub
    renders an event for all of its readers at once)."""
    statuses, readers = list(statuses), list(readers)
    if not statuses or not readers:
        return {(viewer.id, context): [] for viewer, context in readers}
    loaded = _load_for_readers(statuses, sorted({viewer.id for viewer, _ in readers}))
    rendered: dict[tuple[str, str | None], list[dict]] = {}
    # A reader without filters reads the same in every context: rendered once (the same list).
    plain: dict[str, list[dict]] = {}
    for viewer, context in readers:
        rows = loaded[viewer.id].rows
        unfiltered = not any(row[0] in ("filter_keyword", "filter_status") for row in rows)
        if unfiltered and viewer.id in plain:
            rendered[viewer.id, context] = plain[viewer.id]
            continue
        batch = _StatusBatch(statuses, viewer, context, loaded=loaded[viewer.id])
        rendered[viewer.id, context] = _rendered(batch, statuses)
        if unfiltered:
            plain[viewer.id] = rendered[viewer.id, context]
    return rendered


def _rendered(batch: _StatusBatch, statuses: list[Status]) -> list[dict]:
    rendered = [batch.render(s) for s in statuses]
    return [d for d in rendered if not batch.hidden(d)] if batch.context is not None else rendered


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
