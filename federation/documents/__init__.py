"""The ActivityPub documents Kenoma serves and sends (SPEC 24.1, 24.2, 24.5): one renderer per
document, pure functions over models, shared by the GET routes and by delivery.

    common      @context, addressing and its inverse, collections, Tombstone
    actors      a local account's Person/Service, the instance actor, Emoji tags
    notes       Note/Question of a local status, batch-loaded for pages
    activities  Create, Announce, Delete, Like, EmojiReact, Follow, Accept, Reject, Undo, Block,
                Update, Move, Flag, Add, Remove, poll votes, ChatMessage
"""

from __future__ import annotations

from federation.documents.activities import accept
from federation.documents.activities import add
from federation.documents.activities import announce
from federation.documents.activities import block
from federation.documents.activities import chat_message
from federation.documents.activities import create
from federation.documents.activities import create_id
from federation.documents.activities import delete
from federation.documents.activities import emoji_react
from federation.documents.activities import flag
from federation.documents.activities import follow
from federation.documents.activities import like
from federation.documents.activities import move
from federation.documents.activities import poll_vote
from federation.documents.activities import reject
from federation.documents.activities import remove
from federation.documents.activities import undo
from federation.documents.activities import update_actor
from federation.documents.activities import update_note
from federation.documents.actors import actor
from federation.documents.actors import actor_object
from federation.documents.actors import emoji_tags
from federation.documents.actors import instance_actor
from federation.documents.actors import instance_actor_id
from federation.documents.common import ACTIVITY_JSON
from federation.documents.common import CONTEXT
from federation.documents.common import PUBLIC
from federation.documents.common import addressing
from federation.documents.common import followers_of
from federation.documents.common import ordered_collection
from federation.documents.common import ordered_collection_page
from federation.documents.common import tombstone
from federation.documents.common import visibility_from
from federation.documents.common import with_context
from federation.documents.common import without_context
from federation.documents.notes import NoteBatch
from federation.documents.notes import note
from federation.documents.notes import note_objects

__all__ = [
    "ACTIVITY_JSON",
    "CONTEXT",
    "PUBLIC",
    "NoteBatch",
    "accept",
    "actor",
    "actor_object",
    "add",
    "addressing",
    "announce",
    "block",
    "chat_message",
    "create",
    "create_id",
    "delete",
    "emoji_react",
    "emoji_tags",
    "flag",
    "follow",
    "followers_of",
    "instance_actor",
    "instance_actor_id",
    "like",
    "move",
    "note",
    "note_objects",
    "ordered_collection",
    "ordered_collection_page",
    "poll_vote",
    "reject",
    "remove",
    "tombstone",
    "undo",
    "update_actor",
    "update_note",
    "visibility_from",
    "with_context",
    "without_context",
]
