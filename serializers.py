"""One function per API entity (SPEC 20). List forms load what a page needs in a constant number
of queries, whatever its length; single forms are the list form of one item."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import NamedTuple

import orjson
from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy import union_all

import emoji_packs
import formatting
from models import BOUND_VIEWER
from models import Account
from models import App
from models import Backup
from models import Block
from models import Bookmark
from models import BookmarkFolder
from models import EmojiReaction
from models import Endorsement
from models import Favourite
from models import Follow
from models import Media
from models import Mute
from models import Notification
from models import Participation
from models import ParticipationRecipient
from models import PushSubscription
from models import Report
from models import Status
from models import StatusMention
from models import StatusTag
from models import Subscription
from models import ThreadMute
from models import Token
from models import cached_statement
from models import db


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and Z (SPEC 1.7)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def base_url() -> str:
    return current_app.config["BASE_URL"]


def media_url(path: str) -> str:
    return f"{base_url()}/media/{path}"


# ---------------------------------------------------------------------------------------------
# Accounts and relationships


def _image(path: str | None, default: str | None) -> str | None:
    if path:
        return media_url(path)
    return f"{base_url()}/images/{default}" if default else None


def _visible_count(account: Account, viewer: Account | None, hidden: bool, count: int) -> int:
    return 0 if hidden and (viewer is None or viewer.id != account.id) else count


def _fields(account: Account) -> list[dict]:
    return [
        {"name": f.get("name", ""), "value": f.get("value_html", f.get("value", "")), "verified_at": None}
        for f in account.fields or []
    ]


def _account_emojis(account: Account) -> list[dict]:
    """Custom emoji named in the display name and bio (the emoji set is cached in memory)."""
    shortcodes = formatting.find_shortcodes(f"{account.display_name}\n{account.note_source}")
    if not shortcodes:
        return []
    found = emoji_packs.emoji_by_shortcode(shortcodes)
    return [found[sc] for sc in shortcodes if sc in found]


def account_json(
    account: Account,
    viewer: Account | None = None,
    *,
    relationship: dict | None = None,
    with_source: bool = False,
    embed_moved: bool = True,
) -> dict:
    is_owner = viewer is not None and viewer.id == account.id
    avatar = _image(account.avatar, "avi.png")
    header = _image(account.header, "banner.png")
    data: dict[str, Any] = {
        "id": account.id,
        "username": account.nickname,
        "acct": account.acct,
        "display_name": account.display_name or account.nickname,
        "locked": account.is_locked,
        "bot": account.actor_type == "Service",
        "discoverable": account.is_discoverable,
        "group": False,
        "created_at": iso(account.created_at),
        "note": account.note_html,
        "url": account.ap_id,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": _visible_count(
            account, viewer, account.hide_followers_count, account.followers_count
        ),
        "following_count": _visible_count(
            account, viewer, account.hide_follows_count, account.following_count
        ),
        "statuses_count": account.statuses_count,
        "last_status_at": iso(account.last_status_at),
        "emojis": _account_emojis(account),
        "fields": _fields(account),
        # One level only, as Mastodon nests it: A moved to B and back must not recurse forever.
        "moved": account_json(account.moved_to, viewer, embed_moved=False)
        if account.moved_to and embed_moved
        else None,
        "pleroma": _account_pleroma(account, viewer, is_owner, relationship),
    }
    if with_source and is_owner:
        data["source"] = _account_source(account)
        data["pleroma"].update(_owner_extras(account))
    return data


def _account_pleroma(
    account: Account, viewer: Account | None, is_owner: bool, relationship: dict | None
) -> dict:
    data: dict[str, Any] = {
        "ap_id": account.ap_id,
        "also_known_as": list(account.also_known_as or []),
        "background_image": _image(account.background, None),
        "tags": [],
        "is_confirmed": account.is_confirmed,
        "confirmation_pending": not account.is_confirmed,
        "hide_favorites": account.hide_favorites,
        "hide_followers": account.hide_followers,
        "hide_follows": account.hide_follows,
        "hide_followers_count": account.hide_followers_count,
        "hide_follows_count": account.hide_follows_count,
        "relationship": relationship or {},
        "skip_thread_containment": account.skip_thread_containment,
        "accepts_chat_messages": account.accepts_chat_messages,
        "favicon": None,
        "avatar_description": "",
        "header_description": "",
    }
    if is_owner or account.show_role:
        data["is_admin"] = account.is_admin
        data["is_moderator"] = account.is_moderator
    if viewer is not None and viewer.is_admin:
        data["deactivated"] = not account.is_active
    return data


def _account_source(account: Account) -> dict:
    return {
        "note": account.note_source,
        "privacy": account.default_scope,
        "sensitive": account.is_sensitive_default,
        "fields": [{"name": f.get("name", ""), "value": f.get("value", "")} for f in account.fields or []],
        "pleroma": {
            "show_role": account.show_role,
            "no_rich_text": account.no_rich_text,
            "discoverable": account.is_discoverable,
            "actor_type": account.actor_type,
        },
    }


def _owner_extras(account: Account) -> dict:
    unread_notifications = db.session.scalar(
        select(db.func.count())
        .select_from(Notification)
        .where(Notification.account_id == account.id, Notification.is_seen == false())
    )
    unread_conversations = db.session.scalar(
        select(db.func.count())
        .select_from(Participation)
        .where(Participation.account_id == account.id, Participation.is_unread.is_(True))
    )
    follow_requests = db.session.scalar(
        select(db.func.count())
        .select_from(Follow)
        .where(Follow.followee_id == account.id, Follow.is_pending.is_(True))
    )
    return {
        "settings_store": account.settings_store or {},
        "notification_settings": {"block_from_strangers": False, "hide_notification_contents": False}
        | (account.notification_settings or {}),
        "allow_following_move": account.allow_following_move,
        "unread_conversation_count": unread_conversations or 0,
        "unread_notifications_count": unread_notifications or 0,
        "follow_requests_count": follow_requests or 0,
        "is_admin": account.is_admin,
        "is_moderator": account.is_moderator,
        "chat_token": "",
        "also_known_as": list(account.also_known_as or []),
    }


def accounts_json(
    accounts: Iterable[Account], viewer: Account | None = None, with_relationships: bool = False
) -> list[dict]:
    accounts = list(accounts)
    rels: dict[str, dict] = {}
    if with_relationships and viewer is not None:
        rels = {r["id"]: r for r in relationships_json(viewer, [a.id for a in accounts])}
    return [account_json(a, viewer, relationship=rels.get(a.id)) for a in accounts]


def relationships_json(viewer: Account, target_ids: list[str]) -> list[dict]:
    """Relationships of the viewer with each target, in order, in six queries."""
    ids = list(dict.fromkeys(target_ids))
    if not ids:
        return []

    def pairs(model: Any, mine: Any, theirs: Any, *extra: Any) -> dict[str, Any]:
        rows = db.session.scalars(select(model).where(mine == viewer.id, theirs.in_(ids), *extra))
        return {getattr(r, theirs.key): r for r in rows}

    following = pairs(Follow, Follow.follower_id, Follow.followee_id)
    followers = db.session.scalars(
        select(Follow.follower_id).where(
            Follow.followee_id == viewer.id, Follow.follower_id.in_(ids), Follow.is_pending == false()
        )
    ).all()
    blocks = db.session.execute(
        select(Block.account_id, Block.target_id).where(
            ((Block.account_id == viewer.id) & Block.target_id.in_(ids))
            | ((Block.target_id == viewer.id) & Block.account_id.in_(ids))
        )
    ).all()
    mutes = pairs(Mute, Mute.account_id, Mute.target_id, Mute.active())  # expired mutes no longer count
    endorsed = set(pairs(Endorsement, Endorsement.account_id, Endorsement.target_id))
    subscribed = set(pairs(Subscription, Subscription.account_id, Subscription.target_id))
    return [
        _relationship(
            tid,
            viewer.id,
            following.get(tid),
            tid in set(followers),
            blocks,
            mutes.get(tid),
            tid in endorsed,
            tid in subscribed,
        )
        for tid in ids
    ]


def _relationship(
    target_id: str,
    viewer_id: str,
    follow: Follow | None,
    followed_by: bool,
    blocks: list,
    mute: Mute | None,
    endorsed: bool,
    subscribing: bool,
) -> dict:
    # Pleroma's `subscribing` and Mastodon's `notifying` are one flag (SPEC 21.11).
    return {
        "id": target_id,
        "following": bool(follow and not follow.is_pending),
        "showing_reblogs": follow.show_reblogs if follow else True,
        "notifying": subscribing,
        "followed_by": followed_by,
        "blocking": (viewer_id, target_id) in {tuple(b) for b in blocks},
        "blocked_by": (target_id, viewer_id) in {tuple(b) for b in blocks},
        "muting": mute is not None,
        "muting_notifications": bool(mute and mute.hide_notifications),
        "subscribing": subscribing,
        "requested": bool(follow and follow.is_pending),
        "domain_blocking": False,
        "endorsed": endorsed,
        "note": "",
    }


def relationship_json(viewer: Account, target: Account) -> dict:
    return relationships_json(viewer, [target.id])[0]


# ---------------------------------------------------------------------------------------------
# Apps and media


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


def _media_type(mime: str) -> str:
    kind = mime.split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "unknown"


def attachment_json(media: Media) -> dict:
    url = media_url(media.path)
    meta = dict(media.meta or {})
    if media.focus:
        x, _, y = media.focus.partition(",")
        meta["focus"] = {"x": float(x), "y": float(y)}
    return {
        "id": media.id,
        "type": _media_type(media.mime_type),
        "url": url,
        "remote_url": url,
        "preview_url": url,
        "text_url": url,
        "description": media.description or "",
        "blurhash": None,
        "meta": meta,
        "pleroma": {"mime_type": media.mime_type},
    }


# ---------------------------------------------------------------------------------------------
# Statuses


class _StatusBatch:
    """Everything a page of statuses needs, in a constant number of queries whatever its length:
    the reblogged originals and the quoted statuses (one query each, only when the page has any),
    then one UNION ALL for every per-status fact (mentions, tags, media, parents' authors,
    reactions and the viewer's own state)."""

    def __init__(self, statuses: list[Status], viewer: Account | None) -> None:
        self.viewer = viewer
        self.accounts: dict[str, dict] = {}  # account_json per account: a page repeats authors
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
        shortcodes = [sc for s in every for sc in s.emojis or ()]
        # Most statuses name no custom emoji: then the packs need not even be checked for changes.
        self.emoji = emoji_packs.emoji_by_shortcode(shortcodes) if shortcodes else {}
        self._load_extras(every)

    def _load_extras(self, every: list[Status]) -> None:
        self.mentions: dict[str, list[tuple]] = defaultdict(list)
        self.tags: dict[str, list[str]] = defaultdict(list)
        self.media: dict[str, list[_MediaRow]] = defaultdict(list)
        self.parents: dict[str, str] = {}  # parent id -> its author's acct, when the viewer sees it
        self.reactions: dict[str, list[dict]] = {}
        self.favourited: set[str] = set()
        self.bookmarks: dict[str, str | None] = {}
        self.reblogged: set[str] = set()
        self.muted_contexts: set[int] = set()
        self.participations: dict[int, str] = {}
        reactions: list[tuple] = []
        statement, values = _extras_query(every, self.viewer)
        # all(): one fetchall, where iterating the result would fetch row by row.
        for kind, key, a, b, c, d, e, f, g in db.session.execute(statement, values).all():
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
        # UNION ALL keeps no order: each kind is put in the order the entities show it.
        for rows in self.mentions.values():
            rows.sort()
        for names in self.tags.values():
            names.sort()
        for media in self.media.values():
            media.sort(key=lambda m: (int(m.position or 0), m.id))
        reactions.sort(key=lambda r: r[4])
        viewer_id = self.viewer.id if self.viewer is not None else None
        self.reactions = _group_reactions(((s, n, u, a) for s, n, u, a, _ in reactions), viewer_id)

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
            return data
        return self._one(status)

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
            "url": f"{root}/notice/{status.id}",
            "account": self.account(status.account),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "reblog": None,
            "content": content,
            "text": None,
            "created_at": iso(status.created_at),
            "edited_at": iso(status.edited_at),
            "emojis": [self.emoji[sc] for sc in status.emojis or () if sc in self.emoji],
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
            "poll": None,
            "quote": quote,
            "quote_id": status.quote_id,
            "emoji_reactions": reactions,
        }
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


_EXTRA_WIDTH = 7  # payload columns of the extras query; each kind fills what it needs


def _part(kind: str, key: Any, *values: Any) -> Select:
    """One member of the extras UNION ALL: (kind, key, a..g), untyped so no member's column type
    converts another's values."""
    padded = [*values, *([null()] * (_EXTRA_WIDTH - len(values)))]
    columns = [literal_column(f"'{kind}'", String).label("kind"), type_coerce(key, String).label("key")]
    columns += [type_coerce(v, String).label(f"c{i}") for i, v in enumerate(padded)]
    return select(*columns)


def _extras_query(every: list[Status], viewer: Account | None) -> tuple[Any, dict]:
    """The extras statement for this page's shape (built once, see _extras_statement) and the
    page's values for it."""
    parent_ids = sorted({s.in_reply_to_id for s in every if s.in_reply_to_id})
    direct_contexts = sorted({s.context_id for s in every if s.visibility == "direct"})
    statement = _extras_statement(
        viewer is not None,
        bool(parent_ids),
        bool(direct_contexts),
        bool(current_app.config["SHOW_REACTIONS"]),
    )
    values: dict[str, Any] = {
        "ids": _json_list(dict.fromkeys(s.id for s in every)),
        "parent_ids": _json_list(parent_ids),
    }
    if viewer is not None:
        values["viewer_id"] = viewer.id
        values["context_ids"] = _json_list(sorted({s.context_id for s in every}))
        values["direct_contexts"] = _json_list(direct_contexts)
    return statement, values


def _json_list(values: Iterable[Any]) -> str:
    return orjson.dumps(list(values)).decode()


def _listed(name: str) -> Select:
    """The members of a list given as one JSON array (see _json_list), for `IN`. An expanding
    bind parameter would make SQLAlchemy render the SQL again for every execution, which cost
    more than running it; this SQL is the same whatever the length, and SQLite still searches
    the index once per member."""
    return select(column("value")).select_from(func.json_each(bindparam(name, type_=String)))


_IDS = _listed("ids")


@functools.lru_cache(maxsize=16)
def _extras_statement(signed_in: bool, with_parents: bool, with_direct: bool, with_reactions: bool) -> Any:
    """The UNION ALL of every per-status fact, built once per shape: statement building costs
    more Python than running it. Values: ids, parent_ids, and for a reader viewer_id,
    context_ids and direct_contexts."""
    viewer = BOUND_VIEWER if signed_in else None
    parts = [
        _part("mention", StatusMention.status_id, Account.id, Account.nickname, Account.domain, Account.ap_id)
        .join_from(StatusMention, Account, Account.id == StatusMention.account_id)
        .where(StatusMention.status_id.in_(_IDS), StatusMention.is_visible.is_(True)),
        _part("tag", StatusTag.status_id, StatusTag.name).where(StatusTag.status_id.in_(_IDS)),
        _part(
            "media",
            Media.status_id,
            Media.id,
            Media.path,
            Media.mime_type,
            Media.description,
            Media.focus,
            Media.meta,
            Media.position,
        ).where(Media.status_id.in_(_IDS)),
    ]
    if with_parents:
        parts.append(
            _part("parent", Status.id, Account.nickname, Account.domain)
            .join_from(Status, Account, Account.id == Status.account_id)
            .where(Status.id.in_(_listed("parent_ids")), Status.visibility_filter(viewer))
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
            .where(EmojiReaction.status_id.in_(_IDS), Account.is_active.is_(True), *_hidden_reactors(viewer))
        )
    if viewer is not None:
        parts += [
            _part("favourite", Favourite.status_id).where(
                Favourite.account_id == viewer.id, Favourite.status_id.in_(_IDS)
            ),
            _part("bookmark", Bookmark.status_id, Bookmark.folder_id).where(
                Bookmark.account_id == viewer.id, Bookmark.status_id.in_(_IDS)
            ),
            _part("reblogged", Status.reblog_of_id).where(
                Status.account_id == viewer.id, Status.reblog_of_id.in_(_IDS)
            ),
            _part("thread_mute", ThreadMute.context_id).where(
                ThreadMute.account_id == viewer.id,
                ThreadMute.context_id.in_(_listed("context_ids")),
            ),
        ]
        if with_direct:
            parts.append(
                _part("participation", Participation.context_id, Participation.id).where(
                    Participation.account_id == viewer.id,
                    Participation.context_id.in_(_listed("direct_contexts")),
                )
            )
    return union_all(*parts)


def _hidden_reactors(viewer: Account | None, with_muted: bool = False) -> list[ColumnElement[bool]]:
    """Reactors the reader blocked, or muted (unless `with_muted`), are left out (SPEC 16)."""
    if viewer is None:
        return []
    conditions = [
        EmojiReaction.account_id.not_in(select(Block.target_id).where(Block.account_id == viewer.id))
    ]
    if not with_muted:
        muted = select(Mute.target_id).where(Mute.account_id == viewer.id, Mute.active())
        conditions.append(EmojiReaction.account_id.not_in(muted))
    return conditions


def statuses_json(statuses: Iterable[Status], viewer: Account | None) -> list[dict]:
    statuses = list(statuses)
    if not statuses:
        return []
    batch = _StatusBatch(statuses, viewer)
    return [batch.render(s) for s in statuses]


def status_json(status: Status, viewer: Account | None) -> dict:
    return statuses_json([status], viewer)[0]


def status_source_json(status: Status) -> dict:
    """StatusSource (GET /api/v1/statuses/:id/source): what the author typed."""
    return {
        "id": status.id,
        "text": status.source,
        "spoiler_text": status.spoiler_text,
        "content_type": status.content_type,
    }


# ---------------------------------------------------------------------------------------------
# Emoji reactions


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


# ---------------------------------------------------------------------------------------------
# Notifications and conversations


def notifications_json(notifications: Iterable[Notification], viewer: Account) -> list[dict]:
    notifications = list(notifications)
    reports = _reports_of(notifications)
    account_ids = (
        {n.from_account_id for n in notifications}
        | {n.target_account_id for n in notifications if n.target_account_id}
        | {r.target_id for r in reports.values()}
    )
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(account_ids)))}
    status_ids = [n.status_id for n in notifications if n.status_id]
    status_ids += [i for r in reports.values() for i in r.status_ids or []]
    statuses = {s.id: s for s in db.session.scalars(select(Status).where(Status.id.in_(status_ids)))}
    rendered = {d["id"]: d for d in statuses_json(statuses.values(), viewer)}
    data = [_notification(n, viewer, accounts, rendered, reports) for n in notifications]
    # with_muted lists notifications from muted accounts; Pleroma flags them (SPEC 20.4).
    muted = set(
        db.session.scalars(
            select(Mute.target_id).where(
                Mute.account_id == viewer.id, Mute.target_id.in_(account_ids), Mute.active()
            )
        )
    )
    for item, n in zip(data, notifications, strict=True):
        item["pleroma"]["is_muted"] = n.from_account_id in muted
    return data


def _reports_of(notifications: list[Notification]) -> dict[str, Report]:
    report_ids = {n.report_id for n in notifications if n.report_id}
    if not report_ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(Report).where(Report.id.in_(report_ids)))}


def _notification(
    n: Notification, viewer: Account, accounts: dict, statuses: dict, reports: dict | None = None
) -> dict:
    data: dict[str, Any] = {
        "id": n.id,
        "type": n.type,
        "created_at": iso(n.created_at),
        "account": account_json(accounts[n.from_account_id], viewer),
        "pleroma": {"is_seen": n.is_seen, "is_muted": False},
    }
    if n.status_id and n.status_id in statuses:
        data["status"] = statuses[n.status_id]
    if n.type == "move" and n.target_account_id in accounts:
        data["target"] = account_json(accounts[n.target_account_id], viewer)
    if n.type == "pleroma:emoji_reaction":
        data["emoji"] = n.emoji
        data["emoji_url"] = n.emoji_url
    if n.type == "pleroma:report" and reports and n.report_id in reports:
        data["report"] = _report(reports[n.report_id], viewer, accounts, statuses)
    return data


def notification_json(notification: Notification, viewer: Account) -> dict:
    return notifications_json([notification], viewer)[0]


def conversations_json(participations: Iterable[Participation], viewer: Account) -> list[dict]:
    participations = list(participations)
    part_ids = [p.id for p in participations]
    recipients: dict[str, list[Account]] = defaultdict(list)
    for pid, account in db.session.execute(
        select(ParticipationRecipient.participation_id, Account)
        .join(Account, Account.id == ParticipationRecipient.account_id)
        .where(ParticipationRecipient.participation_id.in_(part_ids))
        .order_by(Account.id)
    ).all():
        recipients[pid].append(account)
    last_ids = [p.last_status_id for p in participations if p.last_status_id]
    last = db.session.scalars(
        select(Status).where(and_(Status.id.in_(last_ids), Status.visibility_filter(viewer)))
    )
    rendered = {d["id"]: d for d in statuses_json(last, viewer)}
    return [_conversation(p, viewer, recipients[p.id], rendered) for p in participations]


def _conversation(p: Participation, viewer: Account, recipients: list[Account], statuses: dict) -> dict:
    others = [a for a in recipients if a.id != viewer.id] or [viewer]
    return {
        "id": p.id,
        "unread": p.is_unread,
        "accounts": [account_json(a, viewer) for a in others],
        "last_status": statuses.get(p.last_status_id) if p.last_status_id else None,
        "pleroma": {"recipients": [account_json(a, viewer) for a in recipients]},
    }


def conversation_json(participation: Participation, viewer: Account) -> dict:
    return conversations_json([participation], viewer)[0]


# ---------------------------------------------------------------------------------------------
# Scrobbles


def scrobbles_json(scrobbles: Iterable[Any], owner: Account, viewer: Account | None) -> list[dict]:
    """Listens of one account: the account is serialised once for the whole page."""
    account = account_json(owner, viewer)
    return [
        {
            "id": s.id,
            "account": account,
            "title": s.title,
            "artist": s.artist,
            "album": s.album,
            "length": s.length,
            "external_link": s.external_link,
            "created_at": iso(s.created_at),
        }
        for s in scrobbles
    ]


def scrobble_json(scrobble: Any, viewer: Account | None) -> dict:
    owner = db.session.get(Account, scrobble.account_id)
    assert owner is not None
    return scrobbles_json([scrobble], owner, viewer)[0]


# ---------------------------------------------------------------------------------------------
# Reports, bookmark folders, backups, push subscriptions, mascots


def report_json(report: Report, viewer: Account) -> dict:
    ids = {report.account_id, report.target_id}
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}
    reported = db.session.scalars(select(Status).where(Status.id.in_(report.status_ids or [])))
    statuses = {d["id"]: d for d in statuses_json(reported, viewer)}
    return _report(report, viewer, accounts, statuses)


def _report(report: Report, viewer: Account, accounts: dict, statuses: dict) -> dict:
    """Mastodon's Report plus the fields of Pleroma's report view (`account` is the reported
    account, `actor` the reporter), so both kinds of client find theirs."""
    reporter = accounts.get(report.account_id)
    target = accounts.get(report.target_id)
    shown = [i for i in report.status_ids or [] if i in statuses]
    return {
        "id": report.id,
        "action_taken": report.is_action_taken,
        "state": report.state,
        "comment": report.comment,
        "content": report.comment,
        "created_at": iso(report.created_at),
        "account": account_json(target, viewer) if target else None,
        "actor": account_json(reporter, viewer) if reporter else None,
        "status_ids": shown,
        "statuses": [statuses[i] for i in shown],
    }


def bookmark_folder_json(folder: BookmarkFolder) -> dict:
    return {"id": folder.id, "name": folder.name, "emoji": folder.emoji, "emoji_url": folder.emoji_url}


def backup_json(backup: Backup) -> dict:
    return {
        "id": backup.id,
        "content_type": backup.content_type,
        "file_size": backup.file_size,
        "processed": backup.is_processed,
        "inserted_at": iso(backup.created_at),
        "url": media_url(f"backups/{backup.file_name}"),
    }


def push_subscription_json(subscription: PushSubscription) -> dict:
    return {
        "id": str(subscription.id),
        "endpoint": subscription.endpoint,
        "alerts": dict(subscription.alerts or {}),
        "server_key": current_app.config["VAPID_PUBLIC_KEY"],
    }


def mascot_json(media: Media | None) -> dict:
    """The chosen mascot as an attachment, or Kenoma's own default image (SPEC 18.1)."""
    if media is not None:
        return attachment_json(media)
    url = f"{base_url()}/images/mascot.png"
    return {"id": "default-mascot", "url": url, "preview_url": url, "pleroma": {"mime_type": "image/png"}}


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
