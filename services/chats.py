"""Pleroma chats (SPEC 26): one-to-one chats, with local or (through federation) remote accounts. Each participant owns a Chat
row; a message is stored once and shown in both chats through a ChatMessageReference, which holds
that reader's unread flag (Pleroma's design, so deleting someone else's message hides it from
one's own chat only)."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update

import formatting
from errors import ApiError
from models import Account
from models import Block
from models import Chat
from models import ChatMessage
from models import ChatMessageReference
from models import Media
from models import begin_write
from models import db
from models import new_flake_id
from models import utcnow
from services import events
from services.accounts import mention_resolver
from services.notifications import notify

NOT_FOUND = "Record not found"
# A retry with the same Idempotency-Key within this time returns the first message.
IDEMPOTENCY_WINDOW = timedelta(hours=1)


def own_chat(owner: Account, chat_id: str) -> Chat:
    """The caller's chat; someone else's answers like a missing one."""
    chat = db.session.get(Chat, chat_id)
    if chat is None or chat.account_id != owner.id:
        raise ApiError(404, NOT_FOUND)
    return chat


def own_reference(chat: Chat, reference_id: str) -> ChatMessageReference:
    """A message of the caller's chat, by the id the caller sees."""
    reference = db.session.get(ChatMessageReference, reference_id)
    if reference is None or reference.chat_id != chat.id:
        raise ApiError(404, NOT_FOUND)
    return reference


def chat_with(owner: Account, recipient_id: str) -> Chat:
    """POST /chats/by-account-id: the one chat of the owner with that account, made if new."""
    recipient = db.session.get(Account, recipient_id)
    if recipient is None or not recipient.is_active:
        raise ApiError(404, NOT_FOUND)
    begin_write()
    chat = _get_or_create(owner.id, recipient.id)
    db.session.commit()
    return chat


def _get_or_create(owner_id: str, recipient_id: str) -> Chat:
    chat = db.session.scalar(
        select(Chat).where(Chat.account_id == owner_id, Chat.recipient_id == recipient_id)
    )
    if chat is None:
        chat = Chat(account_id=owner_id, recipient_id=recipient_id)
        db.session.add(chat)
        db.session.flush()
    return chat


def post_message(
    author: Account, chat: Chat, content: str | None, media_id: str | None, idempotency_key: str | None
) -> ChatMessageReference:
    """Post to the chat: the message goes into the author's chat (read) and the recipient's
    (unread, made if need be), and the recipient gets a pleroma:chat_mention notification.
    Errors carry Pleroma's bodies: 400 no_content / content_too_long, 422 for a refusing
    recipient (Pleroma's validator messages)."""
    earlier = _idempotent_hit(author, chat, idempotency_key)
    if earlier is not None:
        return earlier
    media = _media(author, media_id)
    text = content or ""
    if not text.strip() and media is None:
        raise ApiError(400, "no_content")
    if len(text) > current_app.config["MAX_TOOT_CHARS"] and media is None:
        raise ApiError(400, "content_too_long")
    recipient = db.session.get(Account, chat.recipient_id)
    _check_recipient(author, recipient)
    rendered = formatting.render_status(
        text, "text/plain", current_app.config["BASE_URL"], mention_resolver()
    )
    begin_write()
    now = utcnow()
    message = ChatMessage(
        account_id=author.id,
        content=rendered.html if text.strip() else "",
        media_id=media.id if media else None,
        emojis=rendered.shortcodes,
        idempotency_key=idempotency_key or None,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    mine = ChatMessageReference(chat_id=chat.id, message_id=message.id, is_unread=False)
    db.session.add(mine)
    chat.updated_at, chat.activity_id = now, new_flake_id()
    if recipient.id != author.id and recipient.is_local:  # a chat with oneself holds each once
        _deliver(author, recipient, message, now)
    elif not recipient.is_local:  # another server's account: federation sends it there
        events.emit(events.chat_message_posted, message_id=message.id, recipient_id=recipient.id)
    db.session.commit()
    return mine


def receive_message(
    author: Account, recipient: Account, content_html: str, media: Media | None, created_at: datetime
) -> ChatMessage | None:
    """A message another server's account sent to a local one (SPEC 24.4): into the
    recipient's chat, unread, with its notification. None when the recipient refuses it."""
    try:
        _check_recipient(author, recipient)
    except ApiError:
        return None
    if media is not None:
        db.session.add(media)
        db.session.flush()
    message = ChatMessage(
        account_id=author.id,
        content=content_html,
        media_id=media.id if media is not None else None,
        emojis=[],
        created_at=created_at,
    )
    db.session.add(message)
    db.session.flush()
    _deliver(author, recipient, message, utcnow())
    db.session.commit()
    return message


def _deliver(author: Account, recipient: Account, message: ChatMessage, now: datetime) -> None:
    """The recipient's copy of the message (unread) in its chat, and its notification."""
    their_chat = _get_or_create(recipient.id, author.id)
    theirs = ChatMessageReference(chat_id=their_chat.id, message_id=message.id, is_unread=True)
    db.session.add(theirs)
    their_chat.updated_at, their_chat.activity_id = now, new_flake_id()
    db.session.flush()
    notification = notify(recipient, author, "pleroma:chat_mention")
    if notification is not None:
        notification.chat_message_id = theirs.id


def _idempotent_hit(author: Account, chat: Chat, key: str | None) -> ChatMessageReference | None:
    if not key:
        return None
    return db.session.scalar(
        select(ChatMessageReference)
        .join(ChatMessage, ChatMessage.id == ChatMessageReference.message_id)
        .where(
            ChatMessage.account_id == author.id,
            ChatMessage.idempotency_key == key,
            ChatMessage.created_at > utcnow() - IDEMPOTENCY_WINDOW,
            ChatMessageReference.chat_id == chat.id,
        )
    )


def _media(author: Account, media_id: str | None) -> Media | None:
    # Unknown ids and others' uploads are ignored, as for statuses (SPEC 4).
    media = db.session.get(Media, media_id) if media_id else None
    return media if media is not None and media.account_id == author.id else None


def _check_recipient(author: Account, recipient: Account | None) -> None:
    """Pleroma's ChatMessage validator: the recipient must exist, accept chat messages and not
    block the author."""
    if recipient is None or not recipient.is_active:
        raise ApiError(404, NOT_FOUND)
    if recipient.accepts_chat_messages is False:
        raise ApiError(422, "recipient does not accept chat messages")
    blocked = exists().where(Block.account_id == recipient.id, Block.target_id == author.id)
    if db.session.scalar(select(blocked)):
        raise ApiError(422, "actor is blocked by recipient")


def delete_message(owner: Account, reference: ChatMessageReference) -> None:
    """One's own message is deleted for both sides (with the recipient's notification); someone
    else's only leaves the caller's chat, as in Pleroma."""
    message = db.session.get(ChatMessage, reference.message_id)
    if message is not None and message.account_id == owner.id:
        db.session.execute(delete(ChatMessage).where(ChatMessage.id == message.id))
    else:
        db.session.execute(delete(ChatMessageReference).where(ChatMessageReference.id == reference.id))
    db.session.commit()


def mark_read(chat: Chat, last_read_id: str) -> None:
    """Every message of the chat up to and including `last_read_id` is read."""
    db.session.execute(
        update(ChatMessageReference)
        .where(
            ChatMessageReference.chat_id == chat.id,
            ChatMessageReference.id <= last_read_id,
            ChatMessageReference.is_unread.is_(True),
        )
        .values(is_unread=False)
    )
    db.session.commit()


def mark_message_read(reference: ChatMessageReference) -> None:
    reference.is_unread = False
    db.session.commit()
