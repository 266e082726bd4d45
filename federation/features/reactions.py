"""Emoji reactions (SPEC 16, 24.4, 24.5): Pleroma's `EmojiReact` and its `Undo`, both ways.
`content` is the emoji; a custom one is `:shortcode:` with its image in an `Emoji` tag, and is
kept as `shortcode@host` with that image's URL, as Pleroma names remote emoji. Out, like a Like:
a local account's reaction to a remote status goes to its author's server."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from sqlalchemy import select

import jobs
from federation import documents
from federation import notes
from federation.actors import url_of
from federation.delivery import publish
from federation.features.support import enqueue
from federation.features.support import may_act_on
from federation.fetch import host_of
from federation.inbox import KEEP_DATA
from federation.inbox import UNDO_HANDLERS
from federation.inbox import handles
from federation.inbox import object_status
from federation.outbox import new_activity_id
from models import Account
from models import Activity
from models import Status
from models import db
from services import events
from services import reactions as reaction_service

# An EmojiReact's Undo names it by id only: its emoji is read back from the activity we kept.
KEEP_DATA.add("EmojiReact")

SHORTCODE = re.compile(r"^:([A-Za-z0-9_+-]{1,64}):$")

# ---- out


@events.reacted.connect
def _reacted(_sender: object, local: bool, author_local: bool, **reaction: Any) -> None:
    if local and not author_local:
        enqueue("federate_reaction", **reaction)


@events.unreacted.connect
def _unreacted(_sender: object, local: bool, author_local: bool, **reaction: Any) -> None:
    if local and not author_local:
        enqueue("federate_unreaction", **reaction)


def _reacting(account_id: str, status_id: str) -> tuple[Account, Status] | None:
    account, status = db.session.get(Account, account_id), db.session.get(Status, status_id)
    if account is None or status is None or not account.is_local or status.account.is_local:
        return None
    return account, status


@jobs.job
def federate_reaction(account_id: str, status_id: str, emoji: str, url: str | None) -> None:
    """EmojiReact of a local account to a remote status, to its author."""
    pair = _reacting(account_id, status_id)
    if pair is None:
        return
    account, status = pair
    react = documents.emoji_react(account, status, emoji, url, new_activity_id())
    publish(react, account, to=[status.account], object_id=status.uri)


def _sent_reaction(account: Account, status: Status, content: str) -> dict | None:
    """The EmojiReact this account sent with that emoji (it may have sent several emoji)."""
    sent = db.session.scalars(
        select(Activity.data)
        .where(
            Activity.type == "EmojiReact",
            Activity.actor_id == account.id,
            Activity.object_id == status.uri,
            Activity.is_local.is_(True),
        )
        .order_by(Activity.id.desc())
    )
    return next((data for data in sent if data and data.get("content") == content), None)


@jobs.job
def federate_unreaction(account_id: str, status_id: str, emoji: str, url: str | None) -> None:
    """Undo of the EmojiReact sent for that emoji."""
    pair = _reacting(account_id, status_id)
    if pair is None:
        return
    account, status = pair
    fresh = documents.emoji_react(account, status, emoji, url, new_activity_id())
    inner = _sent_reaction(account, status, fresh["content"]) or fresh
    undo = documents.undo(account, inner, new_activity_id())
    publish(undo, account, to=[status.account], object_id=status.uri)


# ---- in


def _custom_emoji(activity: dict, shortcode: str) -> str | None:
    """The image URL of `:shortcode:` in the activity's Emoji tags."""
    tags = activity.get("tag")
    for tag in tags if isinstance(tags, list) else [tags]:
        if (
            isinstance(tag, dict)
            and tag.get("type") == "Emoji"
            and str(tag.get("name")).strip(":") == shortcode
        ):
            return url_of(tag.get("icon"))
    return None


def reaction_of(activity: dict, status: Status) -> tuple[str, str | None] | None:
    """(stored name, url) of the emoji an EmojiReact (or Misskey Like) carries, None when it is
    not one we accept: a single unicode emoji, or a custom emoji with its image."""
    content = str(activity.get("content") or "").strip()
    custom = SHORTCODE.match(content)
    if custom is None:
        return reaction_service.normalise(content, status)
    shortcode = custom.group(1)
    url = _custom_emoji(activity, shortcode)
    if url is None:  # no image sent: one of ours, if we have it
        return reaction_service.normalise(content, status)
    host = host_of(url)
    ours = host == host_of(current_app.config["BASE_URL"])
    return (shortcode if ours else f"{shortcode}@{host}"), url


def react_from(activity: dict, actor: Account, status: Status) -> bool:
    """Apply the reaction an activity carries; False when its emoji is not accepted."""
    if status.is_reblog:
        return False
    accepted = reaction_of(activity, status)
    if accepted is None:
        return False
    reaction_service.add(actor, status, *accepted)
    return True


def unreact_from(activity: dict, actor: Account, status: Status) -> bool:
    accepted = reaction_of(activity, status)
    return accepted is not None and reaction_service.remove(actor, status, accepted[0])


@handles("EmojiReact")
def on_emoji_react(activity: dict, actor: Account) -> None:
    status = object_status(activity)
    if status is not None and may_act_on(status, actor):
        react_from(activity, actor, status)


def _undo_reaction(actor: Account, object_id: str, inner_id: str) -> None:
    status = notes.known_status(object_id)
    received = db.session.scalar(
        select(Activity).where(Activity.ap_id == inner_id, Activity.actor_id == actor.id)
    )
    if status is not None and received is not None and received.data:
        unreact_from(received.data, actor, status)


UNDO_HANDLERS["EmojiReact"] = _undo_reaction
