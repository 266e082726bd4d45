"""The profile directory and follow suggestions (SPEC 26): local, discoverable accounts."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy import select

from models import Account
from models import Follow
from models import Status
from models import SuggestionDismissal
from models import begin_write
from models import db


def _listed() -> Select[tuple[Account]]:
    """Local accounts that opted into discovery (Mastodon's `discoverable`)."""
    return select(Account).where(
        Account.domain.is_(None), Account.is_discoverable.is_(True), Account.is_active.is_(True)
    )


def directory(viewer: Account | None, order: str, offset: int, limit: int) -> list[Account]:
    """`active`: most recent poster first (accounts that never posted last); `new`: newest first."""
    query = _listed()
    if viewer is not None:
        query = query.where(Account.id.not_in(Status.hidden_author_ids(viewer)))
    if order == "new":
        query = query.order_by(Account.created_at.desc(), Account.id.desc())
    else:
        query = query.order_by(
            Account.last_status_at.is_(None), Account.last_status_at.desc(), Account.id.desc()
        )
    return list(db.session.scalars(query.offset(offset).limit(limit)))


def suggestions(viewer: Account, limit: int) -> list[Account]:
    """Listed accounts the viewer does not follow (nor asked to), has not blocked, muted or been
    blocked by, nor dismissed: staff first, then the most followed."""
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer.id)
    dismissed = select(SuggestionDismissal.target_id).where(SuggestionDismissal.account_id == viewer.id)
    query = (
        _listed()
        .where(
            Account.id != viewer.id,
            Account.id.not_in(followed),
            Account.id.not_in(dismissed),
            Account.id.not_in(Status.hidden_author_ids(viewer)),
        )
        .order_by(
            (Account.is_admin | Account.is_moderator).desc(),
            Account.followers_count.desc(),
            Account.id.desc(),
        )
        .limit(limit)
    )
    return list(db.session.scalars(query))


def dismiss(viewer: Account, account_id: str) -> None:
    """Remember not to suggest the account again; an unknown id changes nothing (Mastodon answers
    `{}` all the same)."""
    target = db.session.get(Account, account_id)
    if target is None or target.id == viewer.id:
        return
    begin_write()
    present = db.session.scalar(
        select(SuggestionDismissal.id).where(
            SuggestionDismissal.account_id == viewer.id, SuggestionDismissal.target_id == target.id
        )
    )
    if present is None:
        db.session.add(SuggestionDismissal(account_id=viewer.id, target_id=target.id))
    db.session.commit()
