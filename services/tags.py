"""Hashtags (SPEC 26): names, follows and the tags an account features on its profile."""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from errors import ApiError
from models import TAG_NAME_MAX
from models import TAGGABLE_VISIBILITIES
from models import Account
from models import FeaturedTag
from models import Status
from models import StatusTag
from models import TagFollow
from models import begin_write
from models import db

NOT_FOUND = "Record not found"
# Mastodon's limit of featured tags per account.
MAX_FEATURED_TAGS = 10
# The hashtag formatting.py links in a status: word characters, at least one not a digit.
_TAG_NAME = re.compile(r"\w*[^\W\d]\w*")


def tag_name(value: str) -> str | None:
    """The stored (lower-cased) form of a hashtag name, or None when it is not one."""
    name = value.strip().removeprefix("#")
    if not name or len(name) > TAG_NAME_MAX or not _TAG_NAME.fullmatch(name):
        return None
    return name.lower()


def tag_name_or_404(value: str) -> str:
    name = tag_name(value)
    if name is None:
        raise ApiError(404, NOT_FOUND)
    return name


def follow_tag(account: Account, name: str) -> None:
    """Following twice is no error (Mastodon answers the tag alike)."""
    begin_write()
    found = db.session.scalar(
        select(TagFollow.id).where(TagFollow.account_id == account.id, TagFollow.name == name)
    )
    if found is None:
        db.session.add(TagFollow(account_id=account.id, name=name))
    db.session.commit()


def unfollow_tag(account: Account, name: str) -> None:
    db.session.execute(delete(TagFollow).where(TagFollow.account_id == account.id, TagFollow.name == name))
    db.session.commit()


def feature_tag(account: Account, value: str) -> FeaturedTag:
    """Feature a hashtag on the profile; featuring one already shown answers that one, as Mastodon
    does. At most MAX_FEATURED_TAGS."""
    name = tag_name(value or "")
    if name is None:
        raise ApiError(422, "Validation failed: Name is invalid")
    begin_write()
    existing = db.session.scalar(
        select(FeaturedTag).where(FeaturedTag.account_id == account.id, FeaturedTag.name == name)
    )
    if existing is not None:
        db.session.commit()
        return existing
    count = db.session.scalar(select(func.count()).where(FeaturedTag.account_id == account.id))
    if (count or 0) >= MAX_FEATURED_TAGS:
        raise ApiError(422, f"Validation failed: You cannot feature more than {MAX_FEATURED_TAGS} hashtags")
    featured = FeaturedTag(account_id=account.id, name=name)
    db.session.add(featured)
    db.session.commit()
    return featured


def own_featured_tag(account: Account, featured_id: str) -> FeaturedTag:
    """The caller's featured tag; someone else's answers like a missing one."""
    featured = db.session.get(FeaturedTag, featured_id)
    if featured is None or featured.account_id != account.id:
        raise ApiError(404, NOT_FOUND)
    return featured


def unfeature_tag(featured: FeaturedTag) -> None:
    db.session.delete(featured)
    db.session.commit()


def featured_tag_suggestions(account: Account, limit: int = MAX_FEATURED_TAGS) -> list[str]:
    """The account's most used hashtags in its public statuses that it does not feature yet."""
    featured = select(FeaturedTag.name).where(FeaturedTag.account_id == account.id)
    query = (
        select(StatusTag.name)
        .join(Status, Status.id == StatusTag.status_id)
        .where(
            Status.account_id == account.id,
            Status.visibility.in_(TAGGABLE_VISIBILITIES),
            StatusTag.name.not_in(featured),
        )
        .group_by(StatusTag.name)
        .order_by(func.count().desc(), StatusTag.name)
        .limit(limit)
    )
    return list(db.session.scalars(query))
