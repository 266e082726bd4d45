"""Scheduled statuses (SPEC 26, Mastodon's ScheduledStatus): keeping a status to post later, moving
or dropping it, and the job that posts it through the same service as POST /api/v1/statuses."""

from __future__ import annotations

import logging
from dataclasses import asdict
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

import jobs
from errors import ApiError
from jobs import job
from models import Account
from models import Media
from models import Participation
from models import ScheduledStatus
from models import db
from models import new_flake_id
from models import utcnow
from services.polls import NewPoll
from services.statuses import NewStatus
from services.statuses import post_status

log = logging.getLogger(__name__)

# Mastodon's limits (ScheduledStatus::TOTAL_LIMIT, DAILY_LIMIT).
TOTAL_LIMIT = 300
DAILY_LIMIT = 25
_SWEEP_BATCH = 500


def parse_scheduled_at(value: str) -> datetime:
    """An ISO 8601 time (a date alone is its midnight; no zone is UTC) as naive UTC; 422 if not one."""
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise ApiError(422, "Validation failed: Scheduled at is not a valid date") from None
    return moment


def _check_time(account: Account, moment: datetime, row_id: str | None = None) -> None:
    """Mastodon's validations, with its messages: far enough ahead, at most DAILY_LIMIT a day."""
    earliest = utcnow() + timedelta(seconds=current_app.config["SCHEDULED_STATUSES_MIN_SECONDS"])
    if moment < earliest:
        raise ApiError(422, "Validation failed: Scheduled at The scheduled date must be in the future")
    day = datetime(moment.year, moment.month, moment.day)
    same_day = select(func.count()).where(
        ScheduledStatus.account_id == account.id,
        ScheduledStatus.scheduled_at >= day,
        ScheduledStatus.scheduled_at < day + timedelta(days=1),
        ScheduledStatus.id != (row_id or ""),
    )
    if db.session.scalar(same_day) >= DAILY_LIMIT:
        raise ApiError(
            422, f"Validation failed: You have exceeded the limit of {DAILY_LIMIT} scheduled posts for today"
        )


def schedule(author: Account, new: NewStatus, scheduled_at: str) -> ScheduledStatus:
    """Keep `new` to post at `scheduled_at`, its media reserved for it. The status is checked now
    by posting it for real and rolling back (as `preview` does), so a bad one is refused at once."""
    moment = parse_scheduled_at(scheduled_at)
    _check_time(author, moment)
    pending = select(func.count()).where(ScheduledStatus.account_id == author.id)
    if db.session.scalar(pending) >= TOTAL_LIMIT:
        raise ApiError(
            422, f"Validation failed: You have exceeded the limit of {TOTAL_LIMIT} scheduled posts"
        )
    new = replace(new, media_ids=_free_media(author, new.media_ids))
    post_status(author, replace(new, idempotency_key=None), commit=False)
    db.session.rollback()
    row = ScheduledStatus(
        id=new_flake_id(),
        account_id=author.id,
        scheduled_at=moment,
        params=_params(new),
        app_name=new.app_name,
        app_website=new.app_website,
    )
    db.session.add(row)
    db.session.flush()
    if new.media_ids:
        db.session.execute(
            update(Media).where(Media.id.in_(new.media_ids)).values(scheduled_status_id=row.id)
        )
    db.session.commit()
    jobs.enqueue("publish_scheduled_status", eta=moment, scheduled_status_id=row.id)
    return row


def _free_media(author: Account, media_ids: list[str]) -> list[str]:
    """The given uploads that are the author's and neither posted nor reserved, in the given order
    (others are ignored, as posting ignores them)."""
    if not media_ids:
        return []
    free = set(
        db.session.scalars(
            select(Media.id).where(
                Media.id.in_(media_ids),
                Media.account_id == author.id,
                Media.status_id.is_(None),
                Media.scheduled_status_id.is_(None),
            )
        )
    )
    return [media_id for media_id in dict.fromkeys(media_ids) if media_id in free]


def _params(new: NewStatus) -> dict:
    """The entity's `params` (Mastodon's names), plus Kenoma's own posting options."""
    return {
        "text": new.text,
        "media_ids": new.media_ids or None,
        "sensitive": new.sensitive,
        "spoiler_text": new.spoiler_text or None,
        "visibility": new.visibility,
        "language": new.language,
        "in_reply_to_id": new.in_reply_to_id,
        "poll": asdict(new.poll) if new.poll is not None else None,
        "scheduled_at": None,  # Mastodon: always null here, the time is the entity's own
        "idempotency": new.idempotency_key,
        "with_rate_limit": False,
        "content_type": new.content_type,
        "to": new.to,
        "quote_id": new.quote_id,
        "expires_in": new.expires_in,
        "in_reply_to_conversation_id": new.conversation.id if new.conversation is not None else None,
    }


def _new_status(author: Account, params: dict, app_name: str | None, app_website: str | None) -> NewStatus:
    poll = params.get("poll")
    conversation = None
    if params.get("in_reply_to_conversation_id"):
        conversation = db.session.get(Participation, params["in_reply_to_conversation_id"])
        if conversation is not None and conversation.account_id != author.id:
            conversation = None
    return NewStatus(
        text=params.get("text") or "",
        visibility=params.get("visibility"),
        content_type=params.get("content_type") or "text/plain",
        spoiler_text=params.get("spoiler_text") or "",
        sensitive=bool(params.get("sensitive")),
        language=params.get("language"),
        in_reply_to_id=params.get("in_reply_to_id"),
        media_ids=list(params.get("media_ids") or []),
        to=params.get("to"),
        quote_id=params.get("quote_id"),
        expires_in=params.get("expires_in"),
        app_name=app_name,
        app_website=app_website,
        conversation=conversation,
        poll=NewPoll(**poll) if poll else None,
    )


def own_scheduled_status(account: Account, row_id: str) -> ScheduledStatus:
    """The account's scheduled status; 404 for another's, as for a missing one."""
    row = db.session.get(ScheduledStatus, row_id)
    if row is None or row.account_id != account.id:
        raise ApiError(404, "Record not found")
    return row


def reschedule(row: ScheduledStatus, scheduled_at: str) -> ScheduledStatus:
    """Move a scheduled status (same checks as scheduling). A job already waits at the old time:
    moved later, that job finds it early and waits again; moved earlier, a new job is queued."""
    moment = parse_scheduled_at(scheduled_at)
    _check_time(db.session.get_one(Account, row.account_id), moment, row.id)
    earlier = moment < row.scheduled_at
    row.scheduled_at = moment
    db.session.commit()
    if earlier:
        jobs.enqueue("publish_scheduled_status", eta=moment, scheduled_status_id=row.id)
    return row


def cancel(row: ScheduledStatus) -> None:
    """Drop a scheduled status; its media are free again (the job that waits finds nothing)."""
    _release_media(row.id)
    db.session.delete(row)
    db.session.commit()


def _release_media(row_id: str) -> None:
    db.session.execute(
        update(Media).where(Media.scheduled_status_id == row_id).values(scheduled_status_id=None)
    )


@job
def publish_scheduled_status(scheduled_status_id: str) -> None:
    """At its time: post the status with its media and drop the row, once, however many jobs or
    sweeps reach it. Claiming is the transaction's first statement (a delete of the due row), so
    a second runner waits on the write lock and then finds nothing."""
    claim = (
        delete(ScheduledStatus)
        .where(ScheduledStatus.id == scheduled_status_id, ScheduledStatus.scheduled_at <= utcnow())
        .returning(
            ScheduledStatus.account_id,
            ScheduledStatus.params,
            ScheduledStatus.app_name,
            ScheduledStatus.app_website,
        )
    )
    claimed = db.session.execute(claim).first()
    if claimed is None:
        db.session.rollback()
        row = db.session.get(ScheduledStatus, scheduled_status_id)
        if row is not None:  # moved later (PUT), or the job ran early: wait for its time
            jobs.enqueue("publish_scheduled_status", eta=row.scheduled_at, scheduled_status_id=row.id)
        return
    _release_media(scheduled_status_id)  # the foreign key does it too, when SQLite enforces it
    author = db.session.get(Account, claimed.account_id)
    if author is None:
        db.session.commit()
        return
    try:
        post_status(author, _new_status(author, claimed.params, claimed.app_name, claimed.app_website))
    except ApiError as error:
        # No longer postable (its parent or quote is gone...): drop it rather than retry forever.
        db.session.rollback()
        log.warning("scheduled status %s not posted: %s", scheduled_status_id, error.message)
        _release_media(scheduled_status_id)
        db.session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == scheduled_status_id))
        db.session.commit()


@jobs.at_consumer_start
@job
def publish_due_scheduled_statuses() -> None:
    """Post what fell due while no consumer ran (or whose job was lost): queued when a consumer
    starts; one indexed read when nothing is due."""
    due = select(ScheduledStatus.id).where(ScheduledStatus.scheduled_at <= utcnow())
    for row_id in list(db.session.scalars(due.order_by(ScheduledStatus.scheduled_at).limit(_SWEEP_BATCH))):
        publish_scheduled_status(row_id)
