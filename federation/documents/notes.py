"""Notes (and Questions, for statuses with a poll) of local statuses, and the batch loader that
renders a page of them in a constant number of queries (SPEC 24.1, /objects/<uuid>)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from typing import NamedTuple
from urllib.parse import quote
from urllib.parse import urlsplit

from sqlalchemy import Integer
from sqlalchemy import func
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import type_coerce

from federation.documents.actors import emoji_tags
from federation.documents.common import addressing
from federation.documents.common import with_context
from models import Account
from models import Media
from models import Poll
from models import PollVote
from models import Status
from models import StatusMention
from models import StatusTag
from models import db
from serializers.common import base_url
from serializers.common import iso
from serializers.common import media_url
from serializers.polls import option_shortcodes


class _Mention(NamedTuple):
    ap_id: str
    nickname: str
    domain: str | None
    is_visible: bool


def context_uri(status: Status) -> str:
    """The thread's id: a remote thread keeps its own URI; a local one is served under /contexts."""
    uri = status.context.uri
    return uri if uri.startswith(("http://", "https://")) else f"{base_url()}/contexts/{uri}"


class NoteBatch:
    """What the Notes of `statuses` need beyond their rows, one query per kind (mentions, tags,
    media, the URIs of parents and quoted statuses, polls and their tallies), each only when
    some status needs it."""

    def __init__(self, statuses: list[Status]) -> None:
        ids = [s.id for s in statuses]
        self.mentions: dict[str, list[_Mention]] = defaultdict(list)
        self.tags: dict[str, list[str]] = defaultdict(list)
        self.media: dict[str, list[Media]] = defaultdict(list)
        self.uris: dict[str, str] = {}
        self.polls: dict[str, Poll] = {}
        self.tallies: dict[str, dict[int, int]] = defaultdict(dict)
        self.voters: dict[str, int] = {}
        if not ids:
            return
        self._load_mentions(ids)
        for status_id, name in db.session.execute(
            select(StatusTag.status_id, StatusTag.name).where(StatusTag.status_id.in_(ids))
        ).all():
            self.tags[status_id].append(name)
        for media in db.session.scalars(
            select(Media).where(Media.status_id.in_(ids)).order_by(Media.position, Media.id)
        ):
            self.media[media.status_id or ""].append(media)
        referenced = {s.in_reply_to_id for s in statuses} | {s.quote_id for s in statuses}
        referenced.discard(None)
        if referenced:
            self.uris = dict(
                db.session.execute(select(Status.id, Status.uri).where(Status.id.in_(referenced))).all()
            )
        self._load_polls(ids)

    def _load_mentions(self, ids: list[str]) -> None:
        rows = db.session.execute(
            select(
                StatusMention.status_id,
                Account.ap_id,
                Account.nickname,
                Account.domain,
                StatusMention.is_visible,
            )
            .join(Account, Account.id == StatusMention.account_id)
            .where(StatusMention.status_id.in_(ids))
            .order_by(Account.nickname)
        ).all()
        for status_id, ap_id, nickname, domain, visible in rows:
            self.mentions[status_id].append(_Mention(ap_id, nickname, domain, bool(visible)))

    def _load_polls(self, ids: list[str]) -> None:
        self.polls = {p.status_id: p for p in db.session.scalars(select(Poll).where(Poll.status_id.in_(ids)))}
        if not self.polls:
            return
        poll_ids = [p.id for p in self.polls.values()]
        # One query for both: per (poll, choice) the votes, and per poll (choice null) the voters.
        tallies = select(PollVote.poll_id, PollVote.choice, func.count()).group_by(
            PollVote.poll_id, PollVote.choice
        )
        voters = select(
            PollVote.poll_id, type_coerce(null(), Integer), func.count(PollVote.account_id.distinct())
        ).group_by(PollVote.poll_id)
        for poll_id, choice, count in db.session.execute(
            tallies.where(PollVote.poll_id.in_(poll_ids)).union_all(
                voters.where(PollVote.poll_id.in_(poll_ids))
            )
        ).all():
            if choice is None:
                self.voters[poll_id] = int(count)
            else:
                self.tallies[poll_id][int(choice)] = int(count)

    def note_object(self, status: Status) -> dict:
        """The Note (or Question) without `@context`, as Create and Update embed it."""
        mentions = self.mentions.get(status.id, [])
        to, cc = addressing(status, [m.ap_id for m in mentions])
        poll = self.polls.get(status.id)
        data: dict[str, Any] = {
            "id": status.uri,
            "type": "Note" if poll is None else "Question",
            "attributedTo": status.account.ap_id,
            "content": status.content,
            "source": {"content": status.source, "mediaType": status.content_type},
            "summary": status.spoiler_text or "",
            "sensitive": status.is_sensitive,
            "published": iso(status.created_at),
            "to": to,
            "cc": cc,
            "inReplyTo": self.uris.get(status.in_reply_to_id or ""),
            "context": context_uri(status),
            "conversation": context_uri(status),
            "tag": self._tags(status, mentions, poll),
            "attachment": [self._attachment(m) for m in self.media.get(status.id, ())],
            "url": f"{base_url()}/notice/{status.id}",
        }
        if status.language:
            data["contentMap"] = {status.language: status.content}
        if status.edited_at is not None:
            data["updated"] = iso(status.edited_at)
        if status.quote_id and status.quote_id in self.uris:
            data["quoteUrl"] = self.uris[status.quote_id]
        if poll is not None:
            data.update(self._question(poll))
        return data

    def _tags(self, status: Status, mentions: list[_Mention], poll: Poll | None) -> list[dict]:
        local_host = urlsplit(base_url()).netloc
        tags: list[dict] = [
            # The full nick@host form: the receiving server resolves it without knowing ours.
            {"type": "Mention", "href": m.ap_id, "name": f"@{m.nickname}@{m.domain or local_host}"}
            for m in mentions
            if m.is_visible
        ]
        tags += [
            {"type": "Hashtag", "href": f"{base_url()}/tags/{quote(name)}", "name": f"#{name}"}
            for name in sorted(self.tags.get(status.id, ()))
        ]
        shortcodes = list(status.emojis or ())
        if poll is not None:
            shortcodes += option_shortcodes(list(poll.options))
        return tags + emoji_tags(shortcodes)

    @staticmethod
    def _attachment(media: Media) -> dict:
        url = media.remote_url or media_url(media.path)
        data: dict[str, Any] = {
            "type": "Document",
            "mediaType": media.mime_type,
            "url": url,
            "name": media.description or None,
        }
        meta = media.meta or {}
        if meta.get("blurhash"):
            data["blurhash"] = meta["blurhash"]
        original = meta.get("original") or {}
        for key in ("width", "height"):
            if isinstance(original.get(key), int):
                data[key] = original[key]
        return data

    def _question(self, poll: Poll) -> dict:
        ended = Poll.has_ended(poll.expires_at)
        # Totals the author keeps back until the end stay back from other servers too.
        shown = ended or not poll.hides_totals
        tallies = self.tallies.get(poll.id, {})
        options = [
            {
                "type": "Note",
                "name": title,
                "replies": {"type": "Collection", "totalItems": tallies.get(i, 0) if shown else 0},
            }
            for i, title in enumerate(poll.options)
        ]
        data: dict[str, Any] = {
            "anyOf" if poll.is_multiple else "oneOf": options,
            "endTime": iso(poll.expires_at),
            "votersCount": self.voters.get(poll.id, 0) if shown else 0,
        }
        if ended:
            data["closed"] = iso(poll.expires_at)
        return data


def note_objects(statuses: list[Status]) -> list[dict]:
    batch = NoteBatch(statuses)
    return [batch.note_object(s) for s in statuses]


def note(status: Status) -> dict:
    """The document at /objects/<uuid>."""
    return with_context(NoteBatch([status]).note_object(status))
