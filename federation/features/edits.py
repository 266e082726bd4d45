"""Status edits (SPEC 24.4, 24.5, 26). Out: an edited local status goes out as an Update of
its whole Note to the audience of its Create. In: the author's Update of a Note we hold becomes
an edit with its history and `update` notifications (`services.status_edits`); an Update of a
Question also refreshes the poll's counts (`federation.features.polls`)."""

from __future__ import annotations

import formatting
import jobs
from federation import actors
from federation import documents
from federation import notes
from federation.delivery import publish
from federation.features import polls
from federation.inbox import UPDATE_HANDLERS
from federation.outbox import addressed_remote_accounts
from federation.outbox import enqueue
from federation.outbox import new_activity_id
from models import Account
from models import Status
from models import db
from models import utcnow
from services import events
from services.status_edits import RemoteVersion
from services.status_edits import apply_remote_edit


@events.status_edited.connect
def _status_edited(_sender: object, status_id: str) -> None:
    enqueue("federate_edit", status_id=status_id)


@jobs.job
def federate_edit(status_id: str) -> None:
    status = db.session.get(Status, status_id)
    if status is None or not status.account.is_local or status.visibility == "local" or status.is_reblog:
        return
    publish(
        documents.update_note(status, new_activity_id()),
        status.account,
        to=addressed_remote_accounts(status.id),
        followers=status.visibility != "direct",
        object_id=status.uri,
    )


def on_note_update(document: dict, actor: Account) -> None:
    """The inbox checked that `actor` wrote the document and that it lives on its host."""
    status = notes.known_status(str(document.get("id") or ""))
    if status is None or status.account_id != actor.id or status.is_reblog:
        return  # an edit of something we never stored is not worth fetching
    version = RemoteVersion(
        content=notes._content(document),
        spoiler_text=formatting.strip_tags(str(document.get("summary") or "")),
        sensitive=bool(document.get("sensitive")),
        emoji_urls=actors.emoji_urls(document.get("tag")),
        media=notes._media(document, actor),
        # When the edit was made: its `updated`, never later than now.
        edited_at=min(polls.moment(document.get("updated")) or utcnow(), utcnow()),
        poll_options=poll.options if (poll := polls.read_poll(document)) is not None else None,
    )
    apply_remote_edit(status, version)
    if document.get("type") == "Question":
        polls.refresh(status, document)


UPDATE_HANDLERS["Note"] = on_note_update
