"""Which of this process' connections hears an event, and what it reads (SPEC 25.1).

Whether a reader sees a status on a stream is the question its timeline answers: the stream's
timeline query from models.py (home, public, tag, list), narrowed to the one status. The payload
is the serializer's answer for that reader, with the `hide` filters of the stream's context (a
filtered status is not sent). Runs in the hub's thread, inside an app context; each batch reads
a fresh snapshot of the database, taken after the writer's commit."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import union

import serializers
from models import BOUND_VIEWER
from models import Account
from models import Chat
from models import Follow
from models import List
from models import ListAccount
from models import Notification
from models import Participation
from models import Status
from models import StatusMention
from models import StatusTag
from models import TagFollow
from models import TimelineFilters
from models import cached_statement
from models import db
from streaming.connections import StreamConnection
from streaming.streams import StreamError
from streaming.streams import Subscription

Target = tuple[StreamConnection, Subscription]
STATUS_STREAMS = ("user", "public", "public:local", "public:remote", "hashtag", "hashtag:local", "list")
PUBLIC_KINDS = ("public", "public:local", "public:remote", "hashtag", "hashtag:local")
NOTIFICATION_STREAMS = ("user", "user:notification")
# The filter context a stream's statuses are read in (Mastodon: lists read like home).
CONTEXTS = {"user": "home", "list": "home"}


def dispatch(events: list[dict], connections: Iterable[StreamConnection]) -> None:
    live = [c for c in connections if not c.closed and c.subscriptions]
    if not live:
        return
    for item in events:
        handler = HANDLERS.get(item.get("kind", ""))
        if handler is not None:
            handler(item, live)


def _targets(connections: list[StreamConnection], streams: tuple[str, ...]) -> list[Target]:
    return [(c, s) for c in connections for s in c.subscriptions if s.stream in streams]


def _viewers(targets: list[Target]) -> dict[str, Account]:
    ids = {c.account_id for c, _ in targets if c.account_id is not None}
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}


def _timeline(stream: str, viewer: Any) -> Select | None:
    """The stream's timeline for a reader (BOUND_VIEWER or None), or None when it has none
    here; a hashtag stream's tag is the bind parameter `tag`."""
    local, remote = stream.endswith(":local"), stream.endswith(":remote")
    filters = TimelineFilters(local=local, remote=remote)
    if stream.startswith("public"):
        return Status.public_timeline(viewer, filters)
    if stream.startswith("hashtag"):
        return Status.tag_timeline(viewer, filters, [bindparam("tag")])
    if viewer is not None and stream == "user":
        return Status.home_timeline(viewer, TimelineFilters())
    return None


def _probe_statement(stream: str, viewer: Any) -> Select | None:
    """The stream's timeline narrowed to the status bound as `status_id`; built once per stream
    and kind of reader (models.cached_statement), as building it costs more than running it."""
    query = _timeline(stream, viewer)
    if query is None:
        return None
    return query.where(Status.id == bindparam("status_id")).with_only_columns(Status.id).limit(1)


def check_list(sub: Subscription, account_id: str | None) -> None:
    """A list stream is its owner's only; anyone else's reads like a missing list."""
    found = db.session.get(List, sub.list_id)
    if found is None or found.account_id != account_id:
        raise StreamError("Record not found", "bad_topic", 404)


def _shows(status: Status, sub: Subscription, viewer: Account | None) -> bool:
    if sub.stream == "list":
        return _list_shows(status, sub, viewer)
    query = cached_statement(_probe_statement, sub.stream, BOUND_VIEWER if viewer is not None else None)
    if query is None:
        return False
    values = {"status_id": status.id, "tag": sub.tag or ""}
    if viewer is not None:
        values["viewer_id"] = viewer.id
    return db.session.execute(query, values).first() is not None


def _list_shows(status: Status, sub: Subscription, viewer: Account | None) -> bool:
    """A list's timeline depends on the list row (its members, its replies policy)."""
    found = db.session.get(List, sub.list_id)
    if viewer is None or found is None or found.account_id != viewer.id:
        return False
    probe = found.timeline(viewer).where(Status.id == status.id).with_only_columns(Status.id).limit(1)
    return db.session.scalar(probe) is not None


def _status_payloads(event: str) -> Callable[[dict, list[StreamConnection]], None]:
    def handle(item: dict, connections: list[StreamConnection]) -> None:
        status = db.session.get(Status, item["id"])
        targets = _targets(connections, STATUS_STREAMS)
        if status is None or not targets or status.visibility == "direct":
            return
        homes = _home_candidates(status, {c.account_id for c, s in targets if s.stream == "user"} - {None})
        # Readers whose home cannot hold the status are left out before any row is loaded.
        targets = [(c, s) for c, s in targets if s.stream != "user" or c.account_id in homes]
        viewers = _viewers(targets)
        rendered: dict[tuple[str | None, str], str | None] = {}
        # One probe per reader and stream, however many connections the reader holds.
        shown: dict[tuple[str | None, Subscription], bool] = {}
        for conn, sub in targets:
            viewer = viewers.get(conn.account_id) if conn.account_id else None
            if conn.account_id and viewer is None:
                continue  # the account is gone
            if (conn.account_id, sub) not in shown:
                shown[conn.account_id, sub] = _shows(status, sub, viewer)
            if not shown[conn.account_id, sub]:
                continue
            context = CONTEXTS.get(sub.stream, "public")
            key = (conn.account_id, context)
            if key not in rendered:
                rendered[key] = _one(serializers.statuses_json([status], viewer, context))
            if rendered[key] is not None:
                conn.send_event(sub, event, rendered[key])

    return handle


def _home_candidates(status: Status, readers: set[str | None]) -> set[str | None]:
    """The readers whose home timeline could hold the status, asked for all of them at once:
    home_timeline's sources (the author, its followers, the addressed, followers of one of its
    tags). Only a necessary condition, so that the readers with nothing to do with the status
    cost no probe; the timeline probe (_shows) still decides for each candidate."""
    if not readers:
        return set()
    ids = sorted(r for r in readers if r is not None)
    followers = select(Follow.follower_id).where(
        Follow.followee_id == status.account_id, Follow.follower_id.in_(ids), Follow.is_pending.is_(False)
    )
    addressed = select(StatusMention.account_id).where(
        StatusMention.status_id == status.id, StatusMention.account_id.in_(ids)
    )
    tagged = (
        select(TagFollow.account_id)
        .join(StatusTag, StatusTag.name == TagFollow.name)
        .where(StatusTag.status_id == status.id, TagFollow.account_id.in_(ids))
    )
    found: set[str | None] = set(db.session.scalars(union(followers, addressed, tagged)))
    return found | ({status.account_id} & set(ids))


def _one(items: list[dict]) -> str | None:
    return orjson.dumps(items[0]).decode() if items else None


def _notification(item: dict, connections: list[StreamConnection]) -> None:
    notification = db.session.get(Notification, item["id"])
    if notification is None:
        return
    targets = [
        t for t in _targets(connections, NOTIFICATION_STREAMS) if t[0].account_id == notification.account_id
    ]
    if not targets:
        return
    viewer = db.session.get(Account, notification.account_id)
    if viewer is None:
        return
    # The list endpoint's rules (blocks, domain blocks, mutes, muted threads) decide; every type
    # is streamed, those the list leaves out by default (chat mentions, reports) too.
    listed = Notification.for_account(viewer, types=[notification.type]).where(
        Notification.id == notification.id
    )
    if db.session.scalar(listed.with_only_columns(Notification.id)) is None:
        return
    payload = _one(serializers.notifications_json([notification], viewer, "notifications"))
    if payload is not None:
        for conn, sub in targets:
            conn.send_event(sub, "notification", payload)


def _conversation(item: dict, connections: list[StreamConnection]) -> None:
    status = db.session.get(Status, item["id"])
    targets = _targets(connections, ("direct",))
    if status is None or not targets:
        return
    readers = {c.account_id for c, _ in targets if c.account_id}
    participations = {
        p.account_id: p
        for p in db.session.scalars(
            select(Participation).where(
                Participation.context_id == status.context_id, Participation.account_id.in_(readers)
            )
        )
    }
    viewers = _viewers(targets)
    payloads: dict[str, str] = {}
    for conn, sub in targets:
        participation = participations.get(conn.account_id or "")
        viewer = viewers.get(conn.account_id or "")
        if participation is None or viewer is None or not status.is_visible_to(viewer):
            continue
        if viewer.id not in payloads:
            payloads[viewer.id] = orjson.dumps(serializers.conversation_json(participation, viewer)).decode()
        conn.send_event(sub, "conversation", payloads[viewer.id])


def _delete(item: dict, connections: list[StreamConnection]) -> None:
    """The row is gone: who had it is decided from what was read before the delete. Only the
    id goes out, so a reader that never had the status learns nothing of it."""
    targets = _targets(connections, (*STATUS_STREAMS, "direct"))
    if not targets:
        return
    author, visibility = item["account_id"], item["visibility"]
    readers = {c.account_id for c, _ in targets if c.account_id}
    followers = set(
        db.session.scalars(
            select(Follow.follower_id).where(
                Follow.followee_id == author, Follow.follower_id.in_(readers), Follow.is_pending.is_(False)
            )
        )
    )
    listing = set(
        db.session.scalars(
            select(List.id)
            .join(ListAccount, ListAccount.list_id == List.id)
            .where(ListAccount.account_id == author, List.account_id.in_(readers))
        )
    )
    addressed = set(item.get("addressed") or [])
    for conn, sub in targets:
        reader = conn.account_id
        if sub.stream in PUBLIC_KINDS:
            hears = visibility in ("public", "local")
        elif sub.stream == "list":
            hears = sub.list_id in listing and visibility != "direct"
        elif sub.stream == "direct":
            hears = visibility == "direct" and (reader == author or reader in addressed)
        else:
            hears = (
                reader == author or reader in addressed or (visibility != "direct" and reader in followers)
            )
        if hears:
            conn.send_event(sub, "delete", item["id"])


def _filters_changed(item: dict, connections: list[StreamConnection]) -> None:
    for conn, sub in _targets(connections, ("user",)):
        if conn.account_id == item["account_id"]:
            conn.send_event(sub, "filters_changed", None)


def _chat(item: dict, connections: list[StreamConnection]) -> None:
    chat = db.session.get(Chat, item["id"])
    if chat is None:
        return
    targets = [t for t in _targets(connections, ("user",)) if t[0].account_id == chat.account_id]
    viewer = db.session.get(Account, chat.account_id) if targets else None
    if viewer is None:
        return
    payload = orjson.dumps(serializers.chat_json(chat, viewer)).decode()
    for conn, sub in targets:
        conn.send_event(sub, "pleroma:chat_update", payload)


def _follow_relationship(item: dict, connections: list[StreamConnection]) -> None:
    """Pleroma's follow_relationships_update, to the follower's user stream."""
    targets = [t for t in _targets(connections, ("user",)) if t[0].account_id == item["follower_id"]]
    if not targets:
        return
    accounts = {
        a.id: a
        for a in db.session.scalars(
            select(Account).where(Account.id.in_((item["follower_id"], item["followee_id"])))
        )
    }
    if len(accounts) < 2:
        return
    payload = orjson.dumps(
        {
            "state": item["state"],
            "follower": _counts(accounts[item["follower_id"]]),
            "following": _counts(accounts[item["followee_id"]]),
        }
    ).decode()
    for conn, sub in targets:
        conn.send_event(sub, "pleroma:follow_relationships_update", payload)


def _counts(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "follower_count": account.followers_count,
        "following_count": account.following_count,
    }


HANDLERS: dict[str, Callable[[dict, list[StreamConnection]], None]] = {
    "status": _status_payloads("update"),
    "status.update": _status_payloads("status.update"),
    "notification": _notification,
    "conversation": _conversation,
    "delete": _delete,
    "filters_changed": _filters_changed,
    "chat": _chat,
    "follow_relationship": _follow_relationship,
}
