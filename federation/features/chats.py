"""Pleroma chats (SPEC 24.4, 24.5, 26). Out: a message to another server's account goes there as
a Create of a ChatMessage addressed to it alone. In: a ChatMessage from a remote account to a
local one joins the local account's chat with it (unread, with a pleroma:chat_mention
notification), unless the local account refuses chat messages or blocks the sender."""

from __future__ import annotations

import uuid

from flask import current_app

import formatting
import jobs
from federation import documents
from federation import notes
from federation.delivery import publish
from federation.features.polls import moment
from federation.fetch import host_of
from federation.inbox import CREATE_CLAIMS
from federation.inbox import claim  # a message's own id is claimed like an activity's
from federation.inbox import local_account
from federation.outbox import enqueue
from federation.outbox import new_activity_id
from models import Account
from models import ChatMessage
from models import db
from models import utcnow
from services import chats
from services import events

MAX_CONTENT = 20_000  # characters of HTML kept from a remote message


@events.chat_message_posted.connect
def _chat_message_posted(_sender: object, message_id: str, recipient_id: str) -> None:
    enqueue("federate_chat_message", message_id=message_id, recipient_id=recipient_id)


@jobs.job
def federate_chat_message(message_id: str, recipient_id: str) -> None:
    message, recipient = db.session.get(ChatMessage, message_id), db.session.get(Account, recipient_id)
    author = db.session.get(Account, message.account_id) if message is not None else None
    if message is None or recipient is None or author is None or recipient.is_local or not author.is_local:
        return
    object_id = f"{current_app.config['BASE_URL']}/objects/{uuid.uuid4()}"
    create = documents.chat_message(message, author, recipient, object_id, new_activity_id())
    publish(create, author, to=[recipient], object_id=object_id)


def claim_chat_message(document: dict, actor: Account) -> bool:
    """A ChatMessage is never a status: stored as a message of its one local recipient's chat,
    when the actor wrote it."""
    if document.get("type") != "ChatMessage":
        return False
    addressed = notes.recipients(document.get("to"))
    recipient = local_account(addressed[0]) if len(addressed) == 1 else None
    written = notes.attributed_to(document) == actor.ap_id
    if recipient is None or not written or host_of(str(document.get("id") or "")) != host_of(actor.ap_id):
        return True
    media = notes._media(document, actor)[:1]
    content = formatting.sanitize_html(str(document.get("content") or ""))[:MAX_CONTENT]
    if not formatting.strip_tags(content).strip() and not media:
        return True
    if not claim(document, actor):
        return True  # this message came before, in another activity
    sent = moment(document.get("published")) or utcnow()
    chats.receive_message(actor, recipient, content, media[0] if media else None, min(sent, utcnow()))
    return True


CREATE_CLAIMS.append(claim_chat_message)
