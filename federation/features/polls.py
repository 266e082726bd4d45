"""Polls (SPEC 24.4, 24.5, 26). A local poll goes out as a `Question` with its status
(`federation.documents.notes`). In: a remote Question's poll is read from `oneOf`/`anyOf`,
`endTime` and each option's `replies.totalItems`, and stored with its status; an Update of the
Question refreshes the counts. A local vote in a remote poll goes to the poll's author as a
Create of a Note named as the option; such a Note in reply to a local poll counts as a vote of
its sender and is not stored as a status. After an inbound vote the author's server (this
one, for a local poll) sends the Question again to the remote voters, as Mastodon does, so
their servers show the new counts."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

import jobs
from federation import documents
from federation import notes
from federation.delivery import publish
from federation.inbox import CREATE_CLAIMS
from federation.objects import local_status
from federation.outbox import enqueue
from federation.outbox import new_activity_id
from models import Account
from models import Poll
from models import PollVote
from models import Status
from models import db
from models import utcnow
from services import events
from services.polls import POLL_LIMITS
from services.polls import RemotePoll
from services.polls import count_remote_vote
from services.polls import refresh_remote_poll


def moment(value: object) -> datetime | None:
    """An ISO 8601 time of a document as naive UTC; None when there is none."""
    try:
        found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return found.astimezone(UTC).replace(tzinfo=None) if found.tzinfo is not None else found


# ---- remote polls in


def read_poll(question: dict) -> RemotePoll | None:
    """The poll of a Question; None when it has fewer than two usable options."""
    multiple = isinstance(question.get("anyOf"), list)
    items = question.get("anyOf") if multiple else question.get("oneOf")
    options: list[str] = []
    tallies: list[int] = []
    for item in items if isinstance(items, list) else []:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or name in options:
            continue
        replies = item.get("replies")
        count = replies.get("totalItems") if isinstance(replies, dict) else 0
        options.append(name[: POLL_LIMITS["max_option_chars"]])
        tallies.append(count if isinstance(count, int) and count >= 0 else 0)
    if len(options) < 2:
        return None
    options, tallies = options[: POLL_LIMITS["max_options"]], tallies[: POLL_LIMITS["max_options"]]
    ends = moment(question.get("endTime")) or moment(question.get("closed"))
    voters = question.get("votersCount")
    return RemotePoll(
        options=options,
        multiple=multiple,
        expires_at=ends or utcnow() + timedelta(seconds=POLL_LIMITS["max_expiration"]),
        tallies=tallies,
        voters=voters if isinstance(voters, int) and voters >= 0 else sum(tallies),
    )


def refresh(status: Status, question: dict) -> None:
    """The remote author's Update of a Question: the counts it gives now."""
    poll = db.session.scalar(select(Poll).where(Poll.status_id == status.id))
    remote = read_poll(question)
    if poll is not None and remote is not None and poll.remote_voters is not None:
        refresh_remote_poll(poll, remote)


notes.POLL_READERS["Question"] = read_poll


# ---- local votes in remote polls out


@events.poll_voted.connect
def _poll_voted(_sender: object, poll_id: str, account_id: str, choices: list[int]) -> None:
    enqueue("federate_vote", poll_id=poll_id, account_id=account_id, choices=choices)


@jobs.job
def federate_vote(poll_id: str, account_id: str, choices: list[int]) -> None:
    """One Create per chosen option to the poll's author; local voters of a remote poll hear of
    its end from the same job as a local poll's (`end_poll`)."""
    poll, voter = db.session.get(Poll, poll_id), db.session.get(Account, account_id)
    status = db.session.get(Status, poll.status_id) if poll is not None else None
    if poll is None or voter is None or status is None or status.account.is_local or not voter.is_local:
        return
    base = current_app.config["BASE_URL"]
    for choice in choices:
        answer = documents.poll_vote(
            voter, status, poll.options[choice], f"{base}/objects/{uuid.uuid4()}", new_activity_id()
        )
        publish(answer, voter, to=[status.account], object_id=status.uri)
    jobs.enqueue("end_poll", eta=poll.expires_at, poll_id=poll.id)


# ---- remote votes in local polls


def claim_vote(note: dict, actor: Account) -> bool:
    """A Note with a `name` in reply to a local poll, without content, is a vote: counted (or
    dropped) here, never stored as a status."""
    name = note.get("name")
    replied = notes.recipients(note.get("inReplyTo"))
    if not isinstance(name, str) or not replied or note.get("content"):
        return False
    status = local_status(replied[0])
    poll = db.session.scalar(select(Poll).where(Poll.status_id == status.id)) if status else None
    if status is None or poll is None:
        return False
    if not notes.check_contained(note, actor):
        return True  # not the actor's own vote: dropped
    options = list(poll.options)
    if (
        status.is_visible_to(actor)
        and name in options
        and count_remote_vote(actor, poll, options.index(name))
    ):
        enqueue("federate_poll_update", status_id=status.id)
    return True


CREATE_CLAIMS.append(claim_vote)


@jobs.job
def federate_poll_update(status_id: str) -> None:
    """The Question with its new counts to the servers of its remote voters."""
    status = db.session.get(Status, status_id)
    if status is None or not status.account.is_local:
        return
    # Each voter once, however many options they chose: by id, as PostgreSQL cannot compare
    # the account's JSON columns for a SELECT DISTINCT over the whole row.
    voter_ids = (
        select(PollVote.account_id)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.status_id == status.id)
        .scalar_subquery()
    )
    voters = db.session.scalars(
        select(Account).where(Account.id.in_(voter_ids), Account.domain.is_not(None))
    ).all()
    if voters:
        publish(
            documents.update_note(status, new_activity_id()), status.account, to=voters, object_id=status.uri
        )
