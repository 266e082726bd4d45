"""What the feature modules share: queueing their jobs, and which statuses a remote actor may
act on."""

from __future__ import annotations

from typing import Any

from federation.notes import recipients
from federation.outbox import enqueue  # noqa: F401 - the feature modules queue through here
from models import Account
from models import Status


def id_of(value: Any) -> str:
    """The id a reference field names (a string, an object or a list of them), '' when none."""
    found = recipients(value)
    return found[0] if found else ""


def may_act_on(status: Status | None, actor: Account) -> bool:
    """A remote actor may like, react to or reblog a status only if it may see it: never a
    local-only one, a private or direct one only as one of its audience."""
    return status is not None and status.visibility != "local" and status.is_visible_to(actor)
