"""Posting a status: rendering, addressing, threads, conversations, counters and notifications."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from typing import Any
from typing import NamedTuple

from flask import current_app
from sqlalchemy import BindParameter
from sqlalchemy import ColumnElement
from sqlalchemy import Exists
from sqlalchemy import ScalarSelect
from sqlalchemy import Update
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import literal_column
from sqlalchemy import null
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.visitors import InternalTraversal

import formatting
import jobs
from errors import ApiError
from models import Account
from models import Context
from models import Follow
from models import IdempotencyKey
from models import Media
from models import Participation
from models import ParticipationRecipient
from models import Status
from models import StatusMention
from models import StatusTag
from models import Subscription
from models import as_loaded
from models import cached_statement
from models import commit_keeping_loaded
from models import db
from models import new_flake_id
from models import utcnow
from serializers.statuses import KnownFacts
from services import events
from services.accounts import mention_resolver
from services.notifications import add_notifications
from services.notifications import notification_values
from services.polls import NewPoll
from services.polls import RemotePoll
from services.polls import check_new_poll
from services.polls import insert_poll
from services.polls import insert_remote_poll
from services.polls import schedule_end
from streaming import events as stream_events

CONTENT_TYPES = ("text/plain", "text/markdown", "text/html", "text/bbcode")
QUOTABLE = ("public", "unlisted")
# ISO 639-1 codes: Pleroma accepts exactly these as `language` (Pleroma.ISO639.valid_alpha2?).
LANGUAGES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy
    hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li
    ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa
    pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th
    ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()
)


@dataclass
class NewStatus:
    """What a client asked to post (validated shapes; business rules are checked here)."""

    text: str = ""
    visibility: str | None = None
    content_type: str = "text/plain"
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    to: list[str] | None = None
    quote_id: str | None = None
    expires_in: int | None = None
    app_name: str | None = None
    app_website: str | None = None
    idempotency_key: str | None = None
    # Pleroma: reply inside a direct conversation, addressing exactly its recipients (SPEC 15).
    conversation: Participation | None = None
    poll: NewPoll | None = None


class Posted(NamedTuple):
    status: Status
    # What the answer's extras statement would find, when the writer knows all of it.
    known: KnownFacts | None


def post_status(author: Account, new: NewStatus, commit: bool = True) -> Status:
    return post(author, new, commit).status


def post(author: Account, new: NewStatus, commit: bool = True, adopt: bool = True) -> Posted:
    """Post a status. Every read comes first (checks, rendering, addressing, who to notify);
    then the rows go in with Core statements: SQLite writers queue for one lock, held here for
    the inserts and the commit only. The Status is written with Core, then joins the session
    as if loaded, with the values it was built with; `adopt=False` for a caller that only
    renders it (the session's cascade walk costs ~8% of a POST)."""
    earlier = _idempotent_hit(author, new.idempotency_key)
    if earlier is not None:
        return Posted(earlier, None)
    parent = _parent(author, new.in_reply_to_id)
    media = owned_media(author, new.media_ids)
    check_text(new, media)
    if new.poll is not None:
        check_new_poll(new.poll, bool(media))
    visibility = _visibility(author, new, parent)
    _check_quote(author, new.quote_id)
    rendered = render_text(new)
    status = _build(author, new, parent, visibility, rendered)
    audience = _audience(status, author, new, parent, rendered)
    notifications = _notifications(status, author, list(audience), [])
    federates = current_app.config["FEDERATING"] and visibility != "local"
    # The first insert takes the write lock (no BEGIN IMMEDIATE: nothing is read under it that a
    # concurrent writer could make stale), waiting on busy_timeout while another writer holds it.
    subscribers, remote_follower = _insert(status, author, parent, audience, rendered.tags, federates)
    remote = _remote_audience(status, parent, audience, rendered, remote_follower)
    _attach(status, media)
    poll_id = insert_poll(status, new.poll) if new.poll is not None else None
    notifications += _notifications(status, author, [], subscribers, list(audience))
    if notifications:
        add_notifications(notifications)
    if visibility == "direct":
        update_participations(status, author, list(audience), new.conversation)
        stream_events.conversation_updated(status.id)
    stream_events.status_created(status.id)
    if new.idempotency_key:
        db.session.add(IdempotencyKey(account_id=author.id, key=new.idempotency_key, status_id=status.id))
    events.emit(events.status_posted, status_id=status.id, local=True, remote_audience=remote)
    if commit:
        commit_keeping_loaded()
        if status.expires_at is not None:  # the job function lives in services/interactions.py
            jobs.enqueue("expire_status", delay=new.expires_in, status_id=status.id)
        if poll_id is not None and new.poll is not None:
            schedule_end(poll_id, new.poll.expires_in)
    if adopt:
        _adopt(status)
    return Posted(status, _known_facts(status, new, parent, media, audience, rendered))


def _known_facts(
    status: Status,
    new: NewStatus,
    parent: Status | None,
    media: list[Media],
    audience: dict[str, bool],
    rendered: formatting.Rendered,
) -> KnownFacts | None:
    """The new status' mentions and tags as the answer shows them, when that is all the extras
    statement could find (KnownFacts says when); None: the answer asks the database."""
    if parent or new.conversation or status.visibility == "direct" or media or new.poll or new.quote_id:
        return None
    targets = {target.account_id: target for target in rendered.mentions}
    mentions = []
    for account_id, listed in audience.items():
        target = targets.get(account_id)
        if target is None:  # addressed with `to`: the mention row knows more than the text
            return None
        if listed:
            domain = target.acct.partition("@")[2] or None  # acct is nickname@domain when remote
            mentions.append((account_id, target.nickname, domain, target.ap_id))
    return KnownFacts(sorted(mentions), sorted(rendered.tags))


def _idempotent_hit(author: Account, key: str | None) -> Status | None:
    if not key:
        return None
    row = db.session.get(IdempotencyKey, (author.id, key))
    if row is None:
        return None
    if row.created_at < utcnow() - timedelta(hours=1):
        # Expired: forget it, so this post can store the key again.
        db.session.delete(row)
        db.session.flush()
        return None
    return db.session.get(Status, row.status_id)


def _parent(author: Account, in_reply_to_id: str | None) -> Status | None:
    if not in_reply_to_id:
        return None
    parent = db.session.get(Status, in_reply_to_id)
    if parent is None or parent.is_reblog or not parent.is_visible_to(author):
        raise ApiError(404, "Record not found")
    return parent


def owned_media(author: Account, media_ids: list[str], editing: Status | None = None) -> list[Media]:
    """The author's uploads among `media_ids`, in the order given; an edit may also keep those
    already on the edited status, but takes none attached to another one."""
    if not media_ids:
        return []
    # Unknown ids and other accounts' uploads are ignored (SPEC 4).
    query = select(Media).where(
        Media.id.in_(media_ids),
        Media.account_id == author.id,
        Media.scheduled_status_id.is_(None),  # reserved for a scheduled status
    )
    if editing is not None:
        query = query.where(or_(Media.status_id.is_(None), Media.status_id == editing.id))
    found = db.session.scalars(query).all()
    order = {mid: i for i, mid in enumerate(media_ids)}
    return sorted(found, key=lambda m: order[m.id])


def render_text(new: NewStatus) -> formatting.Rendered:
    """The status text as HTML, with its mentions, tags and custom emoji (posting and editing)."""
    return formatting.render_status(
        new.text, new.content_type, current_app.config["BASE_URL"], mention_resolver()
    )


def stored_content_type(content_type: str) -> str:
    return content_type if content_type in CONTENT_TYPES else "text/plain"


def check_text(new: NewStatus, media: list[Media]) -> None:
    """The rules a status' text obeys, when posted and when edited (422 otherwise)."""
    if not new.text.strip() and not media:
        raise ApiError(422, "Cannot post an empty status without attachments")
    if len(new.text) + len(new.spoiler_text) > current_app.config["MAX_TOOT_CHARS"]:
        raise ApiError(422, "The status is over the character limit")
    if new.expires_in is not None and new.expires_in < 3600:
        raise ApiError(422, "Expiry date is too soon")
    if new.language is not None and new.language not in LANGUAGES:
        raise ApiError(422, "Invalid language")


def _check_quote(author: Account, quote_id: str | None) -> None:
    if not quote_id:
        return
    quoted = db.session.get(Status, quote_id)
    if quoted is None or quoted.is_reblog or not quoted.is_visible_to(author):
        raise ApiError(422, "You can't quote a status that doesn't exist")
    if quoted.visibility not in QUOTABLE:
        raise ApiError(422, "You can only quote public or unlisted statuses")


def _visibility(author: Account, new: NewStatus, parent: Status | None) -> str:
    if new.conversation is not None:
        if new.visibility not in (None, "direct"):
            raise ApiError(422, "The message visibility must be direct")
        return "direct"
    if new.visibility:
        if new.visibility.startswith("list:"):
            raise ApiError(422, "List visibility is not supported")
        return new.visibility
    if parent is not None and parent.visibility == "direct":
        return "direct"
    return author.default_scope or "public"


def _build(
    author: Account, new: NewStatus, parent: Status | None, visibility: str, rendered: formatting.Rendered
) -> Status:
    """The new status with every column set (nothing is left to defaults or a reload)."""
    now = utcnow()
    context = parent.context if parent else _conversation_context(new.conversation)
    return as_loaded(
        Status,
        dict(
            id=new_flake_id(),
            account_id=author.id,
            account=author,
            uri=f"{current_app.config['BASE_URL']}/objects/{uuid.uuid4()}",
            source=new.text,
            content=rendered.html,
            content_type=stored_content_type(new.content_type),
            spoiler_text=formatting.strip_tags(new.spoiler_text),  # plain text: no markup survives
            visibility=visibility,
            is_sensitive=new.sensitive,
            language=new.language,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            reblog_of_id=None,
            quote_id=new.quote_id,
            context_id=context.id,
            context=context,
            app_name=new.app_name,
            app_website=new.app_website,
            emojis=rendered.shortcodes,
            url=None,  # local: its page is /notice/<id>
            emoji_urls={},
            created_at=now,
            edited_at=None,
            expires_at=now + timedelta(seconds=new.expires_in) if new.expires_in else None,
            pinned_at=None,
            favourites_count=0,
            reblogs_count=0,
            replies_count=0,
        ),
    )


def store_remote(
    status: Status,
    parent: Status | None,
    audience: dict[str, bool],
    tags: list[str],
    media: list[Media],
    poll: RemotePoll | None = None,
) -> Status:
    """Store a status that arrived from another server (SPEC 24.4), built by federation: the
    same rows, counters, notifications and conversation as a local post, then commit."""
    author = status.account
    notifications = _notifications(status, author, list(audience), [])
    subscribers = _insert(status, author, parent, audience, tags)[0]
    notifications += _notifications(status, author, [], subscribers, list(audience))
    if poll is not None:
        insert_remote_poll(status, poll)
    for position, item in enumerate(media):
        item.status_id, item.position = status.id, position
        db.session.add(item)
    if notifications:
        add_notifications(notifications)
    if status.visibility == "direct":
        update_participations(status, author, list(audience))
        stream_events.conversation_updated(status.id)
    stream_events.status_created(status.id)
    events.emit(events.status_posted, status_id=status.id, local=False)
    commit_keeping_loaded()
    _adopt(status)
    return status


def _conversation_context(conversation: Participation | None) -> Context:
    # A post into a Pleroma conversation joins that conversation's thread.
    if conversation is not None:
        context = db.session.get(Context, conversation.context_id)
        if context is not None:
            return context
    # A new thread, written with the status (as_loaded: the constructor's events cost more).
    return as_loaded(Context, {"id": None, "uri": uuid.uuid4().hex})


def _audience(
    status: Status, author: Account, new: NewStatus, parent: Status | None, rendered: formatting.Rendered
) -> dict[str, bool]:
    """Who the status is addressed to (author excluded), each with whether `mentions` lists it."""
    visible: dict[str, bool] = {}
    if new.conversation is not None:
        # Inside a Pleroma conversation the stored recipients are the audience, not the mentions.
        mentioned = {m.account_id for m in rendered.mentions}
        for account_id in conversation_recipients(new.conversation):
            visible[account_id] = account_id in mentioned
    elif new.to is not None:  # Pleroma explicit addressing replaces the mentions of the text
        resolve = mention_resolver()
        for nick in new.to:
            name, _, host = nick.lstrip("@").partition("@")
            target = resolve(name, host or None)
            if target:
                visible[target.account_id] = True
    else:
        visible.update({m.account_id: True for m in rendered.mentions})
    if parent is not None and _reply_addresses_parent(status.visibility, parent):
        visible.setdefault(parent.account_id, False)
    visible.pop(author.id, None)
    return visible


def _reply_addresses_parent(visibility: str, parent: Status) -> bool:
    # Pleroma: open replies address the parent's author; private/direct ones only inside a DM.
    if visibility in ("public", "unlisted", "local"):
        return True
    return parent.visibility == "direct"


# Counters move with SQL expressions so two concurrent posts cannot lose an increment; the new
# values come back with the update, so the loaded author and parent stay true after the commit.
def _count_post(subscribers: str | None, remote_followers: bool) -> Update:
    """The author's counter update, returning with the new values who hears of the post (see
    _subscribers; `subscribers` is "all", "private" or None) and whether a remote account
    follows the author: one statement, not two. Read under the write lock, so the subscribers'
    notification checks (rare: few subscribe) follow the first write."""
    author_id = bindparam("author_id")
    heard = _Qualified(_subscribers(author_id, subscribers == "private")) if subscribers else null()
    remote = _Qualified(_has_remote_follower(author_id)) if remote_followers else false()
    return (
        update(Account)
        .where(Account.id == author_id)
        .values(statuses_count=Account.statuses_count + 1, last_status_at=bindparam("posted_at"))
        .returning(Account.statuses_count, Account.last_status_at, heard, remote)
    )


_COUNT_REPLY = (
    update(Status)
    .where(Status.id == bindparam("parent_id"))
    .values(replies_count=Status.replies_count + 1)
    .returning(Status.replies_count)
)
_STATUS_COLUMNS = tuple(column.key for column in Status.__table__.columns)
_ADD_CONTEXT = insert(Context)
_ADD_STATUS = insert(Status)
_ADD_MENTION = insert(StatusMention)
_ADD_TAG = insert(StatusTag)


def _insert(
    status: Status,
    author: Account,
    parent: Status | None,
    audience: dict[str, bool],
    tags: list[str],
    remote_followers: bool = False,
) -> tuple[list[str], bool]:
    """Write the status' rows; returns its subscribers (every one, addressed or not) and
    whether the author has a remote follower (asked only with `remote_followers`)."""
    connection = db.session.connection()
    if status.context_id is None:  # a new thread
        added = connection.execute(_ADD_CONTEXT, {"uri": status.context.uri})
        status.context.id = status.context_id = added.inserted_primary_key[0]
    connection.execute(_ADD_STATUS, {key: getattr(status, key) for key in _STATUS_COLUMNS})
    # Direct posts reach only the addressed: no subscriber hears of them.
    heard = {"direct": None, "private": "private"}.get(status.visibility, "all")
    count = cached_statement(_count_post, heard, remote_followers)
    counted = connection.execute(count, {"author_id": author.id, "posted_at": status.created_at}).one()
    set_committed_value(author, "statuses_count", counted[0])
    set_committed_value(author, "last_status_at", counted[1])
    if parent is not None:
        replies = connection.execute(_COUNT_REPLY, {"parent_id": parent.id}).scalar_one()
        set_committed_value(parent, "replies_count", replies)
    if audience:
        mentions = [{"status_id": status.id, "account_id": a, "is_visible": v} for a, v in audience.items()]
        connection.execute(_ADD_MENTION, mentions)
    if tags:
        connection.execute(_ADD_TAG, [{"status_id": status.id, "name": name} for name in tags])
    return (counted[2].split(",") if counted[2] else []), bool(counted[3])


def _adopt(status: Status) -> None:
    """Put the status written with Core into the session as if loaded (after the commit, so it
    stays as built): callers may change it like any other row, and nothing is loaded again."""
    if inspect(status.context).transient:
        make_transient_to_detached(status.context)
        db.session.add(status.context)
    make_transient_to_detached(status)
    db.session.add(status)


def _attach(status: Status, media: list[Media]) -> None:
    for position, item in enumerate(media):
        item.status_id = status.id
        item.position = position


def _notifications(
    status: Status, author: Account, addressed: list[str], subscribers: list[str], skip: Collection[str] = ()
) -> list[dict]:
    """The `mention` notifications of a new status (values for ADD_NOTIFICATION): to everyone
    it addresses, and to subscribers who may read it (Pleroma, SPEC 13), but none to `skip`
    (the addressed, notified before the write) or twice to anyone."""
    recipients = addressed + [a for a in subscribers if a not in addressed and a not in skip]
    found = (notification_values(a, author, "mention", status=status) for a in recipients)
    return [values for values in found if values is not None]


class _Qualified(ColumnElement):
    """A subquery in RETURNING, its columns named with their tables: SQLAlchemy writes the
    columns of RETURNING bare, and those of its subqueries with them, where `id` is ambiguous."""

    inherit_cache = True
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]

    def __init__(self, inner: ColumnElement) -> None:
        self.inner = inner
        self.type = inner.type


@compiles(_Qualified)
def _qualified(element: _Qualified, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.inner, **{**kw, "include_table": True})


def _subscribers(author_id: BindParameter, followers_only: bool) -> ScalarSelect:
    """Subscribers hear of every new post they may read: private ones only subscribers who
    follow (direct posts, only the addressed: not asked). Their ids joined with commas (flake
    ids have none), NULL for nobody: a column the counter update returns."""
    query = select(func.group_concat(Subscription.account_id, literal_column("','"))).where(
        Subscription.target_id == author_id
    )
    if followers_only:
        query = query.where(
            exists().where(
                Follow.follower_id == Subscription.account_id,
                Follow.followee_id == author_id,
                Follow.is_pending.is_(False),
            )
        )
    return query.scalar_subquery()


def _has_remote_follower(author_id: BindParameter) -> Exists:
    """Whether a remote account follows the author (accepted), as
    federation.outbox.has_remote_audience asks it."""
    follower = aliased(Account)
    return exists().where(
        Follow.followee_id == author_id,
        Follow.is_pending.is_(False),
        follower.id == Follow.follower_id,
        follower.domain.is_not(None),
    )


def _remote_audience(
    status: Status,
    parent: Status | None,
    audience: dict[str, bool],
    rendered: formatting.Rendered,
    remote_follower: bool,
) -> bool | None:
    """Whether federation.outbox has anywhere to send this local post (a remote follower, or a
    remote account addressed), decided with the reads before the write rather than with a
    statement after the commit. None when an addressed account's server is not known here (a
    conversation's or `to` recipients, a direct post): the outbox then asks the database."""
    if status.visibility == "local":
        return False
    if status.visibility == "direct":
        return None
    domains = {target.account_id: target.acct.partition("@")[2] for target in rendered.mentions}
    if parent is not None:
        domains.setdefault(parent.account_id, parent.account.domain or "")
    if any(account_id not in domains for account_id in audience):
        return None
    return remote_follower or any(domains[account_id] for account_id in audience)


# ---------------------------------------------------------------------------------------------
# Conversations (direct-message threads)


def conversation_recipients(participation: Participation) -> list[str]:
    return list(
        db.session.scalars(
            select(ParticipationRecipient.account_id).where(
                ParticipationRecipient.participation_id == participation.id
            )
        )
    )


def update_participations(
    status: Status, author: Account, addressed: list[str], conversation: Participation | None = None
) -> None:
    """Every party of a direct status gets (or keeps) a participation in its thread; the thread
    turns unread for everyone but the author and moves to the top of their lists."""
    parties = [author.id, *addressed]
    existing = {
        p.account_id: p
        for p in db.session.scalars(
            select(Participation).where(
                Participation.context_id == status.context_id, Participation.account_id.in_(parties)
            )
        )
    }
    activity = new_flake_id()
    for account_id in parties:
        participation = existing.get(account_id)
        if participation is None:
            participation = Participation(account_id=account_id, context_id=status.context_id)
            db.session.add(participation)
            db.session.flush()
            # Recipients are fixed when the conversation starts; only PATCH changes them (SPEC 15).
            for member in parties:
                db.session.add(ParticipationRecipient(participation_id=participation.id, account_id=member))
        participation.is_unread = account_id != author.id
        participation.last_status_id = status.id
        participation.activity_id = activity
