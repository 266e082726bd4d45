"""Kenoma's database: typed SQLAlchemy 2.0 models and the reusable queries on them."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import NamedTuple
from typing import TypeVar

from authlib.integrations.sqla_oauth2 import OAuth2AuthorizationCodeMixin
from authlib.integrations.sqla_oauth2 import OAuth2ClientMixin
from authlib.integrations.sqla_oauth2 import OAuth2TokenMixin
from authlib.oauth2.rfc6749 import list_to_scope
from authlib.oauth2.rfc6749 import scope_to_list
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import BindParameter
from sqlalchemy import Boolean
from sqlalchemy import ColumnElement
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import event
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import union
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import aliased
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

import portable_sql  # noqa: F401 - PostgreSQL renderings of SQLite spellings, before any query
import scopes

_T = TypeVar("_T")


class Base(DeclarativeBase):
    pass


class ReadOnlyError(AttributeError):
    """Something set, deleted or put into a session an instance made with
    `as_loaded(..., read_only=True)`: a row read outside the session, which nothing writes back."""


class _ReadOnly:
    """The base of as_loaded's read-only instances: a change to one would be lost silently
    (no session holds it), so it is refused loudly instead."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise ReadOnlyError(f"{_mapped_name(self)}.{name}: a read-only row, set nothing on it")

    def __delattr__(self, name: str) -> None:
        raise ReadOnlyError(f"{_mapped_name(self)}.{name}: a read-only row, delete nothing of it")


def _mapped_name(instance: object) -> str:
    return type(instance).__mro__[2].__name__


def _refuse_read_only(instance: object) -> None:
    if isinstance(instance, _ReadOnly):
        raise ReadOnlyError(f"a read-only {_mapped_name(instance)} cannot join a session")


class _Session(FlaskSession):
    def merge(self, instance: _T, *args: Any, **kwargs: Any) -> _T:
        # merge copies the instance onto the session's own (no event tells of it): refused too.
        _refuse_read_only(instance)
        return super().merge(instance, *args, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": _Session})


@event.listens_for(_Session, "before_attach")
def _attach_no_read_only(_session: Any, instance: object) -> None:
    _refuse_read_only(instance)


# ---------------------------------------------------------------------------------------------
# Flake ids: (unix_ms << 64) | (worker << 16) | sequence, in fixed-width base62, so that string
# order equals creation order and keyset paging can compare ids as strings (SPEC 1.6).

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_flake_lock = threading.Lock()
_flake_state = {"ms": 0, "seq": 0, "worker": int.from_bytes(os.urandom(6), "big")}


def _new_flake_worker() -> None:
    # A forked process (gunicorn workers forked from a preloading master) must not reuse its
    # parent's worker bits: two workers would make the same ids in the same millisecond.
    _flake_state.update(ms=0, seq=0, worker=int.from_bytes(os.urandom(6), "big"))


os.register_at_fork(after_in_child=_new_flake_worker)


def _base62(n: int, width: int = 18) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(reversed(out)).rjust(width, "0")


def new_flake_id() -> str:
    with _flake_lock:
        ms = int(time.time() * 1000)
        if ms <= _flake_state["ms"]:
            ms = _flake_state["ms"]
            _flake_state["seq"] += 1
            if _flake_state["seq"] > 0xFFFF:  # sequence exhausted: borrow the next millisecond
                ms += 1
                _flake_state["seq"] = 0
        else:
            _flake_state["seq"] = 0
        _flake_state["ms"] = ms
        value = (ms << 64) | (_flake_state["worker"] << 16) | _flake_state["seq"]
    return _base62(value)


def flake_for_time(moment: datetime) -> str:
    """The smallest flake id of a moment: lets date-based cursors compare with ids."""
    return _base62(int(moment.timestamp() * 1000) << 64)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class _BoundViewer:
    """The viewer of a statement built once and cached: its id is the bind parameter
    `viewer_id`, given when the statement runs (`db.session.execute(stmt, {"viewer_id": ...})`).
    Builders that only read `viewer.id` accept it in place of an Account."""

    id = bindparam("viewer_id", type_=String(18))


BOUND_VIEWER: Any = _BoundViewer()


class _BoundReaders:
    """Several viewers of one statement at once, for the streaming hub that asks the same
    question for every reader of an event: the table `reader` of their ids, bound with
    `BOUND_READERS.values(ids)`. Builders that only read `viewer.id` accept it in place of an Account, so
    each viewer condition is the one-viewer condition, evaluated for every row of the table. The
    statement names the table once, in its outer FROM (`select_from(BOUND_READERS.table)`);
    `id` is a bare column name so that subqueries however deeply nested refer to that row
    (SQLAlchemy would correlate a table column to the enclosing select only, and give a nested
    subquery a FROM of its own)."""

    table = (
        select(column("value").label("id"))
        .select_from(func.json_each(bindparam("viewer_ids", type_=String)))
        # The count tells PostgreSQL how many rows the table has (a JSON array's members are
        # always guessed at 100): the plans and their costs then scale with the readers.
        .limit(bindparam("viewer_count", type_=Integer))
        .subquery("reader")
    )
    id = literal_column("reader.id", String(18))

    @staticmethod
    def values(ids: Sequence[str]) -> dict[str, Any]:
        """The bind values of the table for these readers."""
        return {"viewer_ids": json.dumps(list(ids)), "viewer_count": len(ids)}

    def beside(self, table: Any) -> Any:
        """The reader table joined to `table` on nothing: every pair, as a comma would give,
        spelled as a join so SQLAlchemy's cartesian-product lint knows it is meant."""
        return self.table.join(table, true())


BOUND_READERS: Any = _BoundReaders()


@functools.lru_cache(maxsize=256)  # bounded: filters carry client-chosen values (instance)
def cached_statement(builder: Callable[..., Any], *shape: Any) -> Any:
    """`builder(*shape)`, built once per process. Building a timeline's select costs a few
    milliseconds of Python, running a built one a fraction of that; `shape` holds only hashable
    values that change the SQL (filters, flags, BOUND_VIEWER or None), never per-request values,
    which are bind parameters."""
    return builder(*shape)


def FlakeId() -> Mapped[str]:  # noqa: N802 - reads like a column type
    return mapped_column(String(18), primary_key=True, default=new_flake_id)


def AccountRef(ondelete: str = "CASCADE", nullable: bool = False, index: bool = True) -> Any:  # noqa: N802
    return mapped_column(
        String(18), ForeignKey("account.id", ondelete=ondelete), nullable=nullable, index=index
    )


def StatusRef(nullable: bool = False, index: bool = True) -> Any:  # noqa: N802
    return mapped_column(
        String(18), ForeignKey("status.id", ondelete="CASCADE"), nullable=nullable, index=index
    )


VISIBILITIES = ("public", "unlisted", "private", "direct", "local")


# ---------------------------------------------------------------------------------------------
# Accounts


class Account(db.Model):
    id: Mapped[str] = FlakeId()
    nickname: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str | None] = mapped_column(String(255), default=None)  # null when local
    ap_id: Mapped[str] = mapped_column(String(1024), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    note_source: Mapped[str] = mapped_column(Text, default="")
    note_html: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[list] = mapped_column(JSON, default=list)
    avatar: Mapped[str | None] = mapped_column(String(1024), default=None)  # media-relative path
    header: Mapped[str | None] = mapped_column(String(1024), default=None)
    background: Mapped[str | None] = mapped_column(String(1024), default=None)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_discoverable: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_type: Mapped[str] = mapped_column(String(20), default="Person")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)  # false: disabled or deleted
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    hide_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_follows: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_followers_count: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_follows_count: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_favorites: Mapped[bool] = mapped_column(Boolean, default=True)
    show_role: Mapped[bool] = mapped_column(Boolean, default=True)
    no_rich_text: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_thread_containment: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_following_move: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_chat_messages: Mapped[bool | None] = mapped_column(Boolean, default=None)
    default_scope: Mapped[str] = mapped_column(String(20), default="public")
    is_sensitive_default: Mapped[bool] = mapped_column(Boolean, default=False)
    also_known_as: Mapped[list] = mapped_column(JSON, default=list)
    moved_to_id: Mapped[str | None] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="SET NULL"), default=None
    )
    settings_store: Mapped[dict] = mapped_column(JSON, default=dict)
    notification_settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped to end every browser session of the account at once (password change): the
    # session cookie is client-side, so it carries the epoch it was issued under.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    public_key: Mapped[str | None] = mapped_column(Text, default=None)
    private_key: Mapped[str | None] = mapped_column(Text, default=None)
    # Remote actors (SPEC 24): where to deliver, which key signs for them, and the profile parts
    # that live on their server (image URLs, custom emoji) — all null/empty for local accounts.
    key_id: Mapped[str | None] = mapped_column(String(1024), default=None, index=True)
    inbox: Mapped[str | None] = mapped_column(String(1024), default=None)
    shared_inbox: Mapped[str | None] = mapped_column(String(1024), default=None)
    followers_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    url: Mapped[str | None] = mapped_column(String(1024), default=None)
    avatar_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    header_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    emoji_urls: Mapped[dict] = mapped_column(JSON, default=dict)  # shortcode -> image URL
    fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    # Counters kept by services in the same transaction as the change, so that serialising a
    # page of accounts never counts rows.
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    statuses_count: Mapped[int] = mapped_column(Integer, default=0)
    last_status_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded on access, which costs nothing when moved_to_id is null: a join here made every
    # query that loads accounts twice as wide, for the rare moved account.
    moved_to: Mapped[Account | None] = relationship(remote_side="Account.id", lazy="select")

    __table_args__ = (
        # Nicknames are unique per domain, case-insensitively (Pleroma behaviour).
        # coalesce: SQLite treats NULLs as distinct, and local accounts have a NULL domain.
        Index("ix_account_nick_domain", func.lower(nickname), func.coalesce(domain, ""), unique=True),
        Index("ix_account_email", func.lower(email)),
        # The hosts Kenoma knows (GET /api/v1/instance/peers) and one instance's accounts.
        Index("ix_account_domain", domain),
    )

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        return self.nickname if self.domain is None else f"{self.nickname}@{self.domain}"

    @classmethod
    def find_local(cls, nickname: str) -> Account | None:
        return db.session.scalar(
            select(cls).where(func.lower(cls.nickname) == nickname.lower(), cls.domain.is_(None))
        )

    @classmethod
    def find_by_login(cls, name: str) -> Account | None:
        """A nickname or an e-mail (toot's login sends the e-mail as `username`)."""
        if "@" in name.strip("@"):
            found = db.session.scalar(
                select(cls).where(func.lower(cls.email) == name.lower(), cls.domain.is_(None))
            )
            if found:
                return found
        return cls.find_local(name.lstrip("@"))

    @classmethod
    def by_id_or_nickname(cls, ref: str) -> Account | None:
        account = db.session.get(cls, ref)
        if account is None:
            nick, _, host = ref.partition("@")
            query = select(cls).where(func.lower(cls.nickname) == nick.lower())
            query = query.where(cls.domain.is_(None) if not host else cls.domain == host)
            account = db.session.scalar(query)
        return account


class Follow(db.Model):
    """A follow or a pending follow request (subscriptions are their own rows: Subscription)."""

    id: Mapped[str] = FlakeId()
    follower_id: Mapped[str] = AccountRef(index=False)
    followee_id: Mapped[str] = AccountRef()
    is_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("follower_id", "followee_id"),)


class Block(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    target_id: Mapped[str] = AccountRef()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "target_id"),)


class Mute(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    target_id: Mapped[str] = AccountRef()
    hide_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "target_id"),)

    @classmethod
    def active(cls) -> ColumnElement[bool]:
        # The time is a bind parameter read at execution, so a statement built once and cached
        # (cached_statement) still lets mutes expire.
        now = bindparam("now", callable_=lambda: utcnow(), type_=DateTime(), unique=True)
        return or_(cls.expires_at.is_(None), cls.expires_at > now)


class Endorsement(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    target_id: Mapped[str] = AccountRef()

    __table_args__ = (UniqueConstraint("account_id", "target_id"),)


# ---------------------------------------------------------------------------------------------
# OAuth (authlib's mixins carry the protocol columns)


class App(db.Model, OAuth2ClientMixin):
    __tablename__ = "oauth_app"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(1024), default=None)
    redirect_uris_text: Mapped[str] = mapped_column(Text, default="")
    scopes: Mapped[str] = mapped_column(Text, default="read")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Mastodon clients register one app and use it with any grant and either way of sending
    # the secret, so the per-client restrictions of RFC 7591 do not apply here.
    @property
    def redirect_uris(self) -> list[str]:
        return self.redirect_uris_text.split()

    @property
    def scope(self) -> str:
        return self.scopes

    def check_grant_type(self, grant_type: str) -> bool:
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_post", "client_secret_basic", "none") or endpoint != "token"

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.scopes.split()
        if not scope:  # clients that send no scope get the app's scopes (Akkoma.py, Pleroma-FE)
            return list_to_scope(allowed)
        # Unknown or unregistered scopes are dropped silently at the token endpoint (SPEC 1.2).
        wanted = scope_to_list(scope)
        return list_to_scope([s for s in wanted if any(scopes.covers(a, s) for a in allowed)])


class ClientApp(NamedTuple):
    """The app a token was issued to, as a status names it (`application`)."""

    name: str
    website: str | None


class Token(db.Model, OAuth2TokenMixin):
    __tablename__ = "oauth_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_app.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str | None] = AccountRef(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # auth.TOKEN_LIFETIME (about a century, in seconds) is past a 32-bit integer: PostgreSQL's
    # INTEGER refuses it, SQLite's never minded.
    expires_in: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    app: Mapped[App | None] = relationship(lazy="joined")
    account: Mapped[Account | None] = relationship(lazy="joined")

    def is_usable(self) -> bool:
        return not self.is_revoked() and not self.is_expired()


class AuthorizationCode(db.Model, OAuth2AuthorizationCodeMixin):
    __tablename__ = "oauth_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = AccountRef()

    account: Mapped[Account] = relationship()

    def is_expired(self) -> bool:
        return self.auth_time + 600 < time.time()


# ---------------------------------------------------------------------------------------------
# Statuses


class Context(db.Model):
    """A thread: every status of a conversation tree shares one."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(1024), unique=True, default=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class TimelineFilters:
    """The filters every timeline accepts (SPEC 6)."""

    local: bool = False
    remote: bool = False
    only_media: bool = False
    with_muted: bool = False
    exclude_visibilities: tuple[str, ...] = ()
    reply_visibility: str | None = None  # "following" | "self"; anything else keeps all replies
    instance: str | None = None


class Status(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    uri: Mapped[str] = mapped_column(String(1024), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[str] = mapped_column(String(40), default="text/plain")
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    # No foreign key: a reply keeps pointing at its deleted parent (SPEC 4, DELETE).
    in_reply_to_id: Mapped[str | None] = mapped_column(String(18), default=None, index=True)
    in_reply_to_account_id: Mapped[str | None] = mapped_column(String(18), default=None)
    reblog_of_id: Mapped[str | None] = StatusRef(nullable=True)
    quote_id: Mapped[str | None] = mapped_column(String(18), default=None, index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("context.id"), index=True)
    app_name: Mapped[str | None] = mapped_column(String(255), default=None)
    app_website: Mapped[str | None] = mapped_column(String(1024), default=None)
    emojis: Mapped[list] = mapped_column(JSON, default=list)  # shortcodes used in the text
    # Remote statuses: their page on the author's server and their custom emoji's images.
    url: Mapped[str | None] = mapped_column(String(1024), default=None)
    emoji_urls: Mapped[dict] = mapped_column(JSON, default=dict)  # shortcode -> image URL
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    pinned_at: Mapped[datetime | None] = mapped_column(default=None)
    favourites_count: Mapped[int] = mapped_column(Integer, default=0)
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0)
    replies_count: Mapped[int] = mapped_column(Integer, default=0)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    context: Mapped[Context] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        Index("ix_status_account_id_id", "account_id", "id"),
        Index("ix_status_visibility_id", "visibility", "id"),
        # Inbound activities name statuses by their ActivityPub id (SPEC 24.4).
        Index("ix_status_uri", "uri"),
        # One reblog per account and status, even when two requests race.
        UniqueConstraint("account_id", "reblog_of_id"),
    )

    @property
    def is_reblog(self) -> bool:
        return self.reblog_of_id is not None

    @classmethod
    def visibility_filter(cls, viewer: Account | None) -> ColumnElement[bool]:
        """Who may see a status (SPEC 1.9): public kinds to all, private to followers, the rest
        to the author and the accounts it addresses."""
        open_kinds = cls.visibility.in_(("public", "unlisted", "local"))
        if viewer is None:
            return open_kinds
        addressed = exists().where(StatusMention.status_id == cls.id, StatusMention.account_id == viewer.id)
        follows_author = exists().where(
            Follow.follower_id == viewer.id,
            Follow.followee_id == cls.account_id,
            Follow.is_pending == false(),
        )
        return or_(
            open_kinds,
            cls.account_id == viewer.id,
            addressed,
            and_(cls.visibility == "private", follows_author),
        )

    @classmethod
    def visible_to(cls, viewer: Account | None) -> Select[tuple[Status]]:
        return select(cls).where(cls.visibility_filter(viewer))

    def is_visible_to(self, viewer: Account | None) -> bool:
        if self.visibility in ("public", "unlisted", "local"):
            return True
        if viewer is None:
            return False
        query = select(Status.id).where(Status.id == self.id, Status.visibility_filter(viewer))
        return db.session.scalar(query) is not None

    # Timelines (SPEC 6). Each builder returns a select that pagination orders by Status.id, so a
    # page walks the primary-key index downwards; every filter is an IN/EXISTS probe on an
    # indexed column (no OFFSET, no per-row queries from Python).

    @classmethod
    def home_timeline(cls, viewer: Account, filters: TimelineFilters) -> Select[tuple[Status]]:
        """Own posts, posts of accepted follows (their reblogs only where `reblogs` is on),
        statuses addressed to the viewer and public ones carrying a hashtag the viewer follows."""
        # Correlated EXISTS rather than IN lists: SQLite then walks the id index newest-first and
        # stops after a page, instead of collecting every followed account's statuses to sort.
        follows_author = exists().where(
            Follow.follower_id == viewer.id,
            Follow.followee_id == cls.account_id,
            Follow.is_pending == false(),
        )
        addressed = exists().where(StatusMention.status_id == cls.id, StatusMention.account_id == viewer.id)
        # A followed hashtag brings in public statuses carrying it (Mastodon 4.0): a probe of the
        # status' tags (primary key) against the viewer's follows (unique pair), per row.
        followed_tag = exists().where(
            StatusTag.status_id == cls.id, TagFollow.account_id == viewer.id, TagFollow.name == StatusTag.name
        )
        tagged = and_(cls.visibility.in_(TAGGABLE_VISIBILITIES), followed_tag)
        sources = or_(cls.account_id == viewer.id, follows_author, addressed, tagged)
        reblogs_off = exists().where(
            Follow.follower_id == viewer.id,
            Follow.followee_id == cls.account_id,
            Follow.show_reblogs == false(),
        )
        # Members of the viewer's exclusive lists are read in those lists only (Mastodon 4.2).
        in_exclusive_list = exists().where(
            ListAccount.account_id == cls.account_id,
            List.id == ListAccount.list_id,
            List.account_id == viewer.id,
            List.is_exclusive.is_(True),
        )
        return cls.visible_to(viewer).where(
            sources,
            or_(cls.reblog_of_id.is_(None), ~reblogs_off),
            ~in_exclusive_list,
            *cls.timeline_filters(viewer, filters),
        )

    @classmethod
    def public_timeline(cls, viewer: Account | None, filters: TimelineFilters) -> Select[tuple[Status]]:
        """Public statuses; `local` ones too for local=true or a signed-in (always local) reader."""
        if filters.local or viewer is not None:
            # `|| ''` keeps SQLite from ranging ix_status_visibility_id once per kind and sorting
            # the union; the newest page of two kinds is cheaper walked down the id index.
            kind = cls.visibility.concat("").in_(("public", "local"))
        else:
            kind = cls.visibility == "public"
        return select(cls).where(kind, *cls.timeline_filters(viewer, filters))

    @classmethod
    def tag_timeline(
        cls,
        viewer: Account | None,
        filters: TimelineFilters,
        any_of: list[str],
        all_of: list[str] | None = None,
        none_of: list[str] | None = None,
    ) -> Select[tuple[Status]]:
        """Public statuses tagged with any of `any_of`, all of `all_of`, none of `none_of`; tags are
        stored lower-cased, so the names must be too. Reblogs never match: only the status that
        was written carries StatusTag rows."""
        tagged = select(StatusTag.status_id).where(StatusTag.name.in_(any_of))
        query = cls.public_timeline(viewer, filters).where(cls.id.in_(tagged))
        for name in all_of or []:
            query = query.where(exists().where(StatusTag.status_id == cls.id, StatusTag.name == name))
        if none_of:
            query = query.where(~exists().where(StatusTag.status_id == cls.id, StatusTag.name.in_(none_of)))
        return query

    @classmethod
    def direct_timeline(cls, viewer: Account, filters: TimelineFilters) -> Select[tuple[Status]]:
        """Direct statuses the viewer wrote or is addressed by; like Pleroma, mutes do not apply."""
        addressed = select(StatusMention.status_id).where(StatusMention.account_id == viewer.id)
        unmuted = replace(filters, with_muted=True)
        return select(cls).where(
            cls.visibility == "direct",
            or_(cls.account_id == viewer.id, cls.id.in_(addressed)),
            *cls.timeline_filters(viewer, unmuted),
        )

    @classmethod
    def timeline_filters(cls, viewer: Account | None, filters: TimelineFilters) -> list[ColumnElement[bool]]:
        """Conditions shared by the timelines: author state, media, visibilities, and what this
        viewer hides (blocks either way, mutes, muted threads, reply_visibility)."""
        author = [Account.is_active.is_(True)]
        if filters.local:
            author.append(Account.domain.is_(None))
        if filters.remote:
            author.append(Account.domain.is_not(None))
        if filters.instance:
            author.append(Account.domain == filters.instance)
        if viewer is not None:  # one index probe on the author row the query reads anyway
            author.append(~DomainBlock.hides(viewer.id, Account))
        conditions = [exists().where(Account.id == cls.account_id, *author)]
        if filters.only_media:
            # A reblog counts when the status it shares has media (Pleroma checks the object).
            target = func.coalesce(cls.reblog_of_id, cls.id)
            conditions.append(exists().where(Media.status_id == target))
        if filters.exclude_visibilities:
            conditions.append(cls.visibility.not_in(filters.exclude_visibilities))
        if viewer is not None:
            conditions += cls._viewer_filters(viewer, filters)
        return conditions

    @classmethod
    def _viewer_filters(cls, viewer: Account, filters: TimelineFilters) -> list[ColumnElement[bool]]:
        hidden = cls.hidden_author_ids(viewer, filters.with_muted)
        original = aliased(cls)
        original_author = aliased(Account)
        blocked_domain = exists().where(
            original_author.id == original.account_id, DomainBlock.hides(viewer.id, original_author)
        )
        conditions = [
            cls.account_id.not_in(hidden),
            # A reblog of a hidden author (or of a blocked domain) is hidden too, whoever shared it.
            or_(
                cls.reblog_of_id.is_(None),
                ~exists().where(
                    original.id == cls.reblog_of_id, or_(original.account_id.in_(hidden), blocked_domain)
                ),
            ),
        ]
        if not filters.with_muted:
            conditions.append(
                ~exists().where(ThreadMute.account_id == viewer.id, ThreadMute.context_id == cls.context_id)
            )
        if filters.reply_visibility in ("self", "following"):
            conditions.append(cls._reply_filter(viewer, filters.reply_visibility == "following"))
        return conditions

    @classmethod
    def _reply_filter(cls, viewer: Account, with_followed: bool) -> ColumnElement[bool]:
        """Pleroma's reply_visibility: `self` keeps only replies addressed to the viewer,
        `following` also those addressed to accounts the viewer follows; own replies stay."""
        kept = [
            cls.in_reply_to_id.is_(None),
            cls.account_id == viewer.id,
            cls.in_reply_to_account_id == viewer.id,
            exists().where(StatusMention.status_id == cls.id, StatusMention.account_id == viewer.id),
        ]
        if with_followed:
            followed = cls._followed_ids(viewer)
            kept.append(cls.in_reply_to_account_id.in_(followed))
            kept.append(
                exists().where(StatusMention.status_id == cls.id, StatusMention.account_id.in_(followed))
            )
        return or_(*kept)

    @classmethod
    def hidden_author_ids(cls, viewer: Account, with_muted: bool = False) -> Any:
        """Accounts whose statuses the viewer never sees: blocked, blocking the viewer, and (unless
        `with_muted`) muted by an active mute."""
        parts = [
            select(Block.target_id).where(Block.account_id == viewer.id),
            select(Block.account_id).where(Block.target_id == viewer.id),
        ]
        if not with_muted:
            parts.append(select(Mute.target_id).where(Mute.account_id == viewer.id, Mute.active()))
        return union(*parts)

    @staticmethod
    def _followed_ids(viewer: Account) -> Select[tuple[str]]:
        return select(Follow.followee_id).where(Follow.follower_id == viewer.id, Follow.is_pending == false())


class StatusMention(db.Model):
    """The accounts a status addresses (mentions, reply parent, explicit `to`)."""

    status_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("status.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Only the accounts named in the text are listed in the status' `mentions`.
    is_visible: Mapped[bool] = mapped_column(Boolean, default=True)


class StatusTag(db.Model):
    status_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("status.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)

    __table_args__ = (Index("ix_status_tag_name_status", "name", "status_id"),)


class Media(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef()
    status_id: Mapped[str | None] = mapped_column(
        String(18), ForeignKey("status.id", ondelete="SET NULL"), default=None, index=True
    )
    # Reserved for a scheduled status until it is posted (SPEC 26); posting ignores reserved media.
    scheduled_status_id: Mapped[str | None] = mapped_column(
        String(18), ForeignKey("scheduled_status.id", ondelete="SET NULL"), default=None, index=True
    )
    path: Mapped[str] = mapped_column(String(1024))  # relative to <instance>/media
    remote_url: Mapped[str | None] = mapped_column(String(1024), default=None)  # a remote attachment
    mime_type: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    focus: Mapped[str | None] = mapped_column(String(64), default=None)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Favourite(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    status_id: Mapped[str] = StatusRef()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "status_id"),)


class Bookmark(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    status_id: Mapped[str] = StatusRef()
    folder_id: Mapped[str | None] = mapped_column(String(18), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "status_id"),)


class ThreadMute(db.Model):
    account_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    context_id: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"), primary_key=True)


class IdempotencyKey(db.Model):
    account_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    status_id: Mapped[str] = StatusRef(index=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------------------------------------
# Notifications and conversations


# What GET /api/v1/notifications returns when the client names no types (SPEC 7); report and chat
# notifications only come when asked for.
DEFAULT_NOTIFICATION_TYPES = (
    "mention",
    "follow",
    "follow_request",
    "reblog",
    "favourite",
    "move",
    "pleroma:emoji_reaction",
    "poll",
    "update",
)


# Notification ids are a plain integer sequence, as in Pleroma and Mastodon (SPEC 1.6): Pleroma-FE
# parses them as numbers. BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY (the rowid) with
# AUTOINCREMENT, so the id of a dismissed newest notification is never handed out again.
NOTIFICATION_ID_TYPE = BigInteger().with_variant(Integer, "sqlite")
# Ids stay below 2^53 (a JavaScript number); a cursor past that is clamped, never an overflow.
MAX_NOTIFICATION_ID = 2**53


class Notification(db.Model):
    id: Mapped[int] = mapped_column(NOTIFICATION_ID_TYPE, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = AccountRef(index=False)  # the recipient
    from_account_id: Mapped[str] = AccountRef()
    type: Mapped[str] = mapped_column(String(40))
    status_id: Mapped[str | None] = StatusRef(nullable=True)
    target_account_id: Mapped[str | None] = AccountRef(nullable=True, index=False)
    emoji: Mapped[str | None] = mapped_column(String(255), default=None)
    emoji_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    # pleroma:report notifications point at the report (SPEC 3, 20.4).
    report_id: Mapped[str | None] = mapped_column(
        String(18), ForeignKey("report.id", ondelete="CASCADE"), default=None, index=True
    )
    # pleroma:chat_mention notifications point at the recipient's copy of the message (SPEC 26).
    chat_message_id: Mapped[str | None] = mapped_column(
        String(18),
        ForeignKey("chat_message_reference.id", ondelete="CASCADE", name="fk_notification_chat_message_id"),
        default=None,
        index=True,
    )
    is_seen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_notification_account_id_id", "account_id", "id"),
        {"sqlite_autoincrement": True},
    )

    @staticmethod
    def parse_id(value: object) -> int | None:
        """A notification id or cursor as a number: decimal digits only (None otherwise), clamped
        below 2^53 so comparisons never overflow the column."""
        text = str(value).strip()
        if not text.isascii() or not text.isdigit():
            return None
        return min(int(text), MAX_NOTIFICATION_ID)

    @classmethod
    def for_account(
        cls,
        viewer: Account,
        types: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        from_account_id: str | BindParameter | None = None,
        exclude_visibilities: Sequence[str] | None = None,
        with_muted: bool = False,
    ) -> Select[tuple[Notification]]:
        """The viewer's notifications as the list endpoint filters them (SPEC 7). Blocks, domain
        blocks and mutes are checked here rather than when notifying, so undoing one brings the
        notifications back. Built once with cached_statement, `viewer` is BOUND_VIEWER and
        `from_account_id` may be a bind parameter (the filters are tuples)."""
        wanted = set(types or DEFAULT_NOTIFICATION_TYPES) - set(exclude_types or [])
        blocked = select(Block.target_id).where(Block.account_id == viewer.id)
        blockers = select(Block.account_id).where(Block.target_id == viewer.id)
        query = select(cls).where(
            cls.account_id == viewer.id,
            cls.type.in_(sorted(wanted)),
            cls.from_account_id.not_in(blocked.union(blockers)),
            exists().where(
                Account.id == cls.from_account_id,
                Account.is_active.is_(True),
                ~DomainBlock.hides(viewer.id, Account),
            ),
        )
        if from_account_id is not None:
            query = query.where(cls.from_account_id == from_account_id)
        if exclude_visibilities:
            # status_id is the status acted on (liked, reblogged, reacted to) or the mentioning one.
            query = query.where(
                ~exists().where(Status.id == cls.status_id, Status.visibility.in_(exclude_visibilities))
            )
        if not with_muted:
            muted = select(Mute.target_id).where(
                Mute.account_id == viewer.id, Mute.hide_notifications.is_(True), Mute.active()
            )
            muted_thread = exists().where(
                Status.id == cls.status_id,
                ThreadMute.account_id == viewer.id,
                ThreadMute.context_id == Status.context_id,
            )
            query = query.where(cls.from_account_id.not_in(muted), ~muted_thread)
        return query


class Participation(db.Model):
    """One account's view of a direct-message thread; its id is the conversation id."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    context_id: Mapped[int] = mapped_column(ForeignKey("context.id", ondelete="CASCADE"), index=True)
    is_unread: Mapped[bool] = mapped_column(Boolean, default=True)
    last_status_id: Mapped[str | None] = mapped_column(String(18), default=None)
    # A keyset cursor that moves when the thread gets a new status (most recently active first).
    activity_id: Mapped[str] = mapped_column(String(18), default=new_flake_id)

    __table_args__ = (
        UniqueConstraint("account_id", "context_id"),
        Index("ix_participation_account_activity", "account_id", "activity_id"),
    )

    @classmethod
    def owned_by(cls, participation_id: str, account: Account) -> Participation | None:
        """The participation if it is the account's: others' read exactly like missing ones."""
        participation = db.session.get(cls, participation_id)
        return participation if participation and participation.account_id == account.id else None

    @classmethod
    def for_account(
        cls, viewer: Account, recipients: list[str] | None = None
    ) -> Select[tuple[Participation]]:
        """The viewer's conversations; with `recipients`, only those whose recipient set is exactly
        the viewer plus these accounts (Pleroma: equal sets, not "contains")."""
        query = select(cls).where(cls.account_id == viewer.id)
        if recipients:
            wanted = {viewer.id, *recipients}
            members = (
                select(func.count())
                .select_from(ParticipationRecipient)
                .where(ParticipationRecipient.participation_id == cls.id)
            )
            matching = members.where(ParticipationRecipient.account_id.in_(sorted(wanted)))
            query = query.where(
                members.scalar_subquery() == len(wanted), matching.scalar_subquery() == len(wanted)
            )
        return query


class ParticipationRecipient(db.Model):
    participation_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("participation.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# ---------------------------------------------------------------------------------------------
# Captchas and scrobbles


class UsedCaptcha(db.Model):
    """Captcha tokens already accepted, remembered until they would have expired anyway."""

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Scrobble(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    title: Mapped[str] = mapped_column(String(500))
    artist: Mapped[str | None] = mapped_column(String(500), default=None)
    album: Mapped[str | None] = mapped_column(String(500), default=None)
    length: Mapped[int | None] = mapped_column(Integer, default=None)
    external_link: Mapped[str | None] = mapped_column(String(2048), default=None)
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_scrobble_account_id_id", "account_id", "id"),)

    @classmethod
    def visible_to(cls, owner_id: str, viewer: Account | None) -> Select[tuple[Scrobble]]:
        """An account's listens the viewer may see, with the rules statuses follow (SPEC 1.9)."""
        query = select(cls).where(cls.account_id == owner_id)
        if viewer is not None and viewer.id == owner_id:
            return query
        allowed = cls.visibility.in_(("public", "unlisted", "local"))
        if viewer is not None:
            follows = exists().where(
                Follow.follower_id == viewer.id, Follow.followee_id == owner_id, Follow.is_pending == false()
            )
            allowed = or_(allowed, and_(cls.visibility == "private", follows))
        return query.where(allowed)


# ---------------------------------------------------------------------------------------------
# Bookmark folders, backups, push subscriptions, reports, mascots


class BookmarkFolder(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    name: Mapped[str] = mapped_column(String(255))
    emoji: Mapped[str | None] = mapped_column(String(255), default=None)  # unicode or ":shortcode:"
    emoji_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "name"),)


class Backup(db.Model):
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # an integer in the API (SPEC 1.6)
    account_id: Mapped[str] = AccountRef()
    file_name: Mapped[str] = mapped_column(String(255))  # under <instance>/media/backups/
    content_type: Mapped[str] = mapped_column(String(64), default="application/zip")
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    is_processed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Purged backups' ids are never handed out again: newest first is highest id first.
    __table_args__ = {"sqlite_autoincrement": True}


class PushSubscription(db.Model):
    """A Web Push subscription; one per OAuth token (SPEC 7)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = AccountRef()
    token_id: Mapped[int] = mapped_column(ForeignKey("oauth_token.id", ondelete="CASCADE"), unique=True)
    endpoint: Mapped[str] = mapped_column(Text)
    key_p256dh: Mapped[str] = mapped_column(String(255))
    key_auth: Mapped[str] = mapped_column(String(255))
    alerts: Mapped[dict] = mapped_column(JSON, default=dict)
    # Whose notifications are pushed (SPEC 25.2): all, followed, follower, none.
    policy: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    # Created with standard=true (Mastodon 4.4): RFC 8291 aes128gcm instead of the older aesgcm.
    is_standard: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Replacing a subscription must give it a new id, never the deleted one's again.
    __table_args__ = {"sqlite_autoincrement": True}


class Report(db.Model):
    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the reporter
    target_id: Mapped[str] = AccountRef()
    status_ids: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_action_taken(self) -> bool:
        return self.state != "open"


class Mascot(db.Model):
    """The Pleroma-FE mascot an account chose (an uploaded image); none means the default."""

    account_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[str] = mapped_column(String(18), ForeignKey("media.id", ondelete="CASCADE"), index=True)

    media: Mapped[Media] = relationship(lazy="joined", innerjoin=True)


# ---------------------------------------------------------------------------------------------
# Multi-factor authentication (SPEC 12)


class MfaSettings(db.Model):
    """An account's second factors: a TOTP secret (pending until confirmed) and backup codes."""

    account_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    is_totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # A secret from a new setup waits here, so an active TOTP keeps working until it is confirmed.
    pending_totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # The last accepted TOTP time step: a code is never accepted twice (RFC 6238 5.2).
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)
    backup_code_hashes: Mapped[list] = mapped_column(JSON, default=list)

    @property
    def is_enabled(self) -> bool:
        return self.is_totp_confirmed and bool(self.totp_secret)

    @classmethod
    def is_enabled_for(cls, account_id: str) -> bool:
        query = select(cls.account_id).where(
            cls.account_id == account_id, cls.is_totp_confirmed.is_(True), cls.totp_secret.is_not(None)
        )
        return db.session.scalar(query) is not None


class MfaToken(db.Model):
    """The ticket between a correct password and the second factor; kept as a hash, single use."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = AccountRef()
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_app.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    app: Mapped[App] = relationship(lazy="joined", innerjoin=True)


class EmojiReaction(db.Model):
    """A reaction is a favourite that carries an emoji (SPEC 16)."""

    id: Mapped[str] = FlakeId()
    status_id: Mapped[str] = StatusRef(index=False)
    account_id: Mapped[str] = AccountRef()
    emoji: Mapped[str] = mapped_column(String(255))  # fully-qualified unicode, or shortcode[@host]
    url: Mapped[str | None] = mapped_column(String(1024), default=None)  # custom emoji image
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("status_id", "account_id", "emoji"),
        Index("ix_emoji_reaction_status_id_id", "status_id", "id"),
    )


class Subscription(db.Model):
    """`account_id` hears of every new post of `target_id` it may read (Pleroma's subscribe,
    Mastodon's `notify` on a follow). Independent of following: an unfollow keeps it (SPEC 13)."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the subscriber
    target_id: Mapped[str] = AccountRef()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "target_id"),)


# ---------------------------------------------------------------------------------------------
# Markers (SPEC 26)

MARKER_TIMELINES = ("home", "notifications")


class Marker(db.Model):
    """Where the account stopped reading a timeline, saved for its other clients (SPEC 26).
    `version` is Mastodon's lock_version: 0 when created, one more on every save."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the unique pair below covers it
    timeline: Mapped[str] = mapped_column(String(20))
    last_read_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "timeline"),)

    @classmethod
    def for_account(cls, account: Account, timelines: list[str]) -> Select[tuple[Marker]]:
        return select(cls).where(cls.account_id == account.id, cls.timeline.in_(timelines))


_WRITE_LOCK_KEY = 0x4B454E4F  # "KENO": begin_write()'s advisory lock on PostgreSQL


def begin_write() -> None:
    """Take the write lock now (SQLite: BEGIN IMMEDIATE), before the reads that decide a write.

    pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE, so reads before it see
    no lock: two identical requests racing (a double tap, a client retrying) would both find no
    row and both insert it. After this call the rest of the transaction runs alone; other writers
    queue on busy_timeout. Call it at the start of a check-then-write service, never before slow
    work (network, image processing): the lock is held until the commit.
    """
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        if not raw.in_transaction:
            # Through SQLAlchemy, so writelock.py sees it and queues this writer like the others.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        # PostgreSQL's counterpart: these transactions queue on one lock until they end, so the
        # reads that follow see whatever the previous one wrote (each statement reads the latest
        # commits), on whichever app server it ran.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK_KEY})")


def as_loaded(cls: type[_T], values: dict[str, Any], read_only: bool = False) -> _T:
    """A new instance of a mapped class holding `values` (its columns, and relationships to
    objects at hand) as a load from its row would: in no session, and with no attribute events,
    which made a 30-column Status' constructor cost ~75 us against ~17 here. `read_only`: an
    instance of a subclass that raises ReadOnlyError when set, deleted from or attached to a
    session (set_committed_value, which writes what the database now holds, still works)."""
    instance = cls.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    if read_only:
        instance.__class__ = _read_only_class(cls)
    return instance


@functools.cache
def _read_only_class(cls: type[_T]) -> type[_T]:
    # Abstract: declarative maps no table for it; it is the mapped class to SQLAlchemy (the
    # instance keeps its class' state) and to isinstance.
    return type(f"ReadOnly{cls.__name__}", (_ReadOnly, cls), {"__abstract__": True})


def commit_keeping_loaded() -> None:
    """Commit without expiring the objects the session has loaded, for a write made of Core
    statements that leaves them true (or sets what it changed, with set_committed_value): the
    answer rendered next would otherwise load the status, its author and the caller again."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = previous


# ---------------------------------------------------------------------------------------------
# ---- Lists (SPEC 26; Mastodon's lists)

REPLIES_POLICIES = ("followed", "list", "none")


class List(db.Model):
    """A named group of accounts the owner follows, read as its own timeline."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef()  # the owner
    title: Mapped[str] = mapped_column(String(255))
    replies_policy: Mapped[str] = mapped_column(String(16), default="list")
    # Members' statuses stay out of the owner's home timeline (Mastodon 4.2).
    is_exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def owned_by(cls, account_id: str) -> Select[tuple[List]]:
        return select(cls).where(cls.account_id == account_id).order_by(cls.id)

    @classmethod
    def containing(cls, owner_id: str, member_id: str) -> Select[tuple[List]]:
        """The owner's lists that hold `member_id`."""
        member = exists().where(ListAccount.list_id == cls.id, ListAccount.account_id == member_id)
        return cls.owned_by(owner_id).where(member)

    def timeline(self, viewer: Account) -> Select[tuple[Status]]:
        """Statuses of the members the owner may see, with replies kept per `replies_policy`."""
        return List.timeline_of(self.id, self.account_id, self.replies_policy, viewer)

    @staticmethod
    def timeline_of(list_id: Any, owner_id: Any, replies_policy: str, viewer: Any) -> Select[tuple[Status]]:
        """A list's timeline from its id and owner (values, or columns of a statement that asks
        for several lists at once, as the streaming hub does) and its replies policy."""
        members = select(ListAccount.account_id).where(ListAccount.list_id == list_id)
        return Status.visible_to(viewer).where(
            Status.account_id.in_(members),
            List._replies_kept(members, owner_id, replies_policy),
            *Status.timeline_filters(viewer, TimelineFilters()),
        )

    @staticmethod
    def _replies_kept(members: Select[tuple[str]], owner_id: Any, replies_policy: str) -> ColumnElement[bool]:
        # A thread of one's own (a self-reply) is never filtered, as in Mastodon's list feeds.
        kept = [Status.in_reply_to_id.is_(None), Status.in_reply_to_account_id == Status.account_id]
        if replies_policy == "list":
            kept.append(Status.in_reply_to_account_id.in_(members))
        elif replies_policy == "followed":
            followed = select(Follow.followee_id).where(
                Follow.follower_id == owner_id, Follow.is_pending == false()
            )
            kept.append(Status.in_reply_to_account_id.in_(followed))
        return or_(*kept)


class ListAccount(db.Model):
    """One member of a list; its id is the cursor of the list's account pages."""

    id: Mapped[str] = FlakeId()
    list_id: Mapped[str] = mapped_column(String(18), ForeignKey("list.id", ondelete="CASCADE"), index=False)
    account_id: Mapped[str] = AccountRef()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # (list_id, account_id) serves the list's members; account_id alone its lists and exclusivity.
    __table_args__ = (UniqueConstraint("list_id", "account_id"),)


# ---------------------------------------------------------------------------------------------
# ---- Chats (SPEC 26; Pleroma's chats)


class Chat(db.Model):
    """One account's side of a one-to-one chat: each participant has its own row, as in Pleroma,
    so the id, the unread count and the deleted messages are the owner's alone."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the owner; the unique pair covers it
    recipient_id: Mapped[str] = AccountRef()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The keyset cursor of the chat list: a new flake id on every message (most recent first).
    activity_id: Mapped[str] = mapped_column(String(18), default=new_flake_id)

    __table_args__ = (
        UniqueConstraint("account_id", "recipient_id"),
        Index("ix_chat_account_activity", "account_id", "activity_id"),
    )

    @classmethod
    def for_account(cls, viewer: Account, with_muted: bool = False) -> Select[tuple[Chat]]:
        """The viewer's chats, leaving out those with accounts it blocks (and mutes, unless
        `with_muted`), as Pleroma's chat list does."""
        hidden = select(Block.target_id).where(Block.account_id == viewer.id)
        if not with_muted:
            muted = select(Mute.target_id).where(Mute.account_id == viewer.id, Mute.active())
            hidden = hidden.union(muted)
        active = exists().where(Account.id == cls.recipient_id, Account.is_active.is_(True))
        return select(cls).where(cls.account_id == viewer.id, cls.recipient_id.not_in(hidden), active)


class ChatMessage(db.Model):
    """What was said, once; each participant's chat holds it through a ChatMessageReference."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the author; the key index leads with it
    content: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[str | None] = mapped_column(
        String(18), ForeignKey("media.id", ondelete="SET NULL"), default=None, index=True
    )
    emojis: Mapped[list] = mapped_column(JSON, default=list)
    # Pleroma's Idempotency-Key header: echoed for a few minutes, and a retry returns the first.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_chat_message_account_key", "account_id", "idempotency_key"),)


class ChatMessageReference(db.Model):
    """A message as one chat shows it; its id is the message id that chat's owner sees."""

    id: Mapped[str] = FlakeId()
    chat_id: Mapped[str] = mapped_column(String(18), ForeignKey("chat.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("chat_message.id", ondelete="CASCADE"), index=True
    )
    is_unread: Mapped[bool] = mapped_column(Boolean, default=False)

    # (chat_id, id) pages a chat's messages; (chat_id, is_unread) counts its unread ones.
    __table_args__ = (
        Index("ix_chat_message_reference_chat_id_id", "chat_id", "id"),
        Index("ix_chat_message_reference_chat_unread", "chat_id", "is_unread"),
    )


# ---- Hashtags, featured tags and follow suggestions (SPEC 26)

# Tag names are stored lower-cased (as StatusTag's), so every lookup is case-insensitive.
TAG_NAME_MAX = 255
# Statuses a tag's history, a featured tag's counts and a followed tag's home entries draw on.
TAGGABLE_VISIBILITIES = ("public", "unlisted")


class TagFollow(db.Model):
    """A hashtag the account follows: its public statuses join the account's home timeline.
    The id is the cursor of `/api/v1/followed_tags` pages."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the unique pair below covers it
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "name"),)


class FeaturedTag(db.Model):
    """A hashtag the account shows on its profile (Mastodon's featured tags)."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "name"),)

    @classmethod
    def of_account(cls, account_id: str) -> Select[tuple[FeaturedTag]]:
        return select(cls).where(cls.account_id == account_id).order_by(cls.id)


class SuggestionDismissal(db.Model):
    """An account the owner asked not to be suggested again (DELETE /api/v1/suggestions/:id)."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the unique pair below covers it
    target_id: Mapped[str] = AccountRef()

    # The migration made it (3b8d6f1a2c70); SQLite's reflection never reported it missing here.
    __table_args__ = (UniqueConstraint("account_id", "target_id"),)


# ---- Domain blocks and account notes (SPEC 26)

ACCOUNT_NOTE_LIMIT = 2000  # characters, as Mastodon


class DomainBlock(db.Model):
    """A user's block of a whole remote domain: its accounts' statuses and notifications stay out
    of the user's timelines and notifications. `domain` is stored normalised (lower-case, IDNA)."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the unique pair below covers it
    domain: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # (account_id, domain) serves the list, the timeline probes and domain_blocking.
    __table_args__ = (UniqueConstraint("account_id", "domain"),)

    @classmethod
    def hides(cls, viewer_id: str, author: Any) -> ColumnElement[bool]:
        """Does the viewer block the domain of `author` (Account or an alias of it)? A local
        author's NULL domain equals nothing, so the probe is false for it."""
        return exists().where(cls.account_id == viewer_id, cls.domain == author.domain)


class AccountNote(db.Model):
    """The private comment an account keeps about another (Mastodon's account note)."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the unique pair below covers it
    target_id: Mapped[str] = AccountRef()
    comment: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "target_id"),)


# ---- Polls (SPEC 26; Mastodon's polls)


class Poll(db.Model):
    """The poll of a status: its option titles in order; votes are PollVote rows."""

    id: Mapped[str] = FlakeId()
    status_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("status.id", ondelete="CASCADE"), unique=True, index=True
    )
    options: Mapped[list] = mapped_column(JSON)
    is_multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    hides_totals: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # Set by the end_poll job once the voters and the author were notified (makes it run once).
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Another server's poll (SPEC 24.4): the votes per option and the voters as its Question
    # last said; None for a local poll, whose PollVote rows are the count.
    remote_tallies: Mapped[list | None] = mapped_column(JSON, default=None)
    remote_voters: Mapped[int | None] = mapped_column(Integer, default=None)

    @staticmethod
    def has_ended(expires_at: datetime) -> bool:
        """Whether a poll ending at `expires_at` is over: read from the clock, so a poll counts
        as ended even before the job that closes it has run."""
        return expires_at <= utcnow()


class PollVote(db.Model):
    """One chosen option of one account (a multiple-choice vote is several rows)."""

    id: Mapped[str] = FlakeId()
    poll_id: Mapped[str] = mapped_column(String(18), ForeignKey("poll.id", ondelete="CASCADE"), index=False)
    account_id: Mapped[str] = AccountRef()
    choice: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # (poll_id, account_id, choice) serves the tallies, the voters and one account's own votes.
    __table_args__ = (UniqueConstraint("poll_id", "account_id", "choice"),)


# ---- Password reset


class PasswordResetToken(db.Model):
    """A one-use password-reset link (SPEC 26): kept as a SHA-256 of the secret sent by e-mail."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = AccountRef()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Expired ones are swept when new ones are made.
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)


# ---- Status edits (SPEC 26; Mastodon's StatusEdit)


class StatusEdit(db.Model):
    """One version of an edited status, as it read from `created_at` on. The first edit also
    stores the original (dated when it was posted), so the history is complete. Media are kept
    as their columns at the time, since an edit may detach them."""

    id: Mapped[str] = FlakeId()
    status_id: Mapped[str] = mapped_column(String(18), ForeignKey("status.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text, default="")
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    emojis: Mapped[list] = mapped_column(JSON, default=list)  # shortcodes used in the text
    media: Mapped[list] = mapped_column(JSON, default=list)  # Media columns, in order
    poll_options: Mapped[list | None] = mapped_column(JSON, default=None)  # titles; None: no poll
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The history reads one status' versions oldest first.
    __table_args__ = (Index("ix_status_edit_status_id_created_at", "status_id", "created_at"),)


# ---- Scheduled statuses (SPEC 26; Mastodon's ScheduledStatus)


class ScheduledStatus(db.Model):
    """A status to post at `scheduled_at`: what the client sent, kept as the entity's `params`."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef()
    # The due sweep and the publishing job look rows up by time.
    scheduled_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    params: Mapped[dict] = mapped_column(JSON)
    # The posting app, shown on the status once posted (not part of the entity).
    app_name: Mapped[str | None] = mapped_column(String(255), default=None)
    app_website: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def owned_by(cls, account_id: str) -> Select[tuple[ScheduledStatus]]:
        return select(cls).where(cls.account_id == account_id)


# ---- Filters (SPEC 26; Mastodon's filters v2, v1 as their one-keyword form)

FILTER_CONTEXTS = ("home", "notifications", "public", "thread", "account")
FILTER_ACTIONS = ("warn", "hide")


class Filter(db.Model):
    """A reader's filter: where it applies (`context`), what a match does, until when."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef()
    title: Mapped[str] = mapped_column(String(256))
    context: Mapped[list] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(8), default="warn")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    keywords: Mapped[list[FilterKeyword]] = relationship(
        back_populates="filter",
        order_by="FilterKeyword.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    statuses: Mapped[list[FilterStatus]] = relationship(
        back_populates="filter",
        order_by="FilterStatus.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @classmethod
    def owned_by(cls, account_id: str) -> Select[tuple[Filter]]:
        return select(cls).where(cls.account_id == account_id).order_by(cls.id)

    @staticmethod
    def now() -> datetime:
        """The moment filters are active at: read from the clock, nothing is written when a
        filter expires."""
        return utcnow()


class FilterKeyword(db.Model):
    id: Mapped[str] = FlakeId()
    filter_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("filter.id", ondelete="CASCADE"), index=True
    )
    keyword: Mapped[str] = mapped_column(String(512))
    is_whole_word: Mapped[bool] = mapped_column(Boolean, default=True)

    filter: Mapped[Filter] = relationship(back_populates="keywords", lazy="joined", innerjoin=True)


class FilterStatus(db.Model):
    id: Mapped[str] = FlakeId()
    # The unique (filter_id, status_id) below serves the lookups by filter.
    filter_id: Mapped[str] = mapped_column(String(18), ForeignKey("filter.id", ondelete="CASCADE"))
    status_id: Mapped[str] = StatusRef()

    filter: Mapped[Filter] = relationship(back_populates="statuses", lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("filter_id", "status_id"),)


# ---- Announcements (SPEC 26; Mastodon's announcements, made by admins with the CLI)


class Announcement(db.Model):
    """An instance-wide announcement: shown while published and within starts_at/ends_at."""

    id: Mapped[str] = FlakeId()
    content_source: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    is_all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    # Listing filters on it (and on the window): the active ones are few, the table stays small.
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def active(cls, now: datetime) -> Select[tuple[Announcement]]:
        """Published and within its window at `now`, in Mastodon's chronological order (by
        start, else publication)."""
        return (
            select(cls)
            .where(
                cls.published_at <= now,
                or_(cls.starts_at.is_(None), cls.starts_at <= now),
                or_(cls.ends_at.is_(None), cls.ends_at > now),
            )
            .order_by(func.coalesce(cls.starts_at, cls.published_at), cls.id)
        )


class AnnouncementRead(db.Model):
    """An account dismissed (read) an announcement."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef(index=False)  # the unique pair below covers it
    announcement_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("announcement.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "announcement_id"),)


class AnnouncementReaction(db.Model):
    """One account's emoji reaction to an announcement: a unicode emoji or a local shortcode."""

    id: Mapped[str] = FlakeId()
    account_id: Mapped[str] = AccountRef()
    announcement_id: Mapped[str] = mapped_column(
        String(18), ForeignKey("announcement.id", ondelete="CASCADE"), index=False
    )
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # (announcement_id, name, account_id) serves the counts, `me` and the idempotent put.
    __table_args__ = (UniqueConstraint("announcement_id", "name", "account_id"),)


# ---- E-mail confirmation at registration (SPEC 26, 29)


class EmailConfirmationToken(db.Model):
    """A one-use e-mail confirmation link, kept as a SHA-256 of the secret that was mailed."""

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = AccountRef()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(db.Model):
    """An ActivityPub activity Kenoma sent or accepted (SPEC 24). Inbound ones make replays
    no-ops (their `ap_id` is unique); local ones keep the JSON that was delivered, so
    `/activities/<uuid>` can serve it and an `Undo` can name it."""

    id: Mapped[str] = FlakeId()
    ap_id: Mapped[str] = mapped_column(String(1024), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(
        String(18), ForeignKey("account.id", ondelete="CASCADE"), default=None
    )
    object_id: Mapped[str] = mapped_column(String(1024), default="")  # the object's ap_id
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # (type, actor, object) finds the Like or Follow an Undo takes back, both directions;
    # (type, object) the Delete of a local object, for its Tombstone (federation.objects).
    __table_args__ = (
        Index("ix_activity_type_actor_object", "type", "actor_id", "object_id"),
        Index("ix_activity_type_object", "type", "object_id"),
    )
