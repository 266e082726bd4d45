"""Mastodon filters (SPEC 26): v2 filters with their keywords and statuses, v1 filters as one
keyword of a v2 filter; scopes, bad input and other people's filters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

import models
from models import Account
from models import Filter
from models import FilterKeyword
from models import db
from tests.routes.test_timelines import post

V2 = "/api/v2/filters"
V1 = "/api/v1/filters"
NOT_FOUND = {"error": "Record not found"}


def count_filters() -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(Filter))


def count_keywords() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(FilterKeyword))


def make_filter(client: FlaskClient, headers: dict, **payload: object) -> dict:
    body = {"title": "spoilers", "context": ["home"], **payload}
    response = client.post(V2, json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# ---------------------------------------------------------------------------------------------
# v2 filters


def test_create_filter_json_with_keywords(client: FlaskClient, alice_h: dict) -> None:
    body = make_filter(
        client,
        alice_h,
        context=["home", "public"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "Dune"}, {"keyword": "arrakis", "whole_word": False}],
    )
    assert body["title"] == "spoilers" and body["context"] == ["home", "public"]
    assert body["filter_action"] == "hide" and body["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in body["keywords"]] == [("Dune", True), ("arrakis", False)]
    assert body["statuses"] == []
    assert client.get(V2, headers=alice_h).get_json() == [body]
    assert client.get(f"{V2}/{body['id']}", headers=alice_h).get_json() == body


def test_create_filter_from_form_both_key_styles(client: FlaskClient, alice_h: dict) -> None:
    indexed = {
        "title": "t",
        "context[]": ["home", "thread"],
        "keywords_attributes[0][keyword]": "one",
        "keywords_attributes[1][keyword]": "two",
        "keywords_attributes[1][whole_word]": "false",
    }
    body = client.post(V2, data=indexed, headers=alice_h).get_json()
    assert body["context"] == ["home", "thread"]
    assert [(k["keyword"], k["whole_word"]) for k in body["keywords"]] == [("one", True), ("two", False)]
    bracketed = {
        "title": "t",
        "context[]": "notifications",
        "keywords_attributes[][keyword]": ["a", "b"],
        "keywords_attributes[][whole_word]": ["0", "1"],
    }
    body = client.post(V2, data=bracketed, headers=alice_h).get_json()
    assert body["context"] == ["notifications"]
    assert [(k["keyword"], k["whole_word"]) for k in body["keywords"]] == [("a", False), ("b", True)]


def test_create_filter_expires_in_sets_expires_at(
    client: FlaskClient, alice_h: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    monkeypatch.setattr(models, "utcnow", lambda: datetime(2030, 1, 1))
    monkeypatch.setattr("services.filters.utcnow", lambda: datetime(2030, 1, 1))
    body = make_filter(client, alice_h, expires_in=3600)
    assert body["expires_at"] == "2030-01-01T01:00:00.000Z"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"context": ["home"]}, 422),  # no title
        ({"title": "  ", "context": ["home"]}, 422),
        ({"title": "x" * 257, "context": ["home"]}, 422),
        ({"title": "t"}, 422),  # no context
        ({"title": "t", "context": []}, 422),
        ({"title": "t", "context": ["everywhere"]}, 400),
        ({"title": "t", "context": ["home"], "filter_action": "explode"}, 400),
        ({"title": "t", "context": ["home"], "expires_in": -5}, 400),
        ({"title": "t", "context": ["home"], "expires_in": "soon"}, 400),
        ({"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": ""}]}, 422),
        ({"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": "k" * 513}]}, 422),
        ({"title": "t", "context": ["home"], "keywords_attributes": [{"keyword": "k"}] * 101}, 422),
    ],
)
def test_create_filter_rejects_bad_input(
    client: FlaskClient, alice_h: dict, payload: dict, status: int
) -> None:
    response = client.post(V2, json=payload, headers=alice_h)
    assert response.status_code == status, response.get_json()
    assert "error" in response.get_json()
    assert count_filters() == 0 and count_keywords() == 0


def test_update_filter_changes_keywords(client: FlaskClient, alice_h: dict) -> None:
    body = make_filter(
        client, alice_h, keywords_attributes=[{"keyword": "a"}, {"keyword": "b"}], expires_in=60
    )
    a, b = body["keywords"]
    changes = [
        {"id": a["id"], "keyword": "A2", "whole_word": False},
        {"id": b["id"], "_destroy": True},
        {"keyword": "c"},
    ]
    response = client.put(
        f"{V2}/{body['id']}",
        json={
            "title": "new",
            "context": ["public"],
            "filter_action": "hide",
            "expires_in": None,
            "keywords_attributes": changes,
        },
        headers=alice_h,
    )
    updated = response.get_json()
    assert response.status_code == 200
    assert (
        updated["title"] == "new" and updated["context"] == ["public"] and updated["filter_action"] == "hide"
    )
    assert updated["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in updated["keywords"]] == [("A2", False), ("c", True)]
    assert updated["keywords"][0]["id"] == a["id"]


def test_update_filter_bad_input_changes_nothing(client: FlaskClient, alice_h: dict, bob_h: dict) -> None:
    body = make_filter(client, alice_h, keywords_attributes=[{"keyword": "a"}])
    bobs = make_filter(client, bob_h, keywords_attributes=[{"keyword": "bob"}])
    path = f"{V2}/{body['id']}"
    assert client.put(path, json={"title": " "}, headers=alice_h).status_code == 422
    assert client.put(path, json={"context": []}, headers=alice_h).status_code == 422
    # Someone else's keyword id is not one of this filter's.
    foreign = [{"id": bobs["keywords"][0]["id"], "_destroy": True}]
    answer = client.put(path, json={"title": "x", "keywords_attributes": foreign}, headers=alice_h)
    assert answer.status_code == 404 and answer.get_json() == NOT_FOUND
    blank = [{"id": body["keywords"][0]["id"], "keyword": ""}]
    assert (
        client.put(path, json={"title": "x", "keywords_attributes": blank}, headers=alice_h).status_code
        == 422
    )
    db.session.expire_all()
    assert client.get(path, headers=alice_h).get_json() == body
    assert client.get(f"{V2}/{bobs['id']}", headers=bob_h).get_json() == bobs


def test_delete_filter(client: FlaskClient, alice_h: dict) -> None:
    body = make_filter(client, alice_h, keywords_attributes=[{"keyword": "a"}])
    response = client.delete(f"{V2}/{body['id']}", headers=alice_h)
    assert response.status_code == 200 and response.get_json() == {}
    assert count_filters() == 0 and count_keywords() == 0
    assert client.get(f"{V2}/{body['id']}", headers=alice_h).status_code == 404


def test_others_filters_answer_not_found(
    client: FlaskClient, alice_h: dict, bob_h: dict, bob: Account
) -> None:
    body = make_filter(client, bob_h, keywords_attributes=[{"keyword": "a"}])
    status = post(bob, "hello")
    filter_status = client.post(f"{V2}/{body['id']}/statuses", json={"status_id": status.id}, headers=bob_h)
    keyword_id, status_entry = body["keywords"][0]["id"], filter_status.get_json()["id"]
    attempts = [
        client.get(f"{V2}/{body['id']}", headers=alice_h),
        client.put(f"{V2}/{body['id']}", json={"title": "mine"}, headers=alice_h),
        client.delete(f"{V2}/{body['id']}", headers=alice_h),
        client.get(f"{V2}/{body['id']}/keywords", headers=alice_h),
        client.post(f"{V2}/{body['id']}/keywords", json={"keyword": "x"}, headers=alice_h),
        client.get(f"{V2}/keywords/{keyword_id}", headers=alice_h),
        client.put(f"{V2}/keywords/{keyword_id}", json={"keyword": "x"}, headers=alice_h),
        client.delete(f"{V2}/keywords/{keyword_id}", headers=alice_h),
        client.get(f"{V2}/{body['id']}/statuses", headers=alice_h),
        client.post(f"{V2}/{body['id']}/statuses", json={"status_id": status.id}, headers=alice_h),
        client.get(f"{V2}/statuses/{status_entry}", headers=alice_h),
        client.delete(f"{V2}/statuses/{status_entry}", headers=alice_h),
        client.get(f"{V1}/{keyword_id}", headers=alice_h),
        client.put(f"{V1}/{keyword_id}", json={"phrase": "x"}, headers=alice_h),
        client.delete(f"{V1}/{keyword_id}", headers=alice_h),
        client.get(f"{V2}/nonexistent", headers=alice_h),
    ]
    assert [(a.status_code, a.get_json()) for a in attempts] == [(404, NOT_FOUND)] * len(attempts)
    assert client.get(V2, headers=alice_h).get_json() == []
    assert client.get(V2, headers=bob_h).get_json()[0]["keywords"] == body["keywords"]


def test_filters_need_auth_and_scope(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account
) -> None:
    for path in (V1, V2):
        response = client.get(path)
        assert response.status_code == 403 and response.get_json() == {"error": "Invalid credentials."}
    read_only = auth_headers(account, "read:filters")
    write_only = auth_headers(account, "write:filters")
    other = auth_headers(account, "read:statuses write:statuses")
    assert client.get(V2, headers=read_only).status_code == 200
    assert client.get(V2, headers=write_only).status_code == 403
    assert client.get(V1, headers=other).status_code == 403
    payload = {"title": "t", "context": ["home"]}
    assert client.post(V2, json=payload, headers=read_only).status_code == 403
    assert client.post(V1, json={"phrase": "p", "context": ["home"]}, headers=other).status_code == 403
    assert count_filters() == 0
    assert client.post(V2, json=payload, headers=write_only).status_code == 200


# ---------------------------------------------------------------------------------------------
# Keywords and statuses


def test_filter_keywords_sub_resource(client: FlaskClient, alice_h: dict) -> None:
    body = make_filter(client, alice_h)
    added = client.post(
        f"{V2}/{body['id']}/keywords", data={"keyword": "tea", "whole_word": "false"}, headers=alice_h
    )
    assert added.status_code == 200
    keyword = added.get_json()
    assert keyword == {"id": keyword["id"], "keyword": "tea", "whole_word": False}
    assert client.get(f"{V2}/{body['id']}/keywords", headers=alice_h).get_json() == [keyword]
    assert client.get(f"{V2}/keywords/{keyword['id']}", headers=alice_h).get_json() == keyword
    changed = client.put(
        f"{V2}/keywords/{keyword['id']}", json={"whole_word": True}, headers=alice_h
    ).get_json()
    assert changed == {**keyword, "whole_word": True}
    assert (
        client.put(f"{V2}/keywords/{keyword['id']}", json={"keyword": ""}, headers=alice_h).status_code == 422
    )
    assert client.post(f"{V2}/{body['id']}/keywords", json={}, headers=alice_h).status_code == 422
    assert client.get(f"{V2}/keywords/{keyword['id']}", headers=alice_h).get_json()["keyword"] == "tea"
    assert client.delete(f"{V2}/keywords/{keyword['id']}", headers=alice_h).get_json() == {}
    assert client.get(f"{V2}/{body['id']}/keywords", headers=alice_h).get_json() == []


def test_filter_statuses_sub_resource(client: FlaskClient, alice_h: dict, bob: Account) -> None:
    body = make_filter(client, alice_h)
    status = post(bob, "a status")
    hidden = post(bob, "only bob's followers", visibility="direct")
    path = f"{V2}/{body['id']}/statuses"
    added = client.post(path, data={"status_id": status.id}, headers=alice_h)
    assert added.status_code == 200
    entry = added.get_json()
    assert entry == {"id": entry["id"], "status_id": status.id}
    assert client.post(path, json={"status_id": status.id}, headers=alice_h).status_code == 422  # twice
    assert client.post(path, json={"status_id": hidden.id}, headers=alice_h).status_code == 404
    assert client.post(path, json={}, headers=alice_h).status_code == 400
    assert client.get(path, headers=alice_h).get_json() == [entry]
    assert client.get(f"{V2}/statuses/{entry['id']}", headers=alice_h).get_json() == entry
    assert client.get(f"{V2}/{body['id']}", headers=alice_h).get_json()["statuses"] == [entry]
    assert client.delete(f"{V2}/statuses/{entry['id']}", headers=alice_h).get_json() == {}
    assert client.get(path, headers=alice_h).get_json() == []


# ---------------------------------------------------------------------------------------------
# v1


def test_v1_filter_is_a_one_keyword_filter(client: FlaskClient, alice_h: dict) -> None:
    response = client.post(
        V1, data={"phrase": "Cats", "context[]": ["home", "public"], "irreversible": "true"}, headers=alice_h
    )
    assert response.status_code == 200
    v1 = response.get_json()
    assert v1 == {
        "id": v1["id"],
        "phrase": "Cats",
        "context": ["home", "public"],
        "whole_word": True,
        "expires_at": None,
        "irreversible": True,
    }
    (v2,) = client.get(V2, headers=alice_h).get_json()
    assert v2["title"] == "Cats" and v2["filter_action"] == "hide" and v2["keywords"][0]["id"] == v1["id"]
    assert client.get(V1, headers=alice_h).get_json() == [v1]
    assert client.get(f"{V1}/{v1['id']}", headers=alice_h).get_json() == v1

    updated = client.put(
        f"{V1}/{v1['id']}",
        json={"phrase": "Dogs", "irreversible": False, "whole_word": False},
        headers=alice_h,
    ).get_json()
    assert updated == {**v1, "phrase": "Dogs", "irreversible": False, "whole_word": False}
    assert client.get(V2, headers=alice_h).get_json()[0]["title"] == "Dogs"

    assert client.delete(f"{V1}/{v1['id']}", headers=alice_h).get_json() == {}
    assert client.get(V1, headers=alice_h).get_json() == []
    assert count_filters() == 0


def test_v1_lists_every_keyword_of_v2_filters(client: FlaskClient, alice_h: dict) -> None:
    body = make_filter(client, alice_h, keywords_attributes=[{"keyword": "a"}, {"keyword": "b"}])
    listed = client.get(V1, headers=alice_h).get_json()
    assert [f["phrase"] for f in listed] == ["a", "b"]
    # Deleting one keyword of a two-keyword filter keeps the filter and its title.
    client.delete(f"{V1}/{listed[0]['id']}", headers=alice_h)
    assert client.get(f"{V2}/{body['id']}", headers=alice_h).get_json()["title"] == "spoilers"


@pytest.mark.parametrize(
    "payload",
    [
        {"context": ["home"]},
        {"phrase": "", "context": ["home"]},
        {"phrase": "p"},
        {"phrase": "p", "context": ["x"]},
    ],
)
def test_v1_create_rejects_bad_input(client: FlaskClient, alice_h: dict, payload: dict) -> None:
    response = client.post(V1, json=payload, headers=alice_h)
    assert response.status_code in (400, 422) and "error" in response.get_json()
    assert count_filters() == 0
