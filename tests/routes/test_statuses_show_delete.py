"""GET /api/v1/statuses/:id and ?ids[]=, DELETE /api/v1/statuses/:id, its source and context."""

from __future__ import annotations

from sqlalchemy import select

from models import Bookmark
from models import Favourite
from models import Participation
from models import db
from tests.routes.statuses_helpers import fetch
from tests.routes.statuses_helpers import follow
from tests.routes.statuses_helpers import notifications
from tests.routes.statuses_helpers import post
from tests.routes.statuses_helpers import statuses_count

# ---------------------------------------------------------------------------------------------
# GET /api/v1/statuses/:id and ?ids[]=


def test_show_status_anonymous_and_private(client, account, bob, alice_h, bob_h, auth_headers):
    public = post(client, alice_h, status="hello")
    private = post(client, alice_h, status="friends", visibility="private")
    assert fetch(client, public["id"]).get_json()["content"] == "hello"
    assert fetch(client, private["id"]).status_code == 404
    assert fetch(client, private["id"], bob_h).status_code == 404
    follow(bob, account)
    assert fetch(client, private["id"], bob_h).status_code == 200
    # a token without read:statuses reads as anonymous (SPEC 1.1), it does not fail
    assert fetch(client, private["id"], auth_headers(bob, "write")).status_code == 404
    assert fetch(client, public["id"], auth_headers(bob, "write")).status_code == 200


def test_show_status_personalised(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="hello")
    client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob_h)
    assert fetch(client, status["id"], bob_h).get_json()["favourited"] is True
    assert fetch(client, status["id"]).get_json()["favourited"] is False


def test_show_status_unknown(client):
    response = fetch(client, "nonexistent")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_list_statuses_keeps_request_order_and_hides_invisible(client, account, bob, alice_h, bob_h):
    one = post(client, alice_h, status="one")
    two = post(client, alice_h, status="two")
    hidden = post(client, alice_h, status="hidden", visibility="direct")
    response = client.get(
        f"/api/v1/statuses?ids[]={two['id']}&ids[]={hidden['id']}&ids[]=nope&ids[]={one['id']}", headers=bob_h
    )
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == [two["id"], one["id"]]
    mastodon_style = client.get(f"/api/v1/statuses?id[]={one['id']}&id[]={hidden['id']}", headers=alice_h)
    assert [s["id"] for s in mastodon_style.get_json()] == [one["id"], hidden["id"]]
    assert client.get("/api/v1/statuses").get_json() == []


# ---------------------------------------------------------------------------------------------
# DELETE /api/v1/statuses/:id


def test_delete_status_returns_source_and_cleans_up(client, account, bob, carol, alice_h, bob_h, carol_h):
    parent = post(client, bob_h, status="parent")
    status = post(client, alice_h, status="**gone** @bob", in_reply_to_id=parent["id"])
    sid = status["id"]
    client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob_h)
    client.post(f"/api/v1/statuses/{sid}/bookmark", headers=bob_h)
    reblog = client.post(f"/api/v1/statuses/{sid}/reblog", headers=carol_h).get_json()
    assert fetch(client, parent["id"]).get_json()["replies_count"] == 1
    assert statuses_count(account) == 1

    response = client.delete(f"/api/v1/statuses/{sid}", headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == sid
    assert body["text"] == "**gone** @bob"
    assert fetch(client, sid, alice_h).status_code == 404
    assert fetch(client, reblog["id"], alice_h).status_code == 404
    assert statuses_count(account) == 0
    assert fetch(client, parent["id"]).get_json()["replies_count"] == 0
    assert db.session.scalars(select(Favourite)).all() == []
    assert db.session.scalars(select(Bookmark)).all() == []
    assert notifications(bob, "mention") == [] and notifications(bob, "favourite") == []
    assert notifications(account, "reblog") == []


def test_delete_parent_leaves_reply_pointing_at_it(client, account, bob, alice_h, bob_h):
    parent = post(client, alice_h, status="parent")
    reply = post(client, bob_h, status="reply", in_reply_to_id=parent["id"])
    client.delete(f"/api/v1/statuses/{parent['id']}", headers=alice_h)
    body = fetch(client, reply["id"]).get_json()
    assert body["in_reply_to_id"] == parent["id"]
    assert body["pleroma"]["parent_visible"] is False


def test_delete_status_of_someone_else_is_not_found(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="mine")
    response = client.delete(f"/api/v1/statuses/{status['id']}", headers=bob_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    assert client.delete("/api/v1/statuses/nonexistent", headers=bob_h).status_code == 404
    assert fetch(client, status["id"]).status_code == 200


def test_admin_deletes_any_status(client, account, make_account, auth_headers, alice_h):
    admin = make_account("root", is_admin=True)
    status = post(client, alice_h, status="bad post")
    response = client.delete(f"/api/v1/statuses/{status['id']}", headers=auth_headers(admin))
    assert response.status_code == 200
    assert statuses_count(account) == 0


def test_delete_status_auth_and_scope(client, account, alice_h, auth_headers):
    status = post(client, alice_h, status="x")
    assert client.delete(f"/api/v1/statuses/{status['id']}").get_json() == {"error": "Invalid credentials."}
    response = client.delete(
        f"/api/v1/statuses/{status['id']}", headers=auth_headers(account, "read write:favourites")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:statuses."}


def test_delete_last_direct_status_rewinds_conversation(client, account, bob, alice_h, bob_h):
    dm = post(client, alice_h, status="@bob first", visibility="direct")
    reply = post(client, bob_h, status="second", in_reply_to_id=dm["id"])
    client.delete(f"/api/v1/statuses/{reply['id']}", headers=bob_h)
    lasts = set(db.session.scalars(select(Participation.last_status_id)))
    assert lasts == {dm["id"]}


# ---------------------------------------------------------------------------------------------
# GET source and context


def test_show_source_visibility(client, account, bob_h, alice_h):
    status = post(client, alice_h, status="secret", visibility="direct", spoiler_text="cw")
    assert client.get(f"/api/v1/statuses/{status['id']}/source", headers=alice_h).get_json() == {
        "id": status["id"],
        "text": "secret",
        "spoiler_text": "cw",
        "content_type": "text/plain",
    }
    response = client.get(f"/api/v1/statuses/{status['id']}/source", headers=bob_h)
    assert response.status_code == 404


def _thread(client, alice_h, bob_h) -> dict[str, str]:
    """root ← a ← a1, root ← b (direct to nobody but bob) ← b1, a ← a2; ids by name."""
    ids: dict[str, str] = {}
    ids["root"] = post(client, alice_h, status="root")["id"]
    ids["a"] = post(client, bob_h, status="a", in_reply_to_id=ids["root"])["id"]
    ids["b"] = post(client, bob_h, status="b", in_reply_to_id=ids["root"], visibility="direct")["id"]
    ids["a1"] = post(client, alice_h, status="a1", in_reply_to_id=ids["a"])["id"]
    ids["b1"] = post(client, bob_h, status="b1", in_reply_to_id=ids["b"], visibility="public")["id"]
    ids["a2"] = post(client, bob_h, status="a2", in_reply_to_id=ids["a"])["id"]
    return ids


def test_context_orders_ancestors_and_descendants(client, account, bob, carol, alice_h, bob_h, carol_h):
    ids = _thread(client, alice_h, bob_h)
    names = {v: k for k, v in ids.items()}
    context = client.get(f"/api/v1/statuses/{ids['root']}/context", headers=bob_h).get_json()
    assert context["ancestors"] == []
    assert [names[s["id"]] for s in context["descendants"]] == ["a", "a1", "a2", "b", "b1"]
    # carol may not see b (direct), but its visible reply still shows
    context = client.get(f"/api/v1/statuses/{ids['root']}/context", headers=carol_h).get_json()
    assert [names[s["id"]] for s in context["descendants"]] == ["a", "a1", "a2", "b1"]
    context = client.get(f"/api/v1/statuses/{ids['a1']}/context").get_json()
    assert [names[s["id"]] for s in context["ancestors"]] == ["root", "a"]
    assert context["descendants"] == []
    context = client.get(f"/api/v1/statuses/{ids['b1']}/context", headers=carol_h).get_json()
    assert [names[s["id"]] for s in context["ancestors"]] == ["root"]


def test_context_of_invisible_status_is_not_found(client, account, bob_h, alice_h):
    dm = post(client, alice_h, status="secret", visibility="direct")
    response = client.get(f"/api/v1/statuses/{dm['id']}/context", headers=bob_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_context_query_count_does_not_grow_with_the_thread(
    client, account, bob, alice_h, bob_h, count_queries
):
    root = post(client, alice_h, status="root")["id"]
    parent = root
    for i in range(3):
        parent = post(client, bob_h, status=f"r{i}", in_reply_to_id=parent)["id"]
    with count_queries() as small:
        client.get(f"/api/v1/statuses/{root}/context", headers=bob_h)
    for i in range(6):
        parent = post(client, alice_h if i % 2 else bob_h, status=f"s{i}", in_reply_to_id=parent)["id"]
    with count_queries() as large:
        response = client.get(f"/api/v1/statuses/{root}/context", headers=bob_h)
    assert len(response.get_json()["descendants"]) == 9
    assert large.count == small.count


def test_card_is_null_for_a_visible_status_and_404_otherwise(client, account, auth_headers, make_account):
    # No link previews are fetched (SPEC 23): clients get `null`, not a 404, for a status they see.
    headers = auth_headers(account)
    public = client.post("/api/v1/statuses", data={"status": "see https://example.org"}, headers=headers)
    card = client.get(f"/api/v1/statuses/{public.get_json()['id']}/card")
    assert (card.status_code, card.mimetype, card.get_data(as_text=True).strip()) == (
        200,
        "application/json",
        "null",
    )
    direct = client.post("/api/v1/statuses", data={"status": "psst", "visibility": "direct"}, headers=headers)
    stranger = auth_headers(make_account("stranger"))
    hidden = client.get(f"/api/v1/statuses/{direct.get_json()['id']}/card", headers=stranger)
    assert (hidden.status_code, hidden.get_json()) == (404, {"error": "Record not found"})
