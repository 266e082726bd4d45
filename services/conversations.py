"""Changing a Pleroma conversation's recipient set (SPEC 15)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import select

from models import Account
from models import Participation
from models import ParticipationRecipient
from models import db


def set_recipients(participation: Participation, account_ids: list[str]) -> None:
    """Replace the recipients with the known accounts given; the owner is always kept."""
    wanted = set(account_ids) | {participation.account_id}
    known = set(db.session.scalars(select(Account.id).where(Account.id.in_(wanted))))
    db.session.execute(
        delete(ParticipationRecipient).where(ParticipationRecipient.participation_id == participation.id)
    )
    for account_id in sorted(known):
        db.session.add(ParticipationRecipient(participation_id=participation.id, account_id=account_id))
    db.session.commit()
