"""Profiles (SPEC 24.4, 24.5): a local account's changed profile goes out as an Update of its
whole actor to its followers' servers. The way in needs nothing here: `federation.inbox`
reads an Update of an actor by upserting it (`actors.upsert_actor`)."""

from __future__ import annotations

import jobs
from federation import documents
from federation.delivery import publish
from federation.outbox import enqueue
from federation.outbox import new_activity_id
from models import Account
from models import db
from services import events


@events.profile_updated.connect
def _profile_updated(_sender: object, account_id: str) -> None:
    enqueue("federate_profile", account_id=account_id)


@jobs.job
def federate_profile(account_id: str) -> None:
    """Update(Person) to every server that follows the account: they show the new profile."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_local or not account.is_active:
        return
    update = documents.update_actor(account, new_activity_id())
    publish(update, account, followers=True, object_id=account.ap_id)
