"""Aliases and account moves (SPEC 11, 21.8). An alias is an ap_id in `also_known_as`; moving
from A to B needs B to alias A first. The move itself is quick (A points at B); switching A's
followers over is a job."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

import jobs
from errors import ApiError
from models import Account
from models import Follow
from models import db
from services import accounts
from services import events
from services import follows
from services import remote
from services.notifications import notify_many

NOT_ALIASED = "Target account must have the origin in `alsoKnownAs`"  # backticks are Pleroma's


# ---------------------------------------------------------------------------------------------
# Aliases


def alias_names(account: Account) -> list[str]:
    """`nick@host` of each alias this server knows, in the stored order (Pleroma's full
    nickname: the host of the ap_id without its port, local accounts included)."""
    aliases = list(account.also_known_as or [])
    if not aliases:
        return []
    known = {a.ap_id: a for a in db.session.scalars(select(Account).where(Account.ap_id.in_(aliases)))}
    return [f"{known[ap_id].nickname}@{urlsplit(ap_id).hostname}" for ap_id in aliases if ap_id in known]


def add_alias(account: Account, reference: str) -> None:
    """Add the account a reference names (another server's are looked up) to the aliases."""
    target = remote.find_account(reference, resolve_remote=True)
    if target is None or target.is_deleted:
        raise ApiError(404, "Target account does not exist.")
    aliases = list(account.also_known_as or [])
    if target.ap_id in aliases:
        return
    problem = accounts.alias_problem(account, [*aliases, target.ap_id])
    if problem is not None:
        raise ApiError(422, problem)
    account.also_known_as = [*aliases, target.ap_id]  # a new list: JSON columns track assignment
    events.emit(events.profile_updated, account_id=account.id)
    db.session.commit()


def delete_alias(account: Account, reference: str) -> None:
    aliases = list(account.also_known_as or [])
    ap_id = _alias_ap_id(reference)
    if ap_id is None or ap_id not in aliases:
        # Also for an account nobody knows (Pleroma fails with a 500 there, SPEC 22).
        raise ApiError(404, "Account has no such alias.")
    account.also_known_as = [a for a in aliases if a != ap_id]
    events.emit(events.profile_updated, account_id=account.id)
    db.session.commit()


def _alias_ap_id(reference: str) -> str | None:
    reference = reference.strip()
    if reference.startswith(("http://", "https://")):
        return reference
    # Only what this server knows: an alias set here was resolved when it was added.
    known = remote.find_account(reference, resolve_remote=False)
    return known.ap_id if known else None


# ---------------------------------------------------------------------------------------------
# Moving


def move_account(origin: Account, reference: str) -> str | None:
    """Move `origin` to the account named: None on success, else the refusal (an HTTP 200 error
    body, SPEC 1.4). An unknown target raises 404."""
    target = remote.find_account(reference, resolve_remote=True)
    if target is None or not target.is_active:
        raise ApiError(404, "Target account not found.")
    aliases = _fresh_aliases(target)
    if aliases is None:  # another server's actor could not be read now
        raise ApiError(404, "Target account not found.")
    if target.id == origin.id or origin.ap_id not in aliases:
        return NOT_ALIASED
    origin.moved_to_id = target.id
    events.emit(events.account_moved, origin_id=origin.id, target_id=target.id)
    db.session.commit()
    jobs.enqueue("move_followers", origin_id=origin.id, target_id=target.id)
    return None


def _fresh_aliases(target: Account) -> list[str] | None:
    """The target's aliases as it says now: another server's actor is fetched again rather than
    trusting the copy kept when it was first seen (SPEC 11)."""
    if target.is_local:
        return list(target.also_known_as or [])
    from federation.actors import fetch_actor  # lazy: signing and fetching only where needed

    refreshed = fetch_actor(target.ap_id)  # signed: GoToSocial refuses unsigned fetches
    if refreshed is None:
        return None
    return list(refreshed.also_known_as or [])


@jobs.job
def move_followers(origin_id: str, target_id: str) -> None:
    """Every follower of the origin hears of the move; local followers who allow it follow the
    target instead. One whose follow of the target is refused keeps following the origin."""
    origin = db.session.get(Account, origin_id)
    target = db.session.get(Account, target_id)
    if origin is None or target is None:
        return
    followers = list(
        db.session.scalars(
            select(Account)
            .join(Follow, Follow.follower_id == Account.id)
            .where(Follow.followee_id == origin.id, Follow.is_pending.is_(False))
            .order_by(Follow.id)
        )
    )
    notify_many([f.id for f in followers], origin, "move", target=target)
    db.session.commit()
    for follower in followers:
        if not (follower.is_local and follower.is_active and follower.allow_following_move):
            continue
        if follower.id == target.id:
            continue
        try:
            follows.follow(follower, target)
        except ApiError:  # the target blocks them, or is gone
            db.session.rollback()
            continue
        follows.unfollow(follower, origin)
