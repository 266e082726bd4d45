"""Pleroma chats (SPEC 26; Pleroma's docs/development/API/chats.md): one-to-one chats, their
messages and read markers. Pleroma serves them under /api/v1/pleroma and /api/v2/pleroma only
(not the legacy /api/pleroma), so this group is mounted on its own (routes/__init__.py)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import request
from sqlalchemy import select

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import Chat
from models import ChatMessageReference
from models import db
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Bool
from params import IdStr
from params import Length
from params import Params
from services import chats

bp = APIBlueprint("pleroma_chats", __name__, url_prefix="/api", tag="Pleroma chats")

Page = tuple[list[dict], int, dict[str, str]]


class ChatsIn(PageIn):
    with_muted = Bool(load_default=False)


class ChatsV1In(Params):
    with_muted = Bool(load_default=False)


class MessageIn(Params):
    # Either may be left out, not both (400 no_content, as Pleroma answers).
    content = String(load_default=None, allow_none=True)
    media_id = IdStr(load_default=None, allow_none=True, validate=Length(max=18))


class ReadIn(Params):
    last_read_id = IdStr(required=True, validate=Length(min=1, max=18))


@bp.post("/v1/pleroma/chats/by-account-id/<account_id>")
@require_auth("write:chats")
@responds(api_schemas.Chat, 404, 422)
def create_chat(account_id: str) -> dict:
    """The caller's chat with an account, made if there is none yet."""
    return serializers.chat_json(chats.chat_with(me(), account_id), me())


@bp.get("/v1/pleroma/chats")
@require_auth("read:chats")
@bp.input(ChatsV1In, location="query", arg_name="data")
@responds(api_schemas.Chat, many=True)
def list_chats_v1(data: dict) -> list[dict]:
    """All the caller's chats, most recently active first (Pleroma's unpaged v1 list)."""
    query = Chat.for_account(me(), data["with_muted"]).order_by(Chat.activity_id.desc())
    return serializers.chats_json(db.session.scalars(query), me())


@bp.get("/v2/pleroma/chats")
@require_auth("read:chats")
@bp.input(ChatsIn, location="query", arg_name="data")
@paged(api_schemas.Chat)
def list_chats(data: dict) -> Page:
    """The caller's chats, most recently active first, paged on their last activity."""
    found = paginate(Chat.for_account(me(), data["with_muted"]), Chat.activity_id, page_params(data))
    return serializers.chats_json(found, me()), 200, link_header([c.activity_id for c in found])


@bp.get("/v1/pleroma/chats/<chat_id>")
@require_auth("read:chats")
@responds(api_schemas.Chat, 404)
def get_chat(chat_id: str) -> dict:
    """One of the caller's chats."""
    return serializers.chat_json(chats.own_chat(me(), chat_id), me())


@bp.get("/v1/pleroma/chats/<chat_id>/messages")
@require_auth("read:chats")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.ChatMessage, 404)
def list_messages(chat_id: str, data: dict) -> Page:
    """The chat's messages, newest first."""
    chat = chats.own_chat(me(), chat_id)
    query = select(ChatMessageReference).where(ChatMessageReference.chat_id == chat.id)
    found = paginate(query, ChatMessageReference.id, page_params(data))
    return serializers.chat_messages_json(found), 200, link_header([r.id for r in found])


@bp.post("/v1/pleroma/chats/<chat_id>/messages")
@require_auth("write:chats")
@bp.input(MessageIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ChatMessage, 400, 404, 422)
def post_message(chat_id: str, data: dict) -> dict:
    """Post a message (text, an upload or both); an Idempotency-Key header makes retries safe."""
    chat = chats.own_chat(me(), chat_id)
    key = (request.headers.get("Idempotency-Key") or "")[:255] or None
    reference = chats.post_message(me(), chat, data["content"], data["media_id"] or None, key)
    return serializers.chat_message_json(reference)


@bp.delete("/v1/pleroma/chats/<chat_id>/messages/<message_id>")
@require_auth("write:chats")
@responds(api_schemas.ChatMessage, 404)
def delete_message(chat_id: str, message_id: str) -> dict:
    """Delete one's own message for both sides, or hide another's from one's own chat."""
    reference = chats.own_reference(chats.own_chat(me(), chat_id), message_id)
    body = serializers.chat_message_json(reference)  # Pleroma answers with the deleted message
    chats.delete_message(me(), reference)
    return body


@bp.post("/v1/pleroma/chats/<chat_id>/read")
@require_auth("write:chats")
@bp.input(ReadIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Chat, 404, 422)
def mark_chat_read(chat_id: str, data: dict) -> dict:
    """Mark the chat's messages up to `last_read_id` read."""
    chat = chats.own_chat(me(), chat_id)
    chats.mark_read(chat, data["last_read_id"])
    return serializers.chat_json(chat, me())


@bp.post("/v1/pleroma/chats/<chat_id>/messages/<message_id>/read")
@require_auth("write:chats")
@responds(api_schemas.ChatMessage, 404)
def mark_message_read(chat_id: str, message_id: str) -> dict:
    """Mark one message of the chat read."""
    reference = chats.own_reference(chats.own_chat(me(), chat_id), message_id)
    chats.mark_message_read(reference)
    return serializers.chat_message_json(reference)
