"""Accounts and relationships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy import column
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy.orm import aliased

import emoji_packs
import formatting
from models import BOUND_VIEWER
from models import Account
from models import AccountNote
from models import Block
from models import DomainBlock
from models import Endorsement
from models import Follow
from models import Mute
from models import Notification
from models import Participation
from models import Subscription
from models import db
from portable_sql import as_text
from serializers.common import base_url
from serializers.common import iso
from serializers.common import media_url
from serializers.common import remote_emojis


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
    """Custom emoji named in the display name and bio (the emoji set is cached in memory); a
    remote account's come with it from its server (SPEC 24.4)."""
    if account.domain is not None:
        return remote_emojis(account.emoji_urls)
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
    avatar = account.avatar_url or _image(account.avatar, "avi.png")
    header = account.header_url or _image(account.header, "banner.png")
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
        "url": account.url or account.ap_id,
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
        # moved_to_id first: asking the relationship costs a lazy-load call even when unset.
        "moved": account_json(account.moved_to, viewer, embed_moved=False)
        if embed_moved and account.moved_to_id is not None and account.moved_to
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


def _owner_count(model: Any, *where: Any) -> Any:
    return select(db.func.count()).select_from(model).where(*where).scalar_subquery()


# The owner's three counters in one statement, built once: building it cost more than running it.
_OWNER_COUNTS = select(
    _owner_count(Notification, Notification.account_id == bindparam("id"), Notification.is_seen == false()),
    _owner_count(
        Participation, Participation.account_id == bindparam("id"), Participation.is_unread.is_(True)
    ),
    _owner_count(Follow, Follow.followee_id == bindparam("id"), Follow.is_pending.is_(True)),
)


def _owner_extras(account: Account) -> dict:
    unread_notifications, unread_conversations, follow_requests = db.session.execute(
        _OWNER_COUNTS, {"id": account.id}
    ).one()
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


def _fact(kind: str, target: Any, *values: Any) -> Select:
    """One member of the relationship facts' UNION ALL: (kind, target, a, b), untyped so no
    member's column type converts another's values (truth values arrive as 1 and 0)."""
    padded = [*values, *([null()] * (2 - len(values)))]
    columns = [literal_column(f"'{kind}'", String).label("kind"), as_text(target).label("target")]
    return select(*columns, *(as_text(v).label(f"c{i}") for i, v in enumerate(padded)))


# The targets, one JSON array bound as a string: the SQL is the same for any number of them.
_TARGETS = select(column("value")).select_from(func.json_each(bindparam("ids", type_=String)))


def _relationship_facts() -> Any:
    """Every fact of the viewer's relationships with the targets in one statement, built once
    (building eight selects cost more than running them). Values: viewer_id, ids."""
    viewer = BOUND_VIEWER.id
    return union_all(
        _fact("following", Follow.followee_id, Follow.is_pending, Follow.show_reblogs).where(
            Follow.follower_id == viewer, Follow.followee_id.in_(_TARGETS)
        ),
        _fact("followed_by", Follow.follower_id).where(
            Follow.followee_id == viewer, Follow.follower_id.in_(_TARGETS), Follow.is_pending == false()
        ),
        _fact("blocking", Block.target_id).where(Block.account_id == viewer, Block.target_id.in_(_TARGETS)),
        _fact("blocked_by", Block.account_id).where(
            Block.target_id == viewer, Block.account_id.in_(_TARGETS)
        ),
        # Expired mutes no longer count; `now` is bound when the statement runs (Mute.active).
        _fact("muting", Mute.target_id, Mute.hide_notifications).where(
            Mute.account_id == viewer, Mute.target_id.in_(_TARGETS), Mute.active()
        ),
        _fact("endorsed", Endorsement.target_id).where(
            Endorsement.account_id == viewer, Endorsement.target_id.in_(_TARGETS)
        ),
        _fact("subscribing", Subscription.target_id).where(
            Subscription.account_id == viewer, Subscription.target_id.in_(_TARGETS)
        ),
        _fact("note", AccountNote.target_id, AccountNote.comment).where(
            AccountNote.account_id == viewer, AccountNote.target_id.in_(_TARGETS)
        ),
        _fact("domain_blocking", Account.id).where(
            Account.id.in_(_TARGETS), DomainBlock.hides(viewer, Account)
        ),
    )


_RELATIONSHIP_FACTS = _relationship_facts()


def relationships_json(viewer: Account, target_ids: list[str]) -> list[dict]:
    """Relationships of the viewer with each target, in order, in one statement."""
    ids = list(dict.fromkeys(target_ids))
    if not ids:
        return []
    facts: dict[str, dict[str, tuple]] = {}
    values = {"viewer_id": viewer.id, "ids": orjson.dumps(ids).decode()}
    for kind, target, first, second in db.session.execute(_RELATIONSHIP_FACTS, values):
        facts.setdefault(target, {})[kind] = (first, second)
    return [_relationship(tid, facts.get(tid, {})) for tid in ids]


def _truth(value: Any) -> bool:
    return bool(int(value)) if value is not None else False


def _relationship(target_id: str, facts: dict[str, tuple]) -> dict:
    following, muting = facts.get("following"), facts.get("muting")
    subscribing = "subscribing" in facts
    # Pleroma's `subscribing` and Mastodon's `notifying` are one flag (SPEC 21.11).
    return {
        "id": target_id,
        "following": following is not None and not _truth(following[0]),
        "showing_reblogs": _truth(following[1]) if following is not None else True,
        "notifying": subscribing,
        "followed_by": "followed_by" in facts,
        "blocking": "blocking" in facts,
        "blocked_by": "blocked_by" in facts,
        "muting": muting is not None,
        "muting_notifications": muting is not None and _truth(muting[0]),
        "subscribing": subscribing,
        "requested": following is not None and _truth(following[0]),
        "domain_blocking": "domain_blocking" in facts,
        "endorsed": "endorsed" in facts,
        "note": facts["note"][0] if "note" in facts else "",
    }


def relationship_json(viewer: Account, target: Account) -> dict:
    return relationships_json(viewer, [target.id])[0]


def familiar_followers_json(viewer: Account, target_ids: list[str]) -> list[dict]:
    """For each known target, in order: the accounts the viewer follows that follow it too, in two
    queries whatever the number of targets. Accounts hiding whom they follow are left out."""
    ids = list(dict.fromkeys(target_ids))
    known = set(db.session.scalars(select(Account.id).where(Account.id.in_(ids), Account.is_active)))
    mine = aliased(Follow)
    theirs = aliased(Follow)
    rows = db.session.execute(
        select(theirs.followee_id, Account)
        .select_from(mine)
        .join(theirs, theirs.follower_id == mine.followee_id)
        .join(Account, Account.id == mine.followee_id)
        .where(
            mine.follower_id == viewer.id,
            mine.is_pending == false(),
            theirs.followee_id.in_(sorted(known)),
            theirs.is_pending == false(),
            Account.is_active,
            Account.hide_follows == false(),
        )
        .order_by(theirs.id.desc())
    ).all()
    found: dict[str, list[Account]] = {tid: [] for tid in ids if tid in known}
    for target_id, account in rows:
        found[target_id].append(account)
    return [
        {"id": tid, "accounts": [account_json(a, viewer) for a in accounts]}
        for tid, accounts in found.items()
    ]
