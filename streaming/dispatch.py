"""Which of this process' connections hears an event, and what it reads (SPEC 25.1).

Whether a reader sees a status on a stream is the question its timeline answers: the stream's
timeline query from models.py (home, public, tag, list), narrowed to the one status. The payload
is the serializer's answer for that reader, with the `hide` filters of the stream's context (a
filtered status is not sent). Runs in the hub's thread, inside an app context; each batch reads
a fresh snapshot of the database, taken after the writer's commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import union
from sqlalchemy import union_all
from sqlalchemy.orm import aliased
from sqlalchemy.orm import join

import serializers
from models import BOUND_READERS
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
    and kind of reader (models.cached_statement), as building it costs more than running it.
    For BOUND_READERS, the ids of the readers (BOUND_READERS.values) whose timeline holds it."""
    query = _timeline(stream, viewer)
    if query is None:
        return None
    query = query.where(Status.id == bindparam("status_id"))
    if viewer is BOUND_READERS:
        return query.with_only_columns(BOUND_READERS.id).select_from(BOUND_READERS.beside(Status))
    return query.with_only_columns(Status.id).limit(1)


def check_list(sub: Subscription, account_id: str | None) -> None:
    """A list stream is its owner's only; anyone else's reads like a missing list."""
    found = db.session.get(List, sub.list_id)
    if found is None or found.account_id != account_id:
        raise StreamError("Record not found", "bad_topic", 404)


def _shown(
    status: Status, targets: list[Target], viewers: dict[str, Account]
) -> set[tuple[str | None, Subscription]]:
    """The (reader, subscription) pairs whose stream holds the status: one probe per stream (and
    tag) for all its signed-in readers at once, one for its anonymous ones, whatever their number;
    list streams apart (_lists_showing)."""
    readers: dict[tuple[str, str | None], set[str | None]] = defaultdict(set)
    for conn, sub in targets:
        if sub.stream != "list":
            readers[sub.stream, sub.tag].add(conn.account_id)
    passed: dict[tuple[str, str | None], set[str | None]] = {}
    for (stream, tag), ids in readers.items():
        signed = sorted(i for i in ids if i is not None)
        passed[stream, tag] = set(_probe(status, stream, tag, signed)) if signed else set()
        if None in ids and _probe(status, stream, tag, None):
            passed[stream, tag].add(None)
    lists = _lists_showing(status, {s.list_id for _, s in targets if s.stream == "list"}, viewers)
    return {
        (conn.account_id, sub)
        for conn, sub in targets
        if (
            lists.get(sub.list_id or "") == conn.account_id
            if sub.stream == "list"
            else conn.account_id in passed[sub.stream, sub.tag]
        )
    }


def _probe(status: Status, stream: str, tag: str | None, reader_ids: list[str] | None) -> list[str]:
    """The readers among `reader_ids` whose `stream` holds the status, all in one statement; for
    None (anonymous readers), [""] when it holds it for them."""
    query = cached_statement(_probe_statement, stream, BOUND_READERS if reader_ids is not None else None)
    if query is None:
        return []
    values = {"status_id": status.id, "tag": tag or ""}
    if reader_ids is None:
        return [""] if db.session.execute(query, values).first() is not None else []
    return list(db.session.scalars(query, values | BOUND_READERS.values(reader_ids)))


def _lists_showing(status: Status, list_ids: set[str | None], viewers: dict[str, Account]) -> dict[str, str]:
    """Owner by list id of the subscribed lists whose timeline holds the status, in one
    statement for all of them (_lists_statement); a list whose owner reads no stream here (or is
    gone) is left out."""
    ids = sorted(i for i in list_ids if i is not None)
    if not ids:
        return {}
    query = cached_statement(_lists_statement)
    rows = db.session.execute(query, {"status_id": status.id, "list_ids": orjson.dumps(ids).decode()})
    return {list_id: owner for list_id, owner in rows if owner in viewers}


_LISTED = aliased(List, name="bound_list")


class _ListOwner:
    """The owner of each list row of _lists_statement, as the viewer of its timeline (the
    builders read only `viewer.id`): a bare column name, as BOUND_READERS.id is, so subqueries
    however deeply nested refer to the row."""

    id = literal_column("bound_list.account_id", String(18))


def _lists_statement() -> Any:
    """The lists among `list_ids` (a JSON array) whose timeline holds the status bound as
    `status_id`: List.timeline_of evaluated for every list row, one member per replies policy
    (the policy changes the SQL), rows (list id, owner id)."""
    owner = _ListOwner()
    list_id = literal_column("bound_list.id", String(18))
    listed = select(column("value")).select_from(func.json_each(bindparam("list_ids", type_=String)))
    parts = []
    for policy in ("list", "followed", "none"):
        kind = (
            _LISTED.replies_policy.not_in(("list", "followed"))
            if policy == "none"
            else _LISTED.replies_policy == policy
        )
        parts.append(
            List.timeline_of(list_id, owner.id, policy, owner)
            .with_only_columns(_LISTED.id, _LISTED.account_id)
            .select_from(join(_LISTED, Status, true()))
            .where(_LISTED.id.in_(listed), kind, Status.id == bindparam("status_id"))
        )
    return union_all(*parts)


def _status_payloads(event: str) -> Callable[[dict, list[StreamConnection]], None]:
    def handle(item: dict, connections: list[StreamConnection]) -> None:
        status = db.session.get(Status, item["id"])
        targets = _targets(connections, STATUS_STREAMS)
        if status is None or not targets or status.visibility == "direct":
            return
        homes = _home_candidates(status, {c.account_id for c, s in targets if s.stream == "user"} - {None})
        tags = _tags(status, targets)
        # Readers whose stream cannot hold the status are left out before any row is loaded.
        targets = [
            (c, s)
            for c, s in targets
            if (s.stream != "user" or c.account_id in homes) and (s.tag is None or s.tag in tags)
        ]
        viewers = _viewers(targets)
        targets = [(c, s) for c, s in targets if c.account_id is None or c.account_id in viewers]
        shown = _shown(status, targets, viewers)
        wanted = {
            (c.account_id, CONTEXTS.get(s.stream, "public")) for c, s in targets if (c.account_id, s) in shown
        }
        rendered = _render(status, wanted, viewers)
        for conn, sub in targets:
            payload = rendered.get((conn.account_id, CONTEXTS.get(sub.stream, "public")))
            if payload is not None and (conn.account_id, sub) in shown:
                conn.send_event(sub, event, payload)

    return handle


def _tags(status: Status, targets: list[Target]) -> set[str]:
    """The status' tags, when a hashtag stream is subscribed: only those streams can hold it."""
    if not any(s.tag is not None for _, s in targets):
        return set()
    return set(db.session.scalars(select(StatusTag.name).where(StatusTag.status_id == status.id)))


def _render(
    status: Status, wanted: set[tuple[str | None, str]], viewers: dict[str, Account]
) -> dict[tuple[str | None, str], str | None]:
    """The payload for each (reader, filter context): the serializer's answer for that reader,
    for all signed-in readers at once (statuses_json_by_reader), None when a filter hides it."""
    signed = [(viewers[reader], context) for reader, context in sorted(wanted, key=str) if reader is not None]
    found = serializers.statuses_json_by_reader([status], signed) if signed else {}
    texts: dict[int, str | None] = {}  # a reader's contexts may share one rendered list
    rendered: dict[tuple[str | None, str], str | None] = {}
    for key, items in found.items():
        if id(items) not in texts:
            texts[id(items)] = _one(items)
        rendered[key] = texts[id(items)]
    for reader, context in wanted:
        if reader is None:
            rendered[None, context] = _one(serializers.statuses_json([status], None, context))
    return rendered


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
    seeing = _seeing(status, sorted(participations.keys() & viewers.keys()))
    found = serializers.conversation_json_by_reader([(participations[r], viewers[r]) for r in seeing])
    payloads = {reader: orjson.dumps(data).decode() for reader, data in found.items()}
    for conn, sub in targets:
        if conn.account_id in payloads:
            conn.send_event(sub, "conversation", payloads[conn.account_id])


def _seeing(status: Status, reader_ids: list[str]) -> list[str]:
    """The readers who may see the status (Status.visibility_filter), asked for all at once."""
    if not reader_ids:
        return []
    query = cached_statement(_seeing_statement)
    values = {"status_id": status.id} | BOUND_READERS.values(reader_ids)
    return sorted(db.session.scalars(query, values))


def _seeing_statement() -> Select:
    return (
        select(BOUND_READERS.id)
        .select_from(BOUND_READERS.beside(Status))
        .where(Status.id == bindparam("status_id"), Status.visibility_filter(BOUND_READERS))
    )


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
