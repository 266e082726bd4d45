"""Filters applied by the server (SPEC 26): statuses carry `filtered` FilterResults in the
contexts a filter names, `hide` leaves them out, paging stays continuous, expired filters stop
applying, and a page costs the same statements whatever its length."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

import models
import readcache
from models import Account
from models import utcnow
from tests.routes.test_timelines import follow
from tests.routes.test_timelines import ids
from tests.routes.test_timelines import links
from tests.routes.test_timelines import post
from tests.routes.test_timelines import reblog

HOME = "/api/v1/timelines/home"
PUBLIC = "/api/v1/timelines/public"
V2 = "/api/v2/filters"


def add_filter(
    client: FlaskClient,
    headers: dict,
    keywords: list[str],
    context: list[str],
    action: str = "warn",
    **extra: object,
) -> dict:
    payload = {
        "title": "f",
        "context": context,
        "filter_action": action,
        "keywords_attributes": [
            {"keyword": k, "whole_word": extra.pop("whole_word", True)} for k in keywords
        ],
        **extra,
    }
    response = client.post(V2, json=payload, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_id(response: object) -> dict[str, dict]:
    return {s["id"]: s for s in response.get_json()}  # type: ignore[attr-defined]


def test_home_warn_filter_marks_matching_statuses(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account
) -> None:
    follow(account, bob)
    plain = post(bob, "nothing to see")
    spoiler = post(bob, "The ending of <b>Dune</b> is great")
    warned = post(bob, "careful", spoiler_text="dune talk")
    user_filter = add_filter(client, alice_h, ["dune"], ["home"])
    statuses = by_id(client.get(HOME, headers=alice_h))
    assert statuses[plain.id]["filtered"] == []
    (result,) = statuses[spoiler.id]["filtered"]
    assert result == {
        "filter": {
            "id": user_filter["id"],
            "title": "f",
            "context": ["home"],
            "expires_at": None,
            "filter_action": "warn",
        },
        "keyword_matches": ["dune"],
        "status_matches": None,
    }
    assert statuses[warned.id]["filtered"][0]["keyword_matches"] == ["dune"]
    # Anonymous readers get no `filtered` key at all.
    assert all("filtered" not in s for s in client.get(PUBLIC).get_json())


def test_home_hide_filter_drops_statuses_reblogs_and_media_matches(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, carol: Account
) -> None:
    follow(account, bob)
    kept = post(bob, "fine")
    dropped = post(bob, "politics again")
    original = post(carol, "more POLITICS")
    shared = reblog(bob, original)
    own = post(account, "my politics")
    add_filter(client, alice_h, ["politics"], ["home"], "hide")
    assert ids(client.get(HOME, headers=alice_h)) == [own.id, kept.id]
    assert dropped.id and shared.id


def test_filter_status_entries_match_by_id(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account
) -> None:
    follow(account, bob)
    target = post(bob, "plain words")
    user_filter = add_filter(client, alice_h, [], ["home"])
    client.post(f"{V2}/{user_filter['id']}/statuses", json={"status_id": target.id}, headers=alice_h)
    (result,) = by_id(client.get(HOME, headers=alice_h))[target.id]["filtered"]
    assert result["status_matches"] == [target.id] and result["keyword_matches"] is None


def test_whole_word_uses_word_boundaries(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account
) -> None:
    follow(account, bob)
    word = post(bob, "a Cat!")
    inside = post(bob, "category theory")
    add_filter(client, alice_h, ["cat"], ["home"], whole_word=True)
    statuses = by_id(client.get(HOME, headers=alice_h))
    assert statuses[word.id]["filtered"] and statuses[inside.id]["filtered"] == []
    add_filter(client, alice_h, ["cat"], ["home"], whole_word=False)
    statuses = by_id(client.get(HOME, headers=alice_h))
    assert len(statuses[word.id]["filtered"]) == 2 and len(statuses[inside.id]["filtered"]) == 1


def test_context_mismatch_neither_marks_nor_hides(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account
) -> None:
    follow(account, bob)
    status = post(bob, "spoilers inside")
    add_filter(client, alice_h, ["spoilers"], ["public", "notifications"], "hide")
    assert by_id(client.get(HOME, headers=alice_h))[status.id]["filtered"] == []
    assert client.get(PUBLIC, headers=alice_h).get_json() == []


def test_public_hashtag_and_account_contexts(client: FlaskClient, alice_h: dict, bob: Account) -> None:
    status = post(bob, "about #gardening and weeds")
    add_filter(client, alice_h, ["weeds"], ["public"])
    assert client.get(PUBLIC, headers=alice_h).get_json()[0]["filtered"][0]["keyword_matches"] == ["weeds"]
    tagged = client.get("/api/v1/timelines/tag/gardening", headers=alice_h).get_json()
    assert tagged[0]["filtered"]
    account_page = client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice_h).get_json()
    assert account_page[0]["id"] == status.id and account_page[0]["filtered"] == []
    add_filter(client, alice_h, ["weeds"], ["account"], "hide")
    assert client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice_h).get_json() == []


def test_notifications_context(client: FlaskClient, alice_h: dict, bob: Account) -> None:
    post(bob, "@alice look at this crypto scheme")
    post(bob, "@alice hello")
    add_filter(client, alice_h, ["crypto"], ["notifications"])
    notes = client.get("/api/v1/notifications", headers=alice_h).get_json()
    assert [bool(n["status"]["filtered"]) for n in notes] == [False, True]
    add_filter(client, alice_h, ["crypto"], ["notifications"], "hide")
    notes = client.get("/api/v1/notifications", headers=alice_h).get_json()
    assert [n["status"]["content"] for n in notes] == [notes[0]["status"]["content"]]
    assert "hello" in notes[0]["status"]["content"]


def test_thread_context(client: FlaskClient, alice_h: dict, bob: Account, carol: Account) -> None:
    root = post(bob, "a question")
    rude = post(carol, "a rude answer", in_reply_to_id=root.id)
    nice = post(carol, "a nice answer", in_reply_to_id=root.id)
    add_filter(client, alice_h, ["rude"], ["thread"])
    context = client.get(f"/api/v1/statuses/{root.id}/context", headers=alice_h).get_json()
    assert {s["id"]: bool(s["filtered"]) for s in context["descendants"]} == {rude.id: True, nice.id: False}
    add_filter(client, alice_h, ["rude"], ["thread"], "hide")
    context = client.get(f"/api/v1/statuses/{nice.id}/context", headers=alice_h).get_json()
    assert [s["id"] for s in context["ancestors"]] == [root.id] and context["descendants"] == []
    # A status read on its own shows every matching filter and hides nothing.
    alone = client.get(f"/api/v1/statuses/{rude.id}", headers=alice_h).get_json()
    assert len(alone["filtered"]) == 2


def test_expired_filter_stops_applying(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    follow(account, bob)
    status = post(bob, "ads ads ads")
    add_filter(client, alice_h, ["ads"], ["home"], "hide", expires_in=60)
    assert ids(client.get(HOME, headers=alice_h)) == []
    assert ids(client.get(HOME, headers=alice_h)) == []  # a kept answer
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(models, "utcnow", lambda: later)
    monkeypatch.setattr(readcache, "utcnow", lambda: later)
    # Nothing was written: the kept answer ends with the filter all the same.
    assert ids(client.get(HOME, headers=alice_h)) == [status.id]
    assert client.get(V2, headers=alice_h).get_json()[0]["expires_at"] is not None


def test_hidden_items_keep_the_link_header_continuous(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account
) -> None:
    follow(account, bob)
    posted = [post(bob, "hide me" if n in (4, 5, 6) else f"keep {n}") for n in range(10)]
    add_filter(client, alice_h, ["hide"], ["home"], "hide")
    seen: list[str] = []
    url = HOME + "?limit=3"
    for _ in range(10):
        response = client.get(url, headers=alice_h)
        seen += ids(response)
        if "Link" not in response.headers:
            break
        next_page = links(response)["next"]
        url = f"{HOME}?limit=3&max_id={next_page['max_id'][0]}"
    expected = [s.id for n, s in enumerate(posted) if n not in (4, 5, 6)]
    assert seen == list(reversed(expected))
    # A page whose every item is hidden is empty, but still links past them.
    first = client.get(HOME + "?limit=3", headers=alice_h)
    middle = client.get(f"{HOME}?limit=3&max_id={links(first)['next']['max_id'][0]}", headers=alice_h)
    assert ids(middle) == []
    assert links(middle)["next"]["max_id"] == [posted[4].id]


def test_filters_cost_no_statement_per_status(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, count_queries: Callable
) -> None:
    follow(account, bob)
    for n in range(45):
        post(bob, f"status {n} about {'tea' if n % 2 else 'coffee'}")
    client.get(HOME + "?limit=1", headers=alice_h)  # warm-up
    with count_queries() as unfiltered:
        client.get(HOME + "?limit=40", headers=alice_h)
    for n in range(3):
        add_filter(client, alice_h, ["tea", f"word{n}"], ["home"], "warn" if n else "hide")
    client.get(HOME + "?limit=1", headers=alice_h)
    with count_queries() as one:
        assert len(ids(client.get(HOME + "?limit=1", headers=alice_h))) == 1
    with count_queries() as forty:
        page = client.get(HOME + "?limit=40", headers=alice_h).get_json()
    assert len(page) == 20 and all(s["filtered"] == [] for s in page)
    assert one.count == forty.count == unfiltered.count, forty.statements


def test_filter_change_refreshes_kept_answers(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account
) -> None:
    follow(account, bob)
    post(bob, "beans")
    assert by_id(client.get(HOME, headers=alice_h)).popitem()[1]["filtered"] == []
    add_filter(client, alice_h, ["beans"], ["home"])
    assert by_id(client.get(HOME, headers=alice_h)).popitem()[1]["filtered"]


def test_expires_at_is_a_moment(client: FlaskClient, alice_h: dict) -> None:
    body = add_filter(client, alice_h, ["x"], ["home"], expires_in=3600)
    moment = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).replace(tzinfo=None)
    assert timedelta(minutes=59) < moment - utcnow() <= timedelta(hours=1)
