from __future__ import annotations

import pytest

from models import Block
from models import db
from services.statuses import NewStatus
from services.statuses import post_status


@pytest.fixture
def people(make_account):
    return make_account("alice"), make_account("bob"), make_account("carol")


@pytest.fixture
def original(people):
    return post_status(people[0], NewStatus(text="quote me"))


def _quotes(client, status_id, headers=None, prefix="/api/v1/pleroma", query=""):
    return client.get(f"{prefix}/statuses/{status_id}/quotes{query}", headers=headers or {})


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_list_quotes_newest_first_with_link(client, people, original, prefix):
    alice, bob, carol = people
    first = post_status(bob, NewStatus(text="look", quote_id=original.id))
    second = post_status(carol, NewStatus(text="wow", quote_id=original.id))
    post_status(carol, NewStatus(text="unrelated"))
    response = _quotes(client, original.id, prefix=prefix)
    assert response.status_code == 200
    body = response.get_json()
    assert [s["id"] for s in body] == [second.id, first.id]
    assert body[0]["quote"]["id"] == original.id
    assert body[0]["pleroma"]["quote"]["id"] == original.id
    assert body[0]["pleroma"]["quote_visible"] is True
    assert f"max_id={first.id}" in response.headers["Link"]


def test_list_quotes_pages(client, people, original):
    quotes = [post_status(people[1], NewStatus(text=f"q{i}", quote_id=original.id)) for i in range(3)]
    response = _quotes(client, original.id, query=f"?limit=2&max_id={quotes[2].id}")
    assert [s["id"] for s in response.get_json()] == [quotes[1].id, quotes[0].id]


def test_list_quotes_hides_what_the_reader_cannot_see(client, people, original, auth_headers):
    alice, bob, carol = people
    private = post_status(bob, NewStatus(text="followers only", visibility="private", quote_id=original.id))
    public = post_status(carol, NewStatus(text="public", quote_id=original.id))
    assert [s["id"] for s in _quotes(client, original.id).get_json()] == [public.id]
    mine = _quotes(client, original.id, auth_headers(bob, "read:statuses")).get_json()
    assert [s["id"] for s in mine] == [public.id, private.id]
    db.session.add(Block(account_id=bob.id, target_id=carol.id))
    db.session.commit()
    assert [s["id"] for s in _quotes(client, original.id, auth_headers(bob)).get_json()] == [private.id]


def test_list_quotes_of_unknown_or_invisible_status_is_404(client, people, auth_headers):
    alice, bob, carol = people
    secret = post_status(alice, NewStatus(text="hi @bob", visibility="direct"))
    for status_id in ("nosuchstatus", secret.id):
        response = _quotes(client, status_id, auth_headers(carol))
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}
    assert _quotes(client, secret.id, auth_headers(bob)).status_code == 200


def test_list_quotes_with_a_token_lacking_the_scope_reads_anonymously(client, people, original, auth_headers):
    alice, bob, _ = people
    private = post_status(alice, NewStatus(text="mine", visibility="private"))
    assert _quotes(client, private.id, auth_headers(alice, "write")).status_code == 404
    assert _quotes(client, private.id, auth_headers(alice, "read")).status_code == 200


def test_status_embeds_a_visible_quote_once_per_page(client, people, original, auth_headers, count_queries):
    alice, bob, _ = people
    statuses = [post_status(bob, NewStatus(text=f"q{i}", quote_id=original.id)) for i in range(5)]
    headers = auth_headers(bob)
    body = client.get(f"/api/v1/statuses/{statuses[0].id}", headers=headers).get_json()
    assert body["quote_id"] == original.id
    assert body["quote"]["content"] == "quote me"
    assert body["pleroma"]["quote_url"] == f"http://127.0.0.1:5000/notice/{original.id}"
    with count_queries() as one:
        _quotes(client, original.id, headers, query="?limit=1")
    with count_queries() as five:
        _quotes(client, original.id, headers, query="?limit=5")
    assert five.count == one.count


def test_status_hides_a_quote_the_reader_cannot_see(client, people, auth_headers):
    alice, bob, carol = people
    quoted = post_status(alice, NewStatus(text="for followers", visibility="unlisted"))
    quoting = post_status(bob, NewStatus(text="see", quote_id=quoted.id))
    quoted.visibility = "private"  # made private after the quote (as an edit or a delete would)
    db.session.commit()
    body = client.get(f"/api/v1/statuses/{quoting.id}", headers=auth_headers(carol)).get_json()
    assert body["quote"] is None
    assert body["quote_id"] == quoted.id
    assert body["pleroma"]["quote_visible"] is False
