"""Pleroma's Chat and ChatMessage entities (SPEC 26). A page of chats or messages is loaded in a
fixed number of queries: messages, their media, the chats' recipients, unread counts and last
messages each come in one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

import emoji_packs
from models import Account
from models import Chat
from models import ChatMessage
from models import ChatMessageReference
from models import Media
from models import db
from models import utcnow
from serializers.accounts import accounts_json
from serializers.common import iso
from serializers.media import attachment_json

# Pleroma echoes the Idempotency-Key only "during the first few minutes" after the message.
IDEMPOTENCY_ECHO = timedelta(minutes=10)


def chat_messages_json(references: Iterable[ChatMessageReference]) -> list[dict]:
    references = list(references)
    message_ids = {r.message_id for r in references}
    messages = {
        m.id: m for m in db.session.scalars(select(ChatMessage).where(ChatMessage.id.in_(message_ids)))
    }
    media_ids = {m.media_id for m in messages.values() if m.media_id}
    media = {m.id: m for m in db.session.scalars(select(Media).where(Media.id.in_(media_ids)))}
    shortcodes = [sc for m in messages.values() for sc in m.emojis or ()]
    emoji = emoji_packs.emoji_by_shortcode(shortcodes) if shortcodes else {}
    return [_message(r, messages[r.message_id], media, emoji) for r in references]


def _message(reference: ChatMessageReference, message: ChatMessage, media: dict, emoji: dict) -> dict:
    data = {
        "id": reference.id,
        "chat_id": reference.chat_id,
        "account_id": message.account_id,
        "content": message.content,
        "created_at": iso(message.created_at),
        "emojis": [emoji[sc] for sc in message.emojis or () if sc in emoji],
        "attachment": attachment_json(media[message.media_id]) if message.media_id in media else None,
        "card": None,
        "unread": reference.is_unread,
    }
    if message.idempotency_key and message.created_at > utcnow() - IDEMPOTENCY_ECHO:
        data["idempotency_key"] = message.idempotency_key
    return data


def chat_message_json(reference: ChatMessageReference) -> dict:
    return chat_messages_json([reference])[0]


def chat_messages_by_reference(reference_ids: Iterable[str]) -> dict[str, dict]:
    """Rendered messages by reference id, for notifications that point at them."""
    wanted = set(reference_ids)
    if not wanted:
        return {}
    found = db.session.scalars(select(ChatMessageReference).where(ChatMessageReference.id.in_(wanted)))
    return {item["id"]: item for item in chat_messages_json(found)}


def chats_json(chats: Iterable[Chat], viewer: Account) -> list[dict]:
    chats = list(chats)
    chat_ids = [c.id for c in chats]
    recipient_ids = {c.recipient_id for c in chats}
    recipients = db.session.scalars(select(Account).where(Account.id.in_(recipient_ids)))
    accounts = {a["id"]: a for a in accounts_json(recipients, viewer)}
    unread = dict(
        db.session.execute(
            select(ChatMessageReference.chat_id, func.count())
            .where(ChatMessageReference.chat_id.in_(chat_ids), ChatMessageReference.is_unread.is_(True))
            .group_by(ChatMessageReference.chat_id)
        ).all()
    )
    newest = (
        select(func.max(ChatMessageReference.id))
        .where(ChatMessageReference.chat_id.in_(chat_ids))
        .group_by(ChatMessageReference.chat_id)
    )
    last = db.session.scalars(select(ChatMessageReference).where(ChatMessageReference.id.in_(newest)))
    last_by_chat = {item["chat_id"]: item for item in chat_messages_json(last)}
    return [
        {
            "id": c.id,
            "account": accounts[c.recipient_id],
            "unread": unread.get(c.id, 0),
            "last_message": last_by_chat.get(c.id),
            "updated_at": iso(c.updated_at),
        }
        for c in chats
    ]


def chat_json(chat: Chat, viewer: Account) -> dict:
    return chats_json([chat], viewer)[0]
