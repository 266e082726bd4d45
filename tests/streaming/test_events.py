"""Queued streaming events (streaming/events.py): sent once the transaction commits, each once,
in order, in batches a unix datagram can carry."""

from __future__ import annotations

import queue
from pathlib import Path

import orjson
from flask import Flask
from sqlalchemy import select

from models import db
from streaming import events
from streaming.transport import LocalTransport
from streaming.transport import socket_folder


def _capture(app: Flask) -> list[bytes]:
    sent: list[bytes] = []
    app.extensions[events.SENDER] = sent.append
    return sent


def _events(batches: list[bytes]) -> list[dict]:
    return [event for batch in batches for event in orjson.loads(batch)["events"]]


def _begin() -> None:
    db.session.execute(select(1))


def test_events_go_out_after_the_commit_each_once_in_order(app: Flask) -> None:
    sent = _capture(app)
    _begin()
    events.status_created("S1")
    events.notification_created("N1")
    events.status_created("S1")
    events.follow_relationship("follow_accept", "A", "B")
    events.follow_relationship("follow_accept", "A", "B")
    events.follow_relationship("follow_reject", "A", "B")
    events.publish("delete", id="S1", account_id="A", visibility="public", reblog_of_id=None, addressed=["B"])
    events.publish("delete", id="S1", account_id="A", visibility="public", reblog_of_id=None, addressed=["B"])
    events.notification_created("N2")
    assert sent == []  # nothing before the commit
    db.session.commit()
    assert len(sent) == 1
    assert _events(sent) == [
        {"kind": "status", "id": "S1"},
        {"kind": "notification", "id": "N1"},
        {"kind": "follow_relationship", "state": "follow_accept", "follower_id": "A", "followee_id": "B"},
        {"kind": "follow_relationship", "state": "follow_reject", "follower_id": "A", "followee_id": "B"},
        {
            "kind": "delete",
            "id": "S1",
            "account_id": "A",
            "visibility": "public",
            "reblog_of_id": None,
            "addressed": ["B"],
        },
        {"kind": "notification", "id": "N2"},
    ]
    assert isinstance(orjson.loads(sent[0])["at"], float)


def test_a_rollback_drops_the_queued_events(app: Flask) -> None:
    sent = _capture(app)
    _begin()
    events.status_created("S1")
    db.session.rollback()
    _begin()
    events.status_created("S2")
    db.session.commit()
    assert _events(sent) == [{"kind": "status", "id": "S2"}]


def test_a_bulk_write_s_events_reach_a_process_in_datagram_sized_batches(app: Flask, tmp_path: Path) -> None:
    """A follow import's 10,000 notifications encode to ~340 KB, more than one datagram may
    carry: they go out as several batches, all of them, in order."""
    folder = socket_folder(tmp_path / "streams")
    receiving = LocalTransport(folder)
    got: queue.Queue = queue.Queue()
    receiving.start(got.put)  # a process reading its socket, as a worker's hub does
    app.extensions[events.SENDER] = LocalTransport(folder).send
    ids = [f"N{n:05d}" for n in range(10_000)]
    try:
        _begin()
        for notification_id in ids:
            events.notification_created(notification_id)
        db.session.commit()
        batches = [got.get(timeout=5)]
        while sum(len(orjson.loads(batch)["events"]) for batch in batches) < len(ids):
            batches.append(got.get(timeout=5))
    finally:
        receiving.stop()
    assert len(batches) > 1
    assert all(len(batch) <= events.MAX_BATCH for batch in batches)
    assert [event["id"] for event in _events(batches)] == ids


def test_more_events_than_a_slice_all_go_out_in_order_each_once(app: Flask) -> None:
    """Queued as keys, built into dicts a SLICE at a time when sent: none lost, none doubled,
    the order kept across slices, a list value (delete's `addressed`) kept whole."""
    sent = _capture(app)
    count = 10_000
    _begin()
    for n in range(count):
        events.notification_created(f"N{n:05d}")
        if n % 3000 == 0:
            deleted = {
                "account_id": "A",
                "visibility": "public",
                "reblog_of_id": None,
                "addressed": ["B", "C"],
            }
            events.publish("delete", id=f"S{n}", **deleted)
        events.notification_created(f"N{n:05d}")  # queued once
    db.session.commit()
    got = _events(sent)
    assert len(sent) >= count // events.SLICE
    assert [e["id"] for e in got if e["kind"] == "notification"] == [f"N{n:05d}" for n in range(count)]
    deletes = [e for e in got if e["kind"] == "delete"]
    assert [d["id"] for d in deletes] == ["S0", "S3000", "S6000", "S9000"]
    assert deletes[0] == {
        "kind": "delete",
        "id": "S0",
        "account_id": "A",
        "visibility": "public",
        "reblog_of_id": None,
        "addressed": ["B", "C"],
    }
    assert [e["id"] for e in got[:3]] == ["N00000", "S0", "N00001"]
