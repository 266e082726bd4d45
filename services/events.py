"""What services announce after a change is committed: blinker signals that federation (and
streaming) listen to, so services never import them. A signal fires only once the transaction
that made the change has committed — never for a write that was rolled back.

Receivers get ids, not ORM objects: they run after the commit and usually queue a job, which
loads what it needs in its own session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blinker import Namespace
from blinker import Signal
from sqlalchemy import event
from sqlalchemy.orm import Session

_signals = Namespace()

status_posted = _signals.signal("status-posted")  # status_id, local[, remote_audience: bool | None]
status_deleted = _signals.signal("status-deleted")  # status_id, uri, author_id, recipient_ids
follow_requested = _signals.signal("follow-requested")  # follower_id, followee_id
follow_accepted = _signals.signal("follow-accepted")  # follower_id, followee_id
follow_rejected = _signals.signal("follow-rejected")  # follower_id, followee_id
unfollowed = _signals.signal("unfollowed")  # follower_id, followee_id
account_deleted = _signals.signal("account-deleted")  # account_id, follower_ids
profile_updated = _signals.signal("profile-updated")  # account_id
account_moved = _signals.signal("account-moved")  # origin_id, target_id
status_edited = _signals.signal("status-edited")  # status_id
poll_voted = _signals.signal("poll-voted")  # poll_id, account_id, choices
report_forwarded = _signals.signal("report-forwarded")  # report_id
chat_message_posted = _signals.signal("chat-message-posted")  # message_id, recipient_id
# Interactions: `local` whether the acting account is local, `author_local` the status' author.
favourited = _signals.signal("favourited")  # account_id, status_id, local, author_local
unfavourited = _signals.signal("unfavourited")  # account_id, status_id, local, author_local
reacted = _signals.signal("reacted")  # account_id, status_id, emoji, url, local, author_local
unreacted = _signals.signal("unreacted")  # account_id, status_id, emoji, url, local, author_local
blocked = _signals.signal("blocked")  # blocker_id, target_id, local
unblocked = _signals.signal("unblocked")  # blocker_id, target_id, local
pinned = _signals.signal("pinned")  # account_id, status_id
unpinned = _signals.signal("unpinned")  # account_id, status_id

_PENDING = "kenoma_after_commit"


def emit(signal: Signal, **kwargs: Any) -> None:
    """Send `signal` with kwargs once the current transaction commits."""
    from models import db  # lazy: models stays free of this module

    db.session().info.setdefault(_PENDING, []).append(lambda: signal.send(None, **kwargs))


@event.listens_for(Session, "after_commit")
def _fire(session: Session) -> None:
    pending: list[Callable[[], Any]] = session.info.pop(_PENDING, [])
    for send in pending:
        send()


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
