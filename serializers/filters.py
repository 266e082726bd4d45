"""Filters (SPEC 26): the Filter, FilterKeyword, FilterStatus and v1 Filter entities, and the
server-side matching that gives statuses their `filtered` FilterResults."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

import orjson

import readcache
from models import Filter
from models import FilterKeyword
from models import FilterStatus
from serializers.common import iso


def _filter_head(filter_id: str, title: str, context: list, action: str, expires_at: datetime | None) -> dict:
    # FilterResult's filter leaves out the keywords and statuses (Mastodon's serializer asks for
    # the rules only on the /api/v2/filters routes).
    return {
        "id": filter_id,
        "title": title,
        "context": list(context),
        "expires_at": iso(expires_at),
        "filter_action": action,
    }


def filter_keyword_json(keyword: FilterKeyword) -> dict:
    return {"id": keyword.id, "keyword": keyword.keyword, "whole_word": keyword.is_whole_word}


def filter_status_json(filter_status: FilterStatus) -> dict:
    return {"id": filter_status.id, "status_id": filter_status.status_id}


def filter_json(user_filter: Filter) -> dict:
    data = _filter_head(
        user_filter.id, user_filter.title, user_filter.context, user_filter.action, user_filter.expires_at
    )
    data["keywords"] = [filter_keyword_json(k) for k in user_filter.keywords]
    data["statuses"] = [filter_status_json(s) for s in user_filter.statuses]
    return data


def v1_filter_json(keyword: FilterKeyword) -> dict:
    """Mastodon's v1 Filter is one keyword of a v2 filter, with the keyword's id."""
    user_filter = keyword.filter
    return {
        "id": keyword.id,
        "phrase": keyword.keyword,
        "context": list(user_filter.context),
        "whole_word": keyword.is_whole_word,
        "expires_at": iso(user_filter.expires_at),
        "irreversible": user_filter.action == "hide",
    }


def keyword_pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    """Mastodon's rule: case-insensitive; a whole word needs a word boundary at each end that
    is a word character (so "#tag" or "c++" still match as whole words)."""
    start = r"\b" if whole_word and re.match(r"\w", keyword) else ""
    end = r"\b" if whole_word and re.search(r"\w\Z", keyword) else ""
    return re.compile(start + re.escape(keyword) + end, re.IGNORECASE)


@dataclass
class _Rule:
    head: dict
    action: str
    keywords: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    status_ids: set[str] = field(default_factory=set)


class FilterRules:
    """The reader's active filters for one context (None: every context, and nothing hidden, as
    for a status read on its own), from the filter rows of the status batch's extras statement:
    (kind, filter id, title, context, action, expires_at, keyword or status id, whole_word)."""

    def __init__(self, viewer_id: str, context: str | None, rows: list[tuple]) -> None:
        self.viewer_id = viewer_id
        self.context = context
        self.rules: list[_Rule] = []
        by_id: dict[str, _Rule] = {}
        for kind, filter_id, title, context_json, action, expires_text, value, whole_word in rows:
            filter_context = orjson.loads(context_json)
            if context is not None and context not in filter_context:
                continue
            rule = by_id.get(filter_id)
            if rule is None:
                expires_at = datetime.fromisoformat(expires_text) if expires_text else None
                head = _filter_head(filter_id, title, filter_context, action, expires_at)
                rule = by_id[filter_id] = _Rule(head, action)
                self.rules.append(rule)
                if expires_at is not None:
                    readcache.true_until(expires_at)  # a kept answer ends with the filter
            if kind == "filter_keyword" and value is not None:
                rule.keywords.append((value, keyword_pattern(value, bool(int(whole_word)))))
            elif kind == "filter_status":
                rule.status_ids.add(value)
        self.rules.sort(key=lambda r: r.head["id"])

    def results(self, status_ids: tuple[str, ...], text: str) -> list[dict]:
        """FilterResults for a status, given its ids (a reblog's and its original's) and text."""
        found = []
        for rule in self.rules:
            keywords = [keyword for keyword, pattern in rule.keywords if pattern.search(text)]
            matched_ids = [i for i in status_ids if i in rule.status_ids]
            if keywords or matched_ids:
                found.append(
                    {
                        "filter": rule.head,
                        "keyword_matches": keywords or None,
                        "status_matches": matched_ids or None,
                    }
                )
        return found

    def hides(self, results: Iterable[dict]) -> bool:
        return self.context is not None and any(r["filter"]["filter_action"] == "hide" for r in results)
