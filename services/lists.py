"""Mastodon lists (SPEC 26): the owner's named groups of followed accounts."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import false
from sqlalchemy import select

from errors import ApiError
from models import Account
from models import Follow
from models import List
from models import ListAccount
from models import begin_write
from models import db

NOT_FOUND = "Record not found"


def own_list(owner: Account, list_id: str) -> List:
    """The caller's list; someone else's answers like a missing one (Mastodon's 404)."""
    user_list = db.session.get(List, list_id)
    if user_list is None or user_list.account_id != owner.id:
        raise ApiError(404, NOT_FOUND)
    return user_list


def _title(value: str | None) -> str:
    title = (value or "").strip()
    if not title:
        raise ApiError(422, "Validation failed: Title can't be blank")
    return title


def create_list(owner: Account, title: str | None, replies_policy: str, exclusive: bool) -> List:
    user_list = List(
        account_id=owner.id, title=_title(title), replies_policy=replies_policy, is_exclusive=exclusive
    )
    db.session.add(user_list)
    db.session.commit()
    return user_list


def update_list(
    user_list: List, title: str | None, replies_policy: str | None, exclusive: bool | None
) -> List:
    """Change what is given; a title, when sent, may not be blank."""
    if title is not None:
        user_list.title = _title(title)
    if replies_policy is not None:
        user_list.replies_policy = replies_policy
    if exclusive is not None:
        user_list.is_exclusive = exclusive
    db.session.commit()
    return user_list


def delete_list(user_list: List) -> None:
    db.session.execute(delete(ListAccount).where(ListAccount.list_id == user_list.id))
    db.session.delete(user_list)
    db.session.commit()


def add_accounts(user_list: List, account_ids: list[str]) -> None:
    """Add followed accounts, all or none: an unknown or unfollowed account is `Record not found`
    and one already in the list is a 422, as Mastodon's documentation gives them."""
    begin_write()
    wanted = list(dict.fromkeys(account_ids))
    followed = set(
        db.session.scalars(
            select(Follow.followee_id)
            .join(Account, Account.id == Follow.followee_id)
            .where(
                Follow.follower_id == user_list.account_id,
                Follow.followee_id.in_(wanted),
                Follow.is_pending == false(),
                Account.is_active.is_(True),
            )
        )
    )
    if any(account_id not in followed for account_id in wanted):
        raise ApiError(404, NOT_FOUND)
    present = db.session.scalars(
        select(ListAccount.account_id).where(
            ListAccount.list_id == user_list.id, ListAccount.account_id.in_(wanted)
        )
    ).first()
    if present is not None:
        raise ApiError(422, "Validation failed: Account has already been taken")
    db.session.add_all(ListAccount(list_id=user_list.id, account_id=account_id) for account_id in wanted)
    db.session.commit()


def remove_accounts(user_list: List, account_ids: list[str]) -> None:
    """Accounts not in the list are no error (Mastodon answers `{}` alike)."""
    db.session.execute(
        delete(ListAccount).where(
            ListAccount.list_id == user_list.id, ListAccount.account_id.in_(account_ids)
        )
    )
    db.session.commit()


def remove_unfollowed(follower_id: str, followee_id: str) -> None:
    """An unfollow takes the account out of the follower's lists (Mastodon does the same);
    the caller commits."""
    owned = select(List.id).where(List.account_id == follower_id)
    db.session.execute(
        delete(ListAccount).where(ListAccount.account_id == followee_id, ListAccount.list_id.in_(owned))
    )
