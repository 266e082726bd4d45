"""Mastodon keyset paging (SPEC 1.5): limits, cursors and the Link header."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import db
from pagination import DEFAULT_LIMIT
from pagination import MAX_LIMIT
from pagination import PageParams
from pagination import link_header
from pagination import page_params
from pagination import paginate

BASE = "http://127.0.0.1:5000"


# --- page_params ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, 20),
        ({"limit": "5"}, 5),
        ({"limit": 7}, 7),
        ({"limit": "40"}, 40),
        ({"limit": "41"}, 40),
        ({"limit": 1000}, 40),
        ({"limit": "abc"}, 20),
        ({"limit": ""}, 20),
        ({"limit": None}, 20),
        ({"limit": "0"}, 1),
        ({"limit": "-3"}, 1),
        ({"limit": "2.5"}, 20),
    ],
)
def test_page_params_limit(given: dict, expected: int) -> None:
    assert page_params(given).limit == expected


def test_page_params_defaults() -> None:
    assert DEFAULT_LIMIT == 20
    assert MAX_LIMIT == 40
    assert page_params({}) == PageParams(max_id=None, since_id=None, min_id=None, limit=20)


def test_page_params_cursors_are_strings() -> None:
    params = page_params({"max_id": 99, "since_id": "A1", "min_id": "", "limit": "3"})
    assert params == PageParams(max_id="99", since_id="A1", min_id=None, limit=3)


def test_page_params_custom_maximum() -> None:
    assert page_params({"limit": "100"}, max_limit=80).limit == 80


def test_page_params_reads_the_query_string(app: Flask) -> None:
    with app.test_request_context("/api/v1/timelines/home?limit=99&max_id=XYZ"):
        params = page_params()
    assert params.limit == 40
    assert params.max_id == "XYZ"


# --- link_header (SPEC 1.5) -------------------------------------------------------------------


def _links(header: str) -> dict[str, str]:
    found = {}
    for part in header.split(", "):
        url, rel = part.split("; ")
        assert url.startswith("<") and url.endswith(">")
        found[rel.removeprefix('rel="').removesuffix('"')] = url[1:-1]
    return found


def test_link_header_format(app: Flask) -> None:
    with app.test_request_context("/api/v1/timelines/home"):
        header = link_header(["C", "B", "A"])["Link"]
    assert header == (
        f'<{BASE}/api/v1/timelines/home?max_id=A>; rel="next", '
        f'<{BASE}/api/v1/timelines/home?min_id=C>; rel="prev"'
    )


def test_link_header_keeps_other_params_and_drops_cursors(app: Flask) -> None:
    query = "limit=2&max_id=OLD&since_id=S&min_id=M&only_media=true&exclude_types[]=follow&exclude_types[]=mention"
    with app.test_request_context(f"/api/v1/notifications?{query}"):
        links = _links(link_header(["9", "8"])["Link"])
    assert set(links) == {"next", "prev"}
    for rel, cursor, value in (("next", "max_id", "8"), ("prev", "min_id", "9")):
        url = urlsplit(links[rel])
        assert f"{url.scheme}://{url.netloc}" == BASE
        assert url.path == "/api/v1/notifications"
        pairs = parse_qsl(url.query)
        assert pairs == [
            ("limit", "2"),
            ("only_media", "true"),
            ("exclude_types[]", "follow"),
            ("exclude_types[]", "mention"),
            (cursor, value),
        ], rel


def test_link_header_uses_base_url_not_the_request_host(app: Flask) -> None:
    app.config["BASE_URL"] = "https://social.example"
    with app.test_request_context("/api/v1/favourites", base_url="http://10.0.0.5:8000"):
        links = _links(link_header(["X"])["Link"])
    assert links["next"] == "https://social.example/api/v1/favourites?max_id=X"
    assert links["prev"] == "https://social.example/api/v1/favourites?min_id=X"


def test_link_header_empty_page_has_none(app: Flask) -> None:
    with app.test_request_context("/api/v1/timelines/home?limit=5"):
        assert link_header([]) == {}


# --- paginate against real rows ---------------------------------------------------------------


@pytest.fixture
def five_ids(app: Flask) -> list[str]:
    # Paging only needs rows: plain inserts skip the password hashing and key generation.
    rows = [Account(nickname=f"user{n}", ap_id=f"{BASE}/users/user{n}") for n in range(5)]
    db.session.add_all(rows)
    db.session.commit()
    ids = [row.id for row in rows]
    assert ids == sorted(ids)  # flake ids sort by creation
    return ids


def _page(**given: object) -> list[str]:
    rows = paginate(select(Account), Account.id, page_params({k: str(v) for k, v in given.items()}))
    return [row.id for row in rows]


def test_paginate_newest_first_with_limit(five_ids: list[str]) -> None:
    assert _page() == five_ids[::-1]
    assert _page(limit=2) == [five_ids[4], five_ids[3]]


def test_paginate_max_id_is_strictly_older(five_ids: list[str]) -> None:
    assert _page(max_id=five_ids[3]) == [five_ids[2], five_ids[1], five_ids[0]]


def test_paginate_since_id_returns_the_newest_page(five_ids: list[str]) -> None:
    assert _page(since_id=five_ids[0], limit=2) == [five_ids[4], five_ids[3]]


def test_paginate_min_id_returns_the_page_right_after(five_ids: list[str]) -> None:
    # min_id: the items just above the cursor, still newest-first.
    assert _page(min_id=five_ids[0], limit=2) == [five_ids[2], five_ids[1]]


def test_paginate_max_and_since_together(five_ids: list[str]) -> None:
    assert _page(max_id=five_ids[4], since_id=five_ids[1]) == [five_ids[3], five_ids[2]]


def test_paginate_walks_all_pages_with_the_link_cursors(five_ids: list[str]) -> None:
    seen: list[str] = []
    cursor: dict[str, str] = {}
    while True:
        page = _page(limit=2, **cursor)
        if not page:
            break
        seen += page
        cursor = {"max_id": page[-1]}
    assert seen == five_ids[::-1]


# --- Through HTTP: a client follows the Link header ---------------------------------------------


def test_link_header_on_a_timeline_walks_every_page(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    headers = auth_headers(account)
    posted = []
    for n in range(3):
        response = client.post("/api/v1/statuses", data={"status": f"post {n}"}, headers=headers)
        assert response.status_code == 200, response.get_json()
        posted.append(response.get_json()["id"])
    response = client.get("/api/v1/timelines/public?local=true&limit=2", headers=headers)
    assert [s["id"] for s in response.get_json()] == [posted[2], posted[1]]
    links = _links(response.headers["Link"])
    assert links["next"] == f"{BASE}/api/v1/timelines/public?local=true&limit=2&max_id={posted[1]}"
    assert links["prev"] == f"{BASE}/api/v1/timelines/public?local=true&limit=2&min_id={posted[2]}"
    older = client.get(links["next"].removeprefix(BASE), headers=headers)
    assert [s["id"] for s in older.get_json()] == [posted[0]]
    assert "max_id=" + posted[0] in older.headers["Link"]
    last = client.get(_links(older.headers["Link"])["next"].removeprefix(BASE), headers=headers)
    assert last.get_json() == []
    assert "Link" not in last.headers
