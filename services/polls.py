"""Polls (SPEC 26): the limits, the poll of a new status, voting, and the job that ends a poll."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

import jobs
from errors import ApiError
from jobs import job
from models import Account
from models import Poll
from models import PollVote
from models import Status
from models import db
from models import new_flake_id
from models import utcnow
from services import events
from services.interactions import get_visible
from services.notifications import add_notifications
from services.notifications import notification_values

# Pleroma's names; the instance entity also shows them as Mastodon's `configuration.polls`.
# Mastodon's bounds: 5 minutes to a year (Pleroma's default minimum is 0, SPEC 26 says 5 min).
POLL_LIMITS = {
    "max_options": 20,
    "max_option_chars": 200,
    "min_expiration": 300,
    "max_expiration": 365 * 86400,
}
_ADD_POLL = insert(Poll)


@dataclass
class NewPoll:
    """The `poll` of a status being posted, as the client gave it."""

    options: list[str]
    expires_in: int | None
    multiple: bool = False
    hide_totals: bool = False


def check_new_poll(poll: NewPoll, has_media: bool) -> None:
    """Refuse a poll the limits do not allow (422), before anything is written."""
    if has_media:
        raise ApiError(422, "Validation failed: A status with a poll cannot have media attachments")
    options = poll.options
    if len(options) < 2:
        raise ApiError(422, "Validation failed: A poll needs at least 2 options")
    if len(options) > POLL_LIMITS["max_options"]:
        raise ApiError(422, f"Validation failed: A poll has at most {POLL_LIMITS['max_options']} options")
    if any(not option.strip() for option in options):
        raise ApiError(422, "Validation failed: Poll options cannot be empty")
    if any(len(option) > POLL_LIMITS["max_option_chars"] for option in options):
        raise ApiError(
            422, f"Validation failed: Poll options are at most {POLL_LIMITS['max_option_chars']} characters"
        )
    if len(set(options)) != len(options):
        raise ApiError(422, "Validation failed: Poll options must be different")
    if poll.expires_in is None:
        raise ApiError(422, "Validation failed: A poll needs expires_in")
    if poll.expires_in < POLL_LIMITS["min_expiration"]:
        raise ApiError(422, "Validation failed: The poll's expiration is too soon")
    if poll.expires_in > POLL_LIMITS["max_expiration"]:
        raise ApiError(422, "Validation failed: The poll's expiration is too far in the future")


def insert_poll(status: Status, poll: NewPoll, start: datetime | None = None) -> str:
    """Write the poll of a status being posted (inside its transaction), running from `start`
    (the status' creation by default); the poll's id."""
    poll_id = new_flake_id()
    start = start or status.created_at
    db.session.connection().execute(
        _ADD_POLL,
        {
            "id": poll_id,
            "status_id": status.id,
            "options": poll.options,
            "is_multiple": poll.multiple,
            "hides_totals": poll.hide_totals,
            "expires_at": start + timedelta(seconds=poll.expires_in or 0),
            "is_closed": False,
            "created_at": start,
        },
    )
    return poll_id


def replace_poll(status: Status, poll: NewPoll | None) -> str | None:
    """An edit's poll (Mastodon): none removes the poll; new options, or a change between one
    and several choices, throw the votes away; the poll runs `expires_in` from now. The id of a
    poll whose end must be scheduled after the commit, if any."""
    current = db.session.scalar(select(Poll).where(Poll.status_id == status.id))
    if poll is None:
        if current is not None:
            db.session.delete(current)
        return None
    if current is None:
        return insert_poll(status, poll, start=utcnow())
    if current.options != poll.options or current.is_multiple != poll.multiple:
        db.session.execute(delete(PollVote).where(PollVote.poll_id == current.id))
    current.options = list(poll.options)
    current.is_multiple = poll.multiple
    current.hides_totals = poll.hide_totals
    current.expires_at = utcnow() + timedelta(seconds=poll.expires_in or 0)
    current.is_closed = False
    return current.id


def schedule_end(poll_id: str, expires_in: int | None) -> None:
    """After the commit: the job that ends the poll when its time is up."""
    jobs.enqueue("end_poll", delay=expires_in, poll_id=poll_id)


def get_visible_poll(poll_id: str, viewer: Account | None) -> Poll:
    """The poll if its status is one the viewer may see; 404 otherwise, as for a missing one."""
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        raise ApiError(404, "Record not found")
    get_visible(poll.status_id, viewer)
    return poll


def vote(account: Account, poll: Poll, choices: list[int]) -> None:
    """Record the account's choices: once per poll, one choice unless the poll is multiple."""
    status = db.session.get(Status, poll.status_id)
    if status is not None and status.account_id == account.id:
        raise ApiError(422, "Validation failed: You cannot vote in your own poll")
    if Poll.has_ended(poll.expires_at):
        raise ApiError(422, "Validation failed: The poll has already ended")
    wanted = list(dict.fromkeys(choices))
    if not wanted:
        raise ApiError(422, "Validation failed: Choose at least one option")
    if any(choice < 0 or choice >= len(poll.options) for choice in wanted):
        raise ApiError(422, "Validation failed: Invalid choice")
    if len(wanted) > 1 and not poll.is_multiple:
        raise ApiError(422, "Validation failed: This poll takes one choice")
    if _has_voted(account, poll):
        raise ApiError(422, "Validation failed: You have already voted on this poll")
    rows = [{"id": new_flake_id(), "poll_id": poll.id, "account_id": account.id, "choice": c} for c in wanted]
    if poll.remote_voters is not None:  # another server counts: show ours until it says again
        counted = list(poll.remote_tallies or [])
        tallies = counted + [0] * (len(poll.options) - len(counted))
        for choice in wanted:
            tallies[choice] += 1
        poll.remote_tallies, poll.remote_voters = tallies, poll.remote_voters + 1
    try:
        db.session.execute(insert(PollVote), [row | {"created_at": utcnow()} for row in rows])
        events.emit(events.poll_voted, poll_id=poll.id, account_id=account.id, choices=wanted)
        db.session.commit()
    except IntegrityError:  # the same vote sent twice at once
        db.session.rollback()
        raise ApiError(422, "Validation failed: You have already voted on this poll") from None


# ---- another server's polls (SPEC 24.4)


@dataclass
class RemotePoll:
    """The poll of another server's Question: its options and counts as the Question says."""

    options: list[str]
    multiple: bool
    expires_at: datetime
    tallies: list[int]
    voters: int


def insert_remote_poll(status: Status, poll: RemotePoll) -> str:
    """Write the poll of a remote status being stored (inside its transaction); its id."""
    poll_id = new_flake_id()
    db.session.connection().execute(
        _ADD_POLL,
        {
            "id": poll_id,
            "status_id": status.id,
            "options": poll.options,
            "is_multiple": poll.multiple,
            "hides_totals": False,
            "expires_at": poll.expires_at,
            "is_closed": False,
            "created_at": status.created_at,
            "remote_tallies": poll.tallies,
            "remote_voters": poll.voters,
        },
    )
    return poll_id


def refresh_remote_poll(poll: Poll, remote: RemotePoll) -> None:
    """The counts (and, after an edit, the options) the remote author's Question says now;
    new options throw the local votes away, as a local edit does."""
    if list(poll.options) != remote.options or poll.is_multiple != remote.multiple:
        db.session.execute(delete(PollVote).where(PollVote.poll_id == poll.id))
    poll.options, poll.is_multiple, poll.expires_at = remote.options, remote.multiple, remote.expires_at
    poll.remote_tallies, poll.remote_voters = remote.tallies, remote.voters
    db.session.commit()


def count_remote_vote(voter: Account, poll: Poll, choice: int) -> bool:
    """One choice of another server's account in a local poll (a multiple-choice vote arrives
    as one activity per choice). False when it does not count: the poll ended, the choice is
    unknown, it was counted before, or a single-choice poll already has the voter's vote."""
    if Poll.has_ended(poll.expires_at) or not 0 <= choice < len(poll.options):
        return False
    if not poll.is_multiple and _has_voted(voter, poll):
        return False
    row = {"id": new_flake_id(), "poll_id": poll.id, "account_id": voter.id, "choice": choice}
    try:
        db.session.execute(insert(PollVote), [row | {"created_at": utcnow()}])
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _has_voted(account: Account, poll: Poll) -> bool:
    voted = exists().where(PollVote.poll_id == poll.id, PollVote.account_id == account.id)
    return bool(db.session.scalar(select(voted)))


@job
def end_poll(poll_id: str) -> None:
    """When a poll ends: a `poll` notification to every voter and to the author (Mastodon).
    Reads count a poll as ended from its time alone; this job only sends the notifications."""
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.is_closed:
        return
    if not Poll.has_ended(poll.expires_at):  # run early (a clock step): try again at the end
        jobs.enqueue("end_poll", eta=poll.expires_at, poll_id=poll.id)
        return
    status = db.session.get(Status, poll.status_id)
    author = status.account if status is not None else None
    if author is None:
        return
    # Claimed by the first statement that writes: a second run (a duplicate job on another app
    # server) waits for this transaction and then finds the poll closed.
    closing = update(Poll).where(Poll.id == poll.id, Poll.is_closed.is_(False)).values(is_closed=True)
    if db.session.execute(closing).rowcount == 0:
        db.session.rollback()
        return
    voters = db.session.scalars(select(PollVote.account_id).where(PollVote.poll_id == poll.id).distinct())
    rows = [v for v in (notification_values(a, author, "poll", status) for a in voters) if v is not None]
    if author.domain is None:  # the author hears of its own poll's end, which notify() would drop
        rows.append(_own_poll_notification(author, status))
    if rows:
        add_notifications(rows)
    poll.is_closed = True
    db.session.commit()


def _own_poll_notification(author: Account, status: Status) -> dict:
    return {
        "account_id": author.id,
        "from_account_id": author.id,
        "type": "poll",
        "status_id": status.id,
        "target_account_id": None,
        "emoji": None,
        "emoji_url": None,
    }
