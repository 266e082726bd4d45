"""The Poll entity (SPEC 26, Mastodon's Poll). Statuses load their polls' facts in the status batch
(serializers/statuses.py); GET /api/v1/polls/:id and votes load one poll's here."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func
from sqlalchemy import select

import emoji_packs
import formatting
import readcache
from models import Account
from models import Poll
from models import PollVote
from models import Status
from models import db
from serializers.common import iso


class PollFacts(NamedTuple):
    """What the Poll entity shows, however it was loaded."""

    id: str
    options: list[str]
    is_multiple: bool
    hides_totals: bool
    expires_at: datetime
    author_id: str
    tallies: dict[int, int]  # option index -> votes
    voters_count: int
    own_votes: list[int]  # the viewer's choices


def option_shortcodes(options: list[str]) -> list[str]:
    return [sc for option in options for sc in formatting.find_shortcodes(option)]


def render_poll(facts: PollFacts, viewer: Account | None, emoji: dict[str, dict]) -> dict:
    """The Poll entity from its facts; `emoji` maps shortcodes to CustomEmoji (a superset)."""
    expired = Poll.has_ended(facts.expires_at)
    if not expired:
        readcache.true_until(facts.expires_at)
    is_author = viewer is not None and viewer.id == facts.author_id
    # Mastodon keeps the tallies back until the end when the author asked so; the author sees them.
    shown = expired or not facts.hides_totals or is_author
    shortcodes = dict.fromkeys(option_shortcodes(facts.options))
    return {
        "id": facts.id,
        "expires_at": iso(facts.expires_at),
        "expired": expired,
        "multiple": facts.is_multiple,
        "votes_count": sum(facts.tallies.values()),
        # Mastodon's Poll: the number of voters is given for multiple-choice polls only.
        "voters_count": facts.voters_count if facts.is_multiple else None,
        # Mastodon counts the author as having voted: clients then show the results.
        "voted": is_author or bool(facts.own_votes),
        "own_votes": sorted(facts.own_votes),
        "options": [
            {"title": title, "votes_count": facts.tallies.get(i, 0) if shown else None}
            for i, title in enumerate(facts.options)
        ],
        "emojis": [emoji[sc] for sc in shortcodes if sc in emoji],
    }


def poll_json(poll: Poll, viewer: Account | None) -> dict:
    """One poll with its tallies and the viewer's votes (a few queries: one entity)."""
    tallies = dict(
        db.session.execute(
            select(PollVote.choice, func.count()).where(PollVote.poll_id == poll.id).group_by(PollVote.choice)
        ).all()
    )
    voters = db.session.scalar(
        select(func.count(PollVote.account_id.distinct())).where(PollVote.poll_id == poll.id)
    )
    if poll.remote_voters is not None:  # another server's poll: the counts its Question gave
        tallies, voters = dict(enumerate(poll.remote_tallies or [])), poll.remote_voters
    own: list[int] = []
    if viewer is not None:
        own = list(
            db.session.scalars(
                select(PollVote.choice).where(PollVote.poll_id == poll.id, PollVote.account_id == viewer.id)
            )
        )
    author_id = db.session.scalar(select(Status.account_id).where(Status.id == poll.status_id))
    facts = PollFacts(
        poll.id,
        list(poll.options),
        poll.is_multiple,
        poll.hides_totals,
        poll.expires_at,
        author_id or "",
        tallies,
        voters or 0,
        own,
    )
    shortcodes = option_shortcodes(facts.options)
    return render_poll(facts, viewer, emoji_packs.emoji_by_shortcode(shortcodes) if shortcodes else {})
