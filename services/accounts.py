"""Local accounts: creating them (CLI, registration), finding them, their profile (update_credentials)
and the queries behind their public lists (statuses, followers, following)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage

import formatting
from errors import ApiError
from keys import new_account_keys
from models import Account
from models import Block
from models import Follow
from models import Media
from models import Mute
from models import Status
from models import StatusTag
from models import db
from services import events
from services import remote
from services.media import remove_file
from services.media import store_file
from services.passwords import hash_password
from services.remote import local_host_names

NICKNAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
# Paths of this server that a nickname would shadow (Pleroma's restricted nicknames).
RESTRICTED_NICKNAMES = (
    ".well-known",
    "about",
    "activities",
    "api",
    "auth",
    "check_password",
    "dev",
    "friend-requests",
    "inbox",
    "internal",
    "main",
    "media",
    "nodeinfo",
    "notice",
    "oauth",
    "objects",
    "ostatus_subscribe",
    "pleroma",
    "proxy",
    "push",
    "registration",
    "relay",
    "settings",
    "status",
    "tag",
    "user-search",
    "user_exists",
    "users",
    "web",
    "verify_credentials",
    "update_credentials",
    "relationships",
    "search",
    "confirmation_resend",
    "mfa",
    "emoji",
    "images",
    "static",
)


def registration_errors(nickname: str, email: str | None) -> dict[str, list[str]]:
    """Field → messages, in Pleroma's changeset wording."""
    found: dict[str, list[str]] = {}
    if not NICKNAME_RE.match(nickname) or len(nickname) > 64:
        found["nickname"] = ["has invalid format"]
    elif nickname.lower() in RESTRICTED_NICKNAMES or Account.find_local(nickname) is not None:
        found["nickname"] = ["has already been taken"]
    if email:
        if "@" not in email.strip("@"):
            found["email"] = ["has invalid format"]
        elif Account.find_by_login(email) is not None and "@" in email:
            found["email"] = ["has already been taken"]
    return found


def create_local_account(
    nickname: str,
    password: str,
    email: str | None = None,
    is_admin: bool = False,
    display_name: str = "",
    bio: str = "",
    is_confirmed: bool = True,
) -> Account:
    problems = registration_errors(nickname, email)
    if problems:
        raise ApiError(400, _json_string(problems))
    private_key, public_key = new_account_keys()
    account = Account(
        nickname=nickname,
        ap_id=f"{current_app.config['BASE_URL']}/users/{nickname}",
        email=email or None,
        password_hash=hash_password(password),
        is_admin=is_admin,
        is_confirmed=is_confirmed,
        display_name=formatting.strip_tags(display_name or ""),
        private_key=private_key,
        public_key=public_key,
    )
    set_bio(account, bio)
    db.session.add(account)
    try:
        db.session.commit()
    except IntegrityError:
        # A racing registration took the name between the check above and this insert (hashing
        # and key generation take long enough for that): the loser gets the same 400.
        db.session.rollback()
        problems = registration_errors(nickname, email) or {"nickname": ["has already been taken"]}
        raise ApiError(400, _json_string(problems)) from None
    return account


def set_bio(account: Account, text: str) -> None:
    account.note_source = text
    rendered = formatting.render_bio(text, current_app.config["BASE_URL"], mention_resolver())
    account.note_html = rendered.html


def mention_resolver() -> formatting.Resolver:
    """Resolve `@nick` / `@nick@host` against accounts this server knows."""
    local_hosts = local_host_names()

    def resolve(nickname: str, host: str | None) -> formatting.MentionTarget | None:
        if host is None or host.lower() in local_hosts:
            account = Account.find_local(nickname)
        else:
            account = Account.by_id_or_nickname(f"{nickname}@{host}")
        if account is None or not account.is_active:
            return None
        return formatting.MentionTarget(account.id, account.nickname, account.ap_id, account.acct)

    return resolve


def _json_string(problems: dict) -> str:
    # Pleroma reports registration problems as a JSON *string* inside `error` (SPEC 3).
    import json

    return json.dumps(problems, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Finding accounts


def find_account(ref: str) -> Account | None:
    """An account by id, or by a reference of SPEC 1.11 (`nick`, `@nick`, `nick@host`, ap_id)
    that this server already knows: no remote lookup."""
    ref = (ref or "").strip()
    if not ref:
        return None
    account = db.session.get(Account, ref)
    if account is not None:
        return account
    return remote.find_account(ref, resolve_remote=False)


def find_or_404(ref: str, viewer: Account | None = None, visible_only: bool = False) -> Account:
    """The account a path names; unknown (or, with visible_only, hidden) → 404 `Record not found`."""
    account = find_account(ref)
    if account is None or (visible_only and not is_visible(account, viewer)):
        raise ApiError(404, "Record not found")
    return account


def is_visible(account: Account, viewer: Account | None) -> bool:
    """Deactivated and deleted accounts exist only for admins (Pleroma's `visible_for`)."""
    return account.is_active or (viewer is not None and viewer.is_admin)


def search_accounts(q: str, limit: int, offset: int = 0, viewer: Account | None = None) -> list[Account]:
    """Active accounts whose nickname or display name starts with `q`; exact nickname first."""
    nickname = q.strip().lstrip("@").partition("@")[0]
    if not nickname:
        return []
    pattern = nickname.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(Account).where(
        Account.is_active,
        or_(Account.nickname.ilike(pattern, escape="\\"), Account.display_name.ilike(pattern, escape="\\")),
    )
    if viewer is not None:
        # Nobody finds accounts they block or that block them.
        query = query.where(
            Account.id.not_in(select(Block.target_id).where(Block.account_id == viewer.id)),
            Account.id.not_in(select(Block.account_id).where(Block.target_id == viewer.id)),
        )
    exact = case((func.lower(Account.nickname) == nickname.lower(), 0), else_=1)
    query = query.order_by(exact, Account.followers_count.desc(), Account.id).limit(limit).offset(offset)
    return list(db.session.scalars(query))


# ---------------------------------------------------------------------------------------------
# update_credentials (SPEC 3)

MAX_FIELDS = 4
FIELD_NAME_LENGTH = 255
FIELD_VALUE_LENGTH = 2048
NAME_LENGTH = 100
BIO_LENGTH = 5000
DEFAULT_SCOPES = ("public", "unlisted", "private", "direct", "local")
ACTOR_TYPES = ("Person", "Service")
# update_credentials parameter -> Account column, for the plain booleans.
FLAG_COLUMNS = {
    "locked": "is_locked",
    "discoverable": "is_discoverable",
    "no_rich_text": "no_rich_text",
    "hide_followers": "hide_followers",
    "hide_follows": "hide_follows",
    "hide_followers_count": "hide_followers_count",
    "hide_follows_count": "hide_follows_count",
    "hide_favorites": "hide_favorites",
    "show_role": "show_role",
    "skip_thread_containment": "skip_thread_containment",
    "allow_following_move": "allow_following_move",
    "accepts_chat_messages": "accepts_chat_messages",
}
# Image parameter -> (Account column, size limit setting).
IMAGE_SLOTS = {
    "avatar": ("avatar", "AVATAR_UPLOAD_LIMIT"),
    "header": ("header", "BANNER_UPLOAD_LIMIT"),
    "pleroma_background_image": ("background", "BACKGROUND_UPLOAD_LIMIT"),
}


ALIAS_LIMIT = 20  # aliases an account may list (SPEC 11); Kenoma's bound, Pleroma has none


def alias_problem(account: Account, ap_ids: list[str]) -> str | None:
    """Why this list cannot be the account's aliases, or None: an account is never its own alias,
    and the list is bounded (every actor document and move check carries it)."""
    if account.ap_id in ap_ids:
        return "You cannot alias yourself."
    if len(set(ap_ids)) > ALIAS_LIMIT:
        return f"Too many aliases (at most {ALIAS_LIMIT})."
    return None


def invalid_request() -> ApiError:
    # Pleroma answers every rejected profile change with this 403 (SPEC 3).
    return ApiError(403, "Invalid request")


def update_credentials(account: Account, changes: dict[str, Any]) -> Account:
    """Apply the given profile changes (absent keys stay as they are) in one transaction.

    Everything is checked before anything is written; uploaded images are stored first and
    removed again if the transaction fails.
    """
    _check_text_limits(account, changes)
    fields = profile_fields(changes["fields_attributes"]) if "fields_attributes" in changes else None
    images = {param: value for param, value in changes.items() if param in IMAGE_SLOTS}
    for value in images.values():
        if value != "" and not isinstance(value, FileStorage):
            raise invalid_request()
    stored: dict[str, str | None] = {}
    try:
        for param, value in images.items():
            column, limit_key = IMAGE_SLOTS[param]
            stored[column] = store_image(value, current_app.config[limit_key]) if value != "" else None
        replaced = {column: getattr(account, column) for column in stored}
        _apply(account, changes, fields)
        for column, path in stored.items():
            setattr(account, column, path)
        events.emit(events.profile_updated, account_id=account.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in stored.values():
            if path:
                remove_file(path)
        raise
    for column, old in replaced.items():
        if old and old != stored[column]:
            discard_image(old)
    return account


def store_image(upload: FileStorage, limit: int) -> str:
    """Save a profile image under <instance>/media/<flake>/<name>; 413 past `limit`.
    Only what the bytes say is a picture: an HTML or SVG file named `.png` is refused like any
    invalid value (403, SPEC 3), as update_avatar refuses it."""
    stored = store_file(upload, limit)
    if not stored.mime_type.startswith("image/"):
        remove_file(stored.path)
        raise invalid_request()
    return stored.path


def discard_image(path: str) -> None:
    """Remove a replaced profile image unless an uploaded Media row still points at it."""
    if db.session.scalar(select(Media.id).where(Media.path == path)) is None:
        remove_file(path)


def _check_text_limits(account: Account, changes: dict[str, Any]) -> None:
    if len(changes.get("display_name", "")) > NAME_LENGTH or len(changes.get("note", "")) > BIO_LENGTH:
        raise invalid_request()
    scope = (changes.get("source") or {}).get("privacy", changes.get("default_scope"))
    if scope is not None and scope not in DEFAULT_SCOPES:
        raise invalid_request()
    if changes.get("actor_type") is not None and changes["actor_type"] not in ACTOR_TYPES:
        raise invalid_request()
    aliases = changes.get("also_known_as")
    if aliases is not None and not all(a.startswith(("http://", "https://")) for a in aliases):
        raise invalid_request()
    if aliases is not None and alias_problem(account, aliases):
        raise invalid_request()


def _apply(account: Account, changes: dict[str, Any], fields: list[dict] | None) -> None:
    if "display_name" in changes:
        account.display_name = formatting.strip_tags(changes["display_name"])
    if "note" in changes:
        set_bio(account, changes["note"])
    if fields is not None:
        account.fields = fields
    for param, column in FLAG_COLUMNS.items():
        if param in changes:
            setattr(account, column, changes[param])
    if "bot" in changes:
        account.actor_type = "Service" if changes["bot"] else "Person"
    if "actor_type" in changes:  # the explicit type wins over `bot`
        account.actor_type = changes["actor_type"]
    # A null inside `source` is ignored like a null parameter (the columns are NOT NULL).
    source = {key: value for key, value in (changes.get("source") or {}).items() if value is not None}
    if "default_scope" in changes:
        account.default_scope = changes["default_scope"]
    if "privacy" in source:  # Mastodon's name for the same setting wins
        account.default_scope = source["privacy"]
    if "sensitive" in source:
        account.is_sensitive_default = source["sensitive"]
    if "also_known_as" in changes:
        account.also_known_as = list(changes["also_known_as"])
    if "pleroma_settings_store" in changes:
        # Each frontend keeps its own top-level key: a save replaces that key, never the others.
        account.settings_store = {**(account.settings_store or {}), **changes["pleroma_settings_store"]}


def profile_fields(raw: Any) -> list[dict]:
    """`fields_attributes` as a list or an index map (`{"0": {...}}`, `fields_attributes[0][name]`)
    → stored entries `{name, value, value_html}`; blank pairs are dropped, more than 4 refused."""
    if isinstance(raw, dict):
        keys = sorted(raw, key=lambda k: (0, int(k)) if str(k).isdigit() else (1, str(k)))
        items = [raw[k] for k in keys]
    elif isinstance(raw, list):
        items = raw
    else:
        raise invalid_request()
    pairs: list[tuple[Any, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid_request()
        names, values = item.get("name", ""), item.get("value", "")
        if isinstance(names, list) or isinstance(values, list):  # `fields_attributes[][name]` repeated
            names, values = _as_list(names), _as_list(values)
            pairs.extend(zip(names, values + [""] * (len(names) - len(values)), strict=False))
        else:
            pairs.append((names, values))
    fields = [_field(name, value) for name, value in pairs if name or value]
    if len(fields) > MAX_FIELDS:
        raise invalid_request()
    return fields


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _field(name: Any, value: Any) -> dict:
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(name, str) or not isinstance(value, str):
        raise invalid_request()
    if len(name) > FIELD_NAME_LENGTH or len(value) > FIELD_VALUE_LENGTH:
        raise invalid_request()
    rendered = formatting.render_bio(value, current_app.config["BASE_URL"], mention_resolver())
    return {"name": formatting.strip_tags(name), "value": value, "value_html": rendered.html}


# ---------------------------------------------------------------------------------------------
# An account's statuses and follow lists (SPEC 3)


@dataclass(frozen=True)
class StatusFilters:
    pinned: bool = False
    only_media: bool = False
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_reblogs: bool = False
    exclude_visibilities: tuple[str, ...] = ()
    tagged: str | None = None
    with_muted: bool = False


def statuses_query(account: Account, viewer: Account | None, filters: StatusFilters) -> Select:
    """The account's statuses and reblogs that `viewer` may read (SPEC 1.9), filtered."""
    original = aliased(Status)
    query = Status.visible_to(viewer).where(Status.account_id == account.id)
    if filters.pinned:
        query = query.where(Status.pinned_at.is_not(None))
    if filters.only_media:
        query = query.where(
            exists().where(or_(Media.status_id == Status.id, Media.status_id == Status.reblog_of_id))
        )
    if filters.exclude_replies:
        query = query.where(Status.in_reply_to_id.is_(None))
    if filters.exclude_reblogs:
        query = query.where(Status.reblog_of_id.is_(None))
    if filters.only_reblogs:
        query = query.where(Status.reblog_of_id.is_not(None))
    if filters.exclude_visibilities:
        query = query.where(Status.visibility.not_in(filters.exclude_visibilities))
    if filters.tagged:
        tag = filters.tagged.lstrip("#").lower()
        query = query.where(
            exists().where(
                StatusTag.name == tag,
                or_(StatusTag.status_id == Status.id, StatusTag.status_id == Status.reblog_of_id),
            )
        )
    # A reblog shows only when the reader may see what it reblogs, and not from someone the
    # reader blocks, is blocked by or (unless with_muted) mutes.
    shown_original = select(original.id).where(
        original.id == Status.reblog_of_id,
        original.visibility_filter(viewer),
        _not_excluded_author(original.account_id, viewer, filters.with_muted),
    )
    return query.where(or_(Status.reblog_of_id.is_(None), shown_original.exists()))


def _not_excluded_author(author_id: Any, viewer: Account | None, with_muted: bool) -> ColumnElement[bool]:
    if viewer is None:
        return true()
    conditions = [
        author_id.not_in(select(Block.target_id).where(Block.account_id == viewer.id)),
        author_id.not_in(select(Block.account_id).where(Block.target_id == viewer.id)),
    ]
    if not with_muted:
        conditions.append(
            author_id.not_in(select(Mute.target_id).where(Mute.account_id == viewer.id, Mute.active()))
        )
    return and_(*conditions)


def followers_query(account: Account) -> Select:
    """(Follow.id, follower) rows of accepted follows: lists page on the Follow row id."""
    return (
        select(Follow.id, Account)
        .join(Account, Account.id == Follow.follower_id)
        .where(Follow.followee_id == account.id, Follow.is_pending == false(), Account.is_active)
    )


def following_query(account: Account) -> Select:
    return (
        select(Follow.id, Account)
        .join(Account, Account.id == Follow.followee_id)
        .where(Follow.follower_id == account.id, Follow.is_pending == false(), Account.is_active)
    )


def follow_list_hidden(account: Account, viewer: Account | None, which: str) -> bool:
    """Hidden follower/follow lists read as empty to everyone but their owner."""
    if viewer is not None and viewer.id == account.id:
        return False
    return account.hide_followers if which == "followers" else account.hide_follows
