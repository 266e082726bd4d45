"""Dispatching a status event in-process (streaming/dispatch.py): what each reader gets is byte
for byte what the serializer gives that reader, and the statements it costs do not grow with the
number of readers (one visibility probe per stream for all of them, one shared render)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import select

import serializers
from models import Account
from models import Block
from models import Bookmark
from models import EmojiReaction
from models import Favourite
from models import Filter
from models import FilterKeyword
from models import Follow
from models import List
from models import ListAccount
from models import Participation
from models import Poll
from models import PollVote
from models import Status
from models import db
from services.polls import NewPoll
from services.statuses import NewStatus
from services.statuses import post_status
from streaming.dispatch import dispatch
from streaming.streams import Subscription


class FakeConnection:
    """What dispatch reads of a connection, and the frames it was sent."""

    def __init__(self, account_id: str | None, *streams: Subscription) -> None:
        self.account_id = account_id
        self.subscriptions = set(streams)
        self.closed = False
        self.frames: list[tuple[str, str, str | None]] = []

    def send_event(self, sub: Subscription, event: str, payload: str | None) -> None:
        self.frames.append((sub.stream, event, payload))


USER, PUBLIC = Subscription("user"), Subscription("public")


def _readers(
    make_account: Callable[..., Account], author: Account, count: int, prefix: str = "reader"
) -> list[Account]:
    readers = [make_account(f"{prefix}{n}") for n in range(count)]
    db.session.add_all(Follow(follower_id=r.id, followee_id=author.id) for r in readers)
    db.session.commit()
    return readers


def _connections(readers: list[Account]) -> list[FakeConnection]:
    """Two connections per reader, each on its user and the public stream, and an anonymous one."""
    held = [FakeConnection(r.id, USER, PUBLIC) for r in readers for _ in range(2)]
    return [*held, FakeConnection(None, PUBLIC, Subscription("hashtag", tag="news"))]


def _statements(app: Flask, count_queries: Callable[[], Any], status: Status, conns: list) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        dispatch([{"kind": "status", "id": status.id}], conns)
    return counter.count


def test_statements_do_not_grow_with_the_readers(
    app: Flask, make_account: Callable[..., Account], count_queries: Callable[[], Any]
) -> None:
    author = make_account("author")
    few, many = _readers(make_account, author, 3, "few"), _readers(make_account, author, 30, "many")
    status = post_status(author, NewStatus(text="hello #news"))
    counts = []
    for readers in (few, many):
        conns = _connections(readers)
        counts.append(_statements(app, count_queries, status, conns))
        for conn in conns[:-1]:
            assert sorted(f[0] for f in conn.frames) == ["public", "user"]
        assert sorted(f[0] for f in conns[-1].frames) == ["hashtag", "public"]
    assert counts[0] == counts[1], counts
    assert counts[1] <= 10, counts


def test_each_reader_gets_what_the_serializer_gives_it(
    app: Flask, make_account: Callable[..., Account]
) -> None:
    author, quoted_author = make_account("author"), make_account("quoted")
    readers = _readers(make_account, author, 6)
    faves, books, reacts, blocker, warned, hidden = readers
    # Only `faves` may see the quoted status: private (made so after the quote, as only a public
    # status may be quoted), and only faves follows its author.
    db.session.add(Follow(follower_id=faves.id, followee_id=quoted_author.id))
    private = post_status(quoted_author, NewStatus(text="for followers"))
    poll = NewPoll(options=["yes", "no"], expires_in=3600)
    status = post_status(author, NewStatus(text="the news of the day", quote_id=private.id, poll=poll))
    private.visibility = "private"
    poll_id = db.session.query(Poll.id).filter_by(status_id=status.id).scalar()
    db.session.add_all(
        [
            Favourite(account_id=faves.id, status_id=status.id),
            Bookmark(account_id=books.id, status_id=status.id),
            EmojiReaction(account_id=reacts.id, status_id=status.id, emoji="🎉"),
            EmojiReaction(account_id=faves.id, status_id=status.id, emoji="👍"),
            Block(account_id=blocker.id, target_id=faves.id),  # faves' reaction is hidden from blocker
            PollVote(poll_id=poll_id, account_id=books.id, choice=1),
        ]
    )
    for reader, action in ((warned, "warn"), (hidden, "hide")):
        rule = Filter(account_id=reader.id, title=action, context=["home", "public"], action=action)
        db.session.add(rule)
        db.session.flush()
        db.session.add(FilterKeyword(filter_id=rule.id, keyword="news"))
    db.session.commit()
    conns = _connections(readers)
    db.session.expire_all()
    dispatch([{"kind": "status.update", "id": status.id}], conns)

    db.session.expire_all()
    by_id = {r.id: db.session.get(Account, r.id) for r in readers}
    fresh = db.session.get(Status, status.id)
    for conn in conns[:-1]:
        viewer = by_id[conn.account_id]
        expected = {
            (stream, "status.update", orjson.dumps(found[0]).decode())
            for stream, context in (("user", "home"), ("public", "public"))
            if (found := serializers.statuses_json([fresh], viewer, context))
        }
        assert set(conn.frames) == expected, viewer.nickname
        assert len(conn.frames) == len(expected)
    anonymous = orjson.dumps(serializers.statuses_json([fresh], None, "public")[0]).decode()
    assert conns[-1].frames == [("public", "status.update", anonymous)]
    # The flags differ between readers, so the comparison above did compare something.
    payloads = {c.account_id: orjson.loads(c.frames[0][2]) for c in conns[:-1] if c.frames}
    assert hidden.id not in payloads
    assert payloads[faves.id]["favourited"] and not payloads[books.id]["favourited"]
    assert payloads[books.id]["bookmarked"] and payloads[books.id]["poll"]["own_votes"] == [1]
    assert payloads[faves.id]["quote"]["id"] == private.id and payloads[books.id]["quote"] is None
    assert payloads[warned.id]["filtered"] and not payloads[faves.id]["filtered"]
    assert [r["name"] for r in payloads[blocker.id]["emoji_reactions"]] == ["🎉"]
    assert {r["name"]: r["me"] for r in payloads[reacts.id]["emoji_reactions"]} == {"🎉": True, "👍": False}


def _direct(author: Account, readers: list[Account]) -> Status:
    mentions = " ".join(f"@{r.nickname}" for r in readers)
    return post_status(author, NewStatus(text=f"{mentions} between us", visibility="direct"))


def test_a_conversation_costs_the_same_for_every_number_of_participants(
    app: Flask, make_account: Callable[..., Account], count_queries: Callable[[], Any]
) -> None:
    author = make_account("author")
    counts = []
    for readers in (_readers(make_account, author, 2, "few"), _readers(make_account, author, 8, "many")):
        status = _direct(author, readers)
        conns = [FakeConnection(r.id, Subscription("direct")) for r in [author, *readers] for _ in range(2)]
        db.session.expire_all()
        with count_queries() as counter:
            dispatch([{"kind": "conversation", "id": status.id}], conns)
        counts.append(counter.count)
        db.session.expire_all()
        for conn in conns:
            viewer = db.session.get(Account, conn.account_id)
            participation = db.session.scalars(
                select(Participation).where(
                    Participation.account_id == viewer.id, Participation.context_id == status.context_id
                )
            ).one()
            expected = orjson.dumps(serializers.conversation_json(participation, viewer)).decode()
            assert conn.frames == [("direct", "conversation", expected)]
    assert counts[0] == counts[1], counts


def test_list_streams_cost_the_same_for_every_number_of_lists(
    app: Flask, make_account: Callable[..., Account], count_queries: Callable[[], Any]
) -> None:
    """Every replies policy in one statement; a list without the author hears nothing."""
    author, other = make_account("author"), make_account("other")
    counts = []
    for owners in (_readers(make_account, author, 2, "few"), _readers(make_account, author, 7, "many")):
        conns = []
        for n, owner in enumerate(owners):
            holding = List(
                account_id=owner.id, title="news", replies_policy=("list", "followed", "none")[n % 3]
            )
            empty = List(account_id=owner.id, title="empty")
            db.session.add_all([holding, empty])
            db.session.flush()
            db.session.add(ListAccount(list_id=holding.id, account_id=author.id))
            db.session.add(ListAccount(list_id=empty.id, account_id=other.id))
            subs = (Subscription("list", list_id=holding.id), Subscription("list", list_id=empty.id))
            conns.append(FakeConnection(owner.id, *subs))
        db.session.commit()
        status = post_status(author, NewStatus(text="for the lists"))
        db.session.expire_all()
        with count_queries() as counter:
            dispatch([{"kind": "status", "id": status.id}], conns)
        counts.append(counter.count)
        db.session.expire_all()
        for conn, owner in zip(conns, owners, strict=True):
            expected = orjson.dumps(
                serializers.statuses_json([db.session.get(Status, status.id)], owner, "home")
            )
            assert conn.frames == [("list", "update", expected.decode()[1:-1])]
    assert counts[0] == counts[1], counts
