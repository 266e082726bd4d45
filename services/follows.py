"""Relationships between accounts (SPEC 3, 13, 26): follows and follow requests, subscriptions,
blocks, mutes, endorsements and private notes. Each operation changes its rows, the denormalised
follower/following counters and the notifications in one transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from errors import ApiError
from models import Account
from models import AccountNote
from models import Block
from models import Endorsement
from models import Follow
from models import Mute
from models import Subscription
from models import begin_write
from models import db
from models import new_flake_id
from models import utcnow
from services import events
from services.lists import remove_unfollowed
from services.notifications import notify
from services.notifications import withdraw


def find_follow(follower_id: str, followee_id: str) -> Follow | None:
    return db.session.scalar(
        select(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    )


def blocks(account_id: str, target_id: str) -> bool:
    """Does `account_id` block `target_id`?"""
    found = db.session.scalar(
        select(Block.id).where(Block.account_id == account_id, Block.target_id == target_id)
    )
    return found is not None


def _count_follow(follower_id: str, followee_id: str, step: int) -> None:
    # SQL expressions, not Python arithmetic: two concurrent follows cannot lose an increment.
    db.session.execute(
        update(Account)
        .where(Account.id == follower_id)
        .values(following_count=Account.following_count + step)
    )
    db.session.execute(
        update(Account)
        .where(Account.id == followee_id)
        .values(followers_count=Account.followers_count + step)
    )


def drop_follow(follow: Follow) -> None:
    """Delete a follow or request, its counters, what it notified and its list memberships."""
    if not follow.is_pending:
        _count_follow(follow.follower_id, follow.followee_id, -1)
    withdraw("follow", follow.follower_id, recipient_id=follow.followee_id)
    withdraw("follow_request", follow.follower_id, recipient_id=follow.followee_id)
    remove_unfollowed(follow.follower_id, follow.followee_id)
    db.session.delete(follow)


# ---------------------------------------------------------------------------------------------
# Follows


def follow(
    follower: Account, target: Account, reblogs: bool | None = None, subscribe: bool | None = None
) -> Follow:
    """Follow `target`, or ask to when it is locked; following again only applies the flags."""
    if follower.id == target.id:
        raise ApiError(400, "Can not follow yourself")
    if not target.is_active:
        raise ApiError(403, f"Could not follow user: {target.nickname} is deactivated.")
    begin_write()  # two racing follows must not both find no row and both insert one
    if blocks(target.id, follower.id):
        raise ApiError(403, f"Could not follow user: {target.nickname} blocked you.")
    row = find_follow(follower.id, target.id)
    if row is None:
        # A remote account answers with Accept or Reject: until then the follow is a request.
        pending = target.is_locked or not target.is_local
        row = Follow(follower_id=follower.id, followee_id=target.id, is_pending=pending)
        db.session.add(row)
        if row.is_pending:
            notify(target, follower, "follow_request")
        else:
            _count_follow(follower.id, target.id, 1)
            notify(target, follower, "follow")
        events.emit(
            events.follow_requested, follower_id=follower.id, followee_id=target.id, pending=row.is_pending
        )
    if reblogs is not None:
        row.show_reblogs = reblogs
    if subscribe is not None:  # `notify` on a follow and /subscribe set the same thing (SPEC 21.11)
        _set_subscription(follower.id, target.id, subscribe)
    db.session.commit()
    return row


def unfollow(follower: Account, target: Account) -> None:
    """Stop following `target` or withdraw the request; endorsing it ends with the follow."""
    if follower.id == target.id:
        raise ApiError(400, "Can not unfollow yourself")
    row = find_follow(follower.id, target.id)
    if row is not None:
        drop_follow(row)
        _unendorse(follower.id, target.id)
        events.emit(events.unfollowed, follower_id=follower.id, followee_id=target.id)
    db.session.commit()


def _pending_request(requester: Account, target: Account) -> Follow:
    row = find_follow(requester.id, target.id)
    if row is None or not row.is_pending:
        raise ApiError(404, "Record not found")
    return row


def authorize(target: Account, requester: Account) -> None:
    """Accept a pending request: it becomes a follow, counted and notified as one."""
    row = _pending_request(requester, target)
    row.is_pending = False
    _count_follow(requester.id, target.id, 1)
    # The request notification turns into the follow it now is (Pleroma does the same).
    withdraw("follow_request", requester.id, recipient_id=target.id)
    notify(target, requester, "follow")
    events.emit(events.follow_accepted, follower_id=requester.id, followee_id=target.id)
    db.session.commit()


def accepted_by_remote(follower: Account, target: Account) -> None:
    """The remote `target` accepted our follow (SPEC 24.4): the request becomes a follow."""
    row = find_follow(follower.id, target.id)
    if row is not None and row.is_pending:
        row.is_pending = False
        _count_follow(follower.id, target.id, 1)
    db.session.commit()


def rejected_by_remote(follower: Account, target: Account) -> None:
    """The remote `target` refused our follow (or ended it): the row goes, nothing is sent back."""
    row = find_follow(follower.id, target.id)
    if row is not None:
        drop_follow(row)
    db.session.commit()


def reject(target: Account, requester: Account) -> None:
    """Refuse a pending request: it disappears with its notification."""
    row = _pending_request(requester, target)
    drop_follow(row)
    events.emit(events.follow_rejected, follower_id=requester.id, followee_id=target.id)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Subscriptions (SPEC 13): new posts of the target notify the subscriber; no follow needed


def subscribe(subscriber: Account, target: Account) -> None:
    """Subscribe to `target`'s posts; subscribing again changes nothing."""
    if blocks(target.id, subscriber.id):
        raise ApiError(403, f"Could not subscribe: {target.nickname} is blocking you")
    _set_subscription(subscriber.id, target.id, True)
    db.session.commit()


def unsubscribe(subscriber: Account, target: Account) -> None:
    _set_subscription(subscriber.id, target.id, False)
    db.session.commit()


def _set_subscription(account_id: str, target_id: str, on: bool) -> None:
    if on:  # INSERT OR IGNORE: two racing subscribes still leave one row and no error
        row = {"id": new_flake_id(), "account_id": account_id, "target_id": target_id, "created_at": utcnow()}
        db.session.execute(sqlite_insert(Subscription).values(**row).on_conflict_do_nothing())
    else:
        db.session.execute(
            delete(Subscription).where(
                Subscription.account_id == account_id, Subscription.target_id == target_id
            )
        )


# ---------------------------------------------------------------------------------------------
# Blocks


def block(blocker: Account, target: Account) -> None:
    """Block `target`: follows, requests, subscriptions and endorsements end both ways."""
    if blocker.id == target.id:
        raise ApiError(403, "Can not block yourself")
    begin_write()
    if not blocks(blocker.id, target.id):
        db.session.add(Block(account_id=blocker.id, target_id=target.id))
        events.emit(events.blocked, blocker_id=blocker.id, target_id=target.id, local=blocker.is_local)
    pair = or_(
        (Follow.follower_id == blocker.id) & (Follow.followee_id == target.id),
        (Follow.follower_id == target.id) & (Follow.followee_id == blocker.id),
    )
    for row in db.session.scalars(select(Follow).where(pair)).all():
        drop_follow(row)
    _unendorse(blocker.id, target.id)
    _unendorse(target.id, blocker.id)
    _set_subscription(blocker.id, target.id, False)
    _set_subscription(target.id, blocker.id, False)
    db.session.commit()


def unblock(blocker: Account, target: Account) -> None:
    removed = db.session.execute(
        delete(Block).where(Block.account_id == blocker.id, Block.target_id == target.id)
    ).rowcount
    if removed:
        events.emit(events.unblocked, blocker_id=blocker.id, target_id=target.id, local=blocker.is_local)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Mutes


def mute(muter: Account, target: Account, hide_notifications: bool = True, expires_in: int = 0) -> Mute:
    """Mute `target` (again): the latest call sets the notification flag and the expiry."""
    if muter.id == target.id:
        raise ApiError(403, "Can not mute yourself")
    begin_write()
    row = db.session.scalar(select(Mute).where(Mute.account_id == muter.id, Mute.target_id == target.id))
    if row is None:
        row = Mute(account_id=muter.id, target_id=target.id)
        db.session.add(row)
    row.hide_notifications = hide_notifications
    row.expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in > 0 else None
    db.session.commit()
    return row


def unmute(muter: Account, target: Account) -> None:
    db.session.execute(delete(Mute).where(Mute.account_id == muter.id, Mute.target_id == target.id))
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Endorsements (profile pins)


def endorse(account: Account, target: Account) -> None:
    begin_write()
    row = find_follow(account.id, target.id)
    if row is None or row.is_pending:
        raise ApiError(400, "You must be following the account to endorse it")
    exists = db.session.scalar(
        select(Endorsement.id).where(Endorsement.account_id == account.id, Endorsement.target_id == target.id)
    )
    if exists is None:
        db.session.add(Endorsement(account_id=account.id, target_id=target.id))
    db.session.commit()


def unendorse(account: Account, target: Account) -> None:
    _unendorse(account.id, target.id)
    db.session.commit()


def _unendorse(account_id: str, target_id: str) -> None:
    db.session.execute(
        delete(Endorsement).where(Endorsement.account_id == account_id, Endorsement.target_id == target_id)
    )


# ---------------------------------------------------------------------------------------------
# Followers and notes (SPEC 26)


def remove_follower(account: Account, follower: Account) -> None:
    """End `follower`'s follow of `account` (or refuse its pending request, as Pleroma does),
    counted like an unfollow; its endorsement of `account` ends with it."""
    if follower.id == account.id:
        raise ApiError(400, "Can not remove yourself from your followers")
    begin_write()
    row = find_follow(follower.id, account.id)
    if row is not None:
        drop_follow(row)
        _unendorse(follower.id, account.id)
    db.session.commit()


def set_note(account: Account, target: Account, comment: str) -> None:
    """Keep `comment` as the account's private note on `target`; an empty one deletes it."""
    begin_write()
    mine = (AccountNote.account_id == account.id, AccountNote.target_id == target.id)
    if not comment:
        db.session.execute(delete(AccountNote).where(*mine))
    else:
        row = db.session.scalar(select(AccountNote).where(*mine))
        if row is None:
            db.session.add(AccountNote(account_id=account.id, target_id=target.id, comment=comment))
        else:
            row.comment, row.updated_at = comment, utcnow()
    db.session.commit()
