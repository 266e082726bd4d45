"""Helpers shared by the status route tests (test_statuses*.py)."""

from __future__ import annotations

from sqlalchemy import select

from models import Account
from models import Follow
from models import Notification
from models import db

BASE = "http://127.0.0.1:5000"


def post(client, headers, **data) -> dict:
    response = client.post("/api/v1/statuses", json=data, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def follow(follower: Account, followee: Account) -> None:
    db.session.add(Follow(follower_id=follower.id, followee_id=followee.id))
    db.session.commit()


def notifications(recipient: Account, type_: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.account_id == recipient.id, Notification.type == type_)
        )
    )


def statuses_count(account: Account) -> int:
    db.session.expire_all()
    return db.session.get(Account, account.id).statuses_count


def fetch(client, status_id: str, headers: dict | None = None):
    return client.get(f"/api/v1/statuses/{status_id}", headers=headers or {})
