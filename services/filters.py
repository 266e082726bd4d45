"""Filters (SPEC 26): a reader's v2 filters with their keywords and statuses; a v1 filter is one
keyword of a v2 filter, as Mastodon maps them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from errors import ApiError
from models import Account
from models import Filter
from models import FilterKeyword
from models import FilterStatus
from models import begin_write
from models import db
from models import utcnow
from services.interactions import get_visible

NOT_FOUND = "Record not found"
MAX_FILTERS = 300  # per account: each is matched against every status the reader is shown
MAX_KEYWORDS = 100  # per filter
MAX_STATUSES = 1000  # per filter


@dataclass(frozen=True)
class KeywordChange:
    """One entry of `keywords_attributes[]`: a new keyword (no id), a change, or a removal."""

    id: str | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


def own_filter(owner: Account, filter_id: str) -> Filter:
    """The caller's filter; someone else's answers like a missing one."""
    found = db.session.get(Filter, filter_id)
    if found is None or found.account_id != owner.id:
        raise ApiError(404, NOT_FOUND)
    return found


def own_keyword(owner: Account, keyword_id: str) -> FilterKeyword:
    found = db.session.get(FilterKeyword, keyword_id)
    if found is None or found.filter.account_id != owner.id:
        raise ApiError(404, NOT_FOUND)
    return found


def own_filter_status(owner: Account, filter_status_id: str) -> FilterStatus:
    found = db.session.get(FilterStatus, filter_status_id)
    if found is None or found.filter.account_id != owner.id:
        raise ApiError(404, NOT_FOUND)
    return found


def own_keywords(owner: Account) -> list[FilterKeyword]:
    """Every keyword of the caller's filters: the v1 filters."""
    return list(
        db.session.scalars(
            select(FilterKeyword)
            .join(Filter, Filter.id == FilterKeyword.filter_id)
            .where(Filter.account_id == owner.id)
            .order_by(FilterKeyword.id)
        )
    )


def _blank(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ApiError(422, f"Validation failed: {what} can't be blank")
    return text


def _context(values: list[str]) -> list[str]:
    if not values:
        raise ApiError(422, "Validation failed: Context can't be blank")
    return list(dict.fromkeys(values))


def _expires_at(expires_in: int | None) -> object:
    return utcnow() + timedelta(seconds=expires_in) if expires_in else None


def create_filter(
    owner: Account,
    title: str | None,
    context: list[str],
    action: str,
    expires_in: int | None,
    keywords: list[KeywordChange],
) -> Filter:
    title = _blank(title, "Title")
    context = _context(context)
    begin_write()
    count = db.session.scalar(select(func.count()).where(Filter.account_id == owner.id))
    if count >= MAX_FILTERS:
        raise ApiError(422, f"Validation failed: at most {MAX_FILTERS} filters")
    user_filter = Filter(
        account_id=owner.id, title=title, context=context, action=action, expires_at=_expires_at(expires_in)
    )
    _check_keywords(user_filter, keywords)
    _apply_keywords(user_filter, keywords)
    db.session.add(user_filter)
    db.session.commit()
    return user_filter


def update_filter(
    user_filter: Filter,
    title: str | None,
    context: list[str] | None,
    action: str | None,
    expires_in: int | None,
    keywords: list[KeywordChange],
    *,
    expires_given: bool,
) -> Filter:
    """Change what is given; an empty or null expires_in removes the end date."""
    title = _blank(title, "Title") if title is not None else None
    context = _context(context) if context is not None else None
    begin_write()
    _check_keywords(user_filter, keywords)
    if title is not None:
        user_filter.title = title
    if context is not None:
        user_filter.context = context
    if action is not None:
        user_filter.action = action
    if expires_given:
        user_filter.expires_at = _expires_at(expires_in)
    _apply_keywords(user_filter, keywords)
    db.session.commit()
    return user_filter


def _check_keywords(user_filter: Filter, changes: list[KeywordChange]) -> None:
    """Everything that may fail, before anything changes: an unknown keyword id is `Record not
    found`, a blank keyword or too many a 422."""
    known = {k.id for k in user_filter.keywords}
    kept = set(known)
    added = 0
    for change in changes:
        if change.id is not None and change.id not in known:
            raise ApiError(404, NOT_FOUND)
        if change.destroy:
            kept.discard(change.id)
        elif change.id is None or change.keyword is not None:
            _blank(change.keyword, "Keyword")
            added += change.id is None
    if len(kept) + added > MAX_KEYWORDS:
        raise ApiError(422, f"Validation failed: at most {MAX_KEYWORDS} keywords")


def _apply_keywords(user_filter: Filter, changes: list[KeywordChange]) -> None:
    existing = {k.id: k for k in user_filter.keywords}
    for change in changes:
        keyword = existing.get(change.id) if change.id is not None else None
        if change.destroy:
            if keyword is not None and keyword in user_filter.keywords:
                user_filter.keywords.remove(keyword)
        elif keyword is None:
            whole_word = True if change.whole_word is None else change.whole_word
            user_filter.keywords.append(
                FilterKeyword(keyword=_blank(change.keyword, "Keyword"), is_whole_word=whole_word)
            )
        else:
            if change.keyword is not None:
                keyword.keyword = _blank(change.keyword, "Keyword")
            if change.whole_word is not None:
                keyword.is_whole_word = change.whole_word


def delete_filter(user_filter: Filter) -> None:
    db.session.delete(user_filter)
    db.session.commit()


def add_keyword(user_filter: Filter, keyword: str | None, whole_word: bool | None) -> FilterKeyword:
    begin_write()
    change = [KeywordChange(keyword=keyword, whole_word=whole_word)]
    _check_keywords(user_filter, change)
    _apply_keywords(user_filter, change)
    db.session.commit()
    return user_filter.keywords[-1]


def update_keyword(keyword: FilterKeyword, text: str | None, whole_word: bool | None) -> FilterKeyword:
    if text is not None:
        keyword.keyword = _blank(text, "Keyword")  # raises before anything changed
    if whole_word is not None:
        keyword.is_whole_word = whole_word
    db.session.commit()
    return keyword


def delete_keyword(keyword: FilterKeyword) -> None:
    db.session.delete(keyword)
    db.session.commit()


def add_status(owner: Account, user_filter: Filter, status_id: str) -> FilterStatus:
    """Filter one status the owner may see; twice is Mastodon's 422."""
    begin_write()
    status = get_visible(status_id, owner)
    if any(s.status_id == status.id for s in user_filter.statuses):
        raise ApiError(422, "Validation failed: Status has already been taken")
    if len(user_filter.statuses) >= MAX_STATUSES:
        raise ApiError(422, f"Validation failed: at most {MAX_STATUSES} statuses")
    filter_status = FilterStatus(status_id=status.id)
    user_filter.statuses.append(filter_status)
    db.session.commit()
    return filter_status


def delete_filter_status(filter_status: FilterStatus) -> None:
    db.session.delete(filter_status)
    db.session.commit()


# ---- v1: one keyword, its filter titled after it


def create_v1(
    owner: Account,
    phrase: str | None,
    context: list[str],
    hides: bool,
    whole_word: bool,
    expires_in: int | None,
) -> FilterKeyword:
    change = KeywordChange(keyword=phrase, whole_word=whole_word)
    user_filter = create_filter(owner, phrase, context, "hide" if hides else "warn", expires_in, [change])
    return user_filter.keywords[0]


def update_v1(
    keyword: FilterKeyword,
    phrase: str | None,
    context: list[str] | None,
    hides: bool | None,
    whole_word: bool | None,
    expires_in: int | None,
    *,
    expires_given: bool,
) -> FilterKeyword:
    """Change the keyword and its filter; the filter takes the phrase as title only when the
    keyword is its only one (a v2 filter's title stays its own)."""
    user_filter = keyword.filter
    title = phrase if phrase is not None and len(user_filter.keywords) == 1 else None
    action = None if hides is None else ("hide" if hides else "warn")
    change = KeywordChange(id=keyword.id, keyword=phrase, whole_word=whole_word)
    update_filter(user_filter, title, context, action, expires_in, [change], expires_given=expires_given)
    return keyword


def delete_v1(keyword: FilterKeyword) -> None:
    """Remove the keyword; a filter left without keywords or statuses goes with it."""
    user_filter = keyword.filter
    user_filter.keywords.remove(keyword)
    if not user_filter.keywords and not user_filter.statuses:
        db.session.delete(user_filter)
    db.session.commit()
