"""Notifications and conversations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select

from models import BOUND_READERS
from models import Account
from models import Mute
from models import Notification
from models import Participation
from models import ParticipationRecipient
from models import Report
from models import Status
from models import db
from serializers.accounts import account_json
from serializers.chats import chat_messages_by_reference
from serializers.common import iso
from serializers.reports import _report
from serializers.statuses import statuses_json
from serializers.statuses import statuses_json_by_reader


def notifications_json(
    notifications: Iterable[Notification], viewer: Account, context: str | None = None
) -> list[dict]:
    """With context="notifications", a notification whose status the reader's `hide` filters
    match is left out (its status is filtered like a timeline's)."""
    notifications = list(notifications)
    reports = _reports_of(notifications)
    account_ids = (
        {n.from_account_id for n in notifications}
        | {n.target_account_id for n in notifications if n.target_account_id}
        | {r.target_id for r in reports.values()}
    )
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(account_ids)))}
    status_ids = [n.status_id for n in notifications if n.status_id]
    status_ids += [i for r in reports.values() for i in r.status_ids or []]
    statuses = {s.id: s for s in db.session.scalars(select(Status).where(Status.id.in_(status_ids)))}
    rendered = {d["id"]: d for d in statuses_json(statuses.values(), viewer, context)}
    hidden = statuses.keys() - rendered.keys()
    notifications = [n for n in notifications if n.status_id not in hidden]
    chat_messages = chat_messages_by_reference(n.chat_message_id for n in notifications if n.chat_message_id)
    # A page repeats its actors (one account reacting to many statuses): each is rendered once.
    rendered_accounts = {a.id: account_json(a, viewer) for a in accounts.values()}
    data = [_notification(n, viewer, accounts, rendered_accounts, rendered, reports) for n in notifications]
    for item, n in zip(data, notifications, strict=True):
        if n.chat_message_id in chat_messages:
            item["chat_message"] = chat_messages[n.chat_message_id]
    # with_muted lists notifications from muted accounts; Pleroma flags them (SPEC 20.4).
    muted = set(
        db.session.scalars(
            select(Mute.target_id).where(
                Mute.account_id == viewer.id, Mute.target_id.in_(account_ids), Mute.active()
            )
        )
    )
    for item, n in zip(data, notifications, strict=True):
        item["pleroma"]["is_muted"] = n.from_account_id in muted
    return data


def _reports_of(notifications: list[Notification]) -> dict[str, Report]:
    report_ids = {n.report_id for n in notifications if n.report_id}
    if not report_ids:
        return {}
    return {r.id: r for r in db.session.scalars(select(Report).where(Report.id.in_(report_ids)))}


def _notification(
    n: Notification,
    viewer: Account,
    accounts: dict,
    rendered_accounts: dict[str, dict],
    statuses: dict,
    reports: dict | None = None,
) -> dict:
    data: dict[str, Any] = {
        "id": str(n.id),
        "type": n.type,
        "created_at": iso(n.created_at),
        "account": rendered_accounts[n.from_account_id],
        "pleroma": {"is_seen": n.is_seen, "is_muted": False},
    }
    if n.status_id and n.status_id in statuses:
        data["status"] = statuses[n.status_id]
    if n.type == "move" and n.target_account_id in accounts:
        data["target"] = rendered_accounts[n.target_account_id]
    if n.type == "pleroma:emoji_reaction":
        data["emoji"] = n.emoji
        data["emoji_url"] = n.emoji_url
    if n.type == "pleroma:report" and reports and n.report_id in reports:
        data["report"] = _report(reports[n.report_id], viewer, accounts, statuses)
    return data


def notification_json(notification: Notification, viewer: Account) -> dict:
    return notifications_json([notification], viewer)[0]


def conversations_json(participations: Iterable[Participation], viewer: Account) -> list[dict]:
    participations = list(participations)
    recipients = _recipients([p.id for p in participations])
    last_ids = [p.last_status_id for p in participations if p.last_status_id]
    last = db.session.scalars(
        select(Status).where(and_(Status.id.in_(last_ids), Status.visibility_filter(viewer)))
    )
    rendered = {d["id"]: d for d in statuses_json(last, viewer)}
    return [_conversation(p, viewer, recipients[p.id], rendered) for p in participations]


def conversation_json_by_reader(pairs: list[tuple[Participation, Account]]) -> dict[str, dict]:
    """conversation_json(participation, viewer) for each pair, by viewer id, in the statements
    one pair takes (the streaming hub tells every participant of a conversation at once): the
    last statuses each viewer may see are read for all of them (BOUND_READERS), and rendered
    with statuses_json_by_reader."""
    if not pairs:
        return {}
    recipients = _recipients([p.id for p, _ in pairs])
    viewers = {viewer.id: viewer for _, viewer in pairs}
    last_ids = sorted({p.last_status_id for p, _ in pairs if p.last_status_id})
    last: dict[str, Status] = {}
    visible: dict[str, set[str]] = defaultdict(set)
    if last_ids:
        seen = (
            select(Status, BOUND_READERS.id)
            .select_from(BOUND_READERS.beside(Status))
            .where(Status.id.in_(last_ids), Status.visibility_filter(BOUND_READERS))
        )
        for status, reader_id in db.session.execute(seen, BOUND_READERS.values(sorted(viewers))):
            last[status.id] = status
            visible[reader_id].add(status.id)
    rendered = statuses_json_by_reader(list(last.values()), [(v, None) for v in viewers.values()])
    found = {}
    for participation, viewer in pairs:
        own = {d["id"]: d for d in rendered.get((viewer.id, None), []) if d["id"] in visible[viewer.id]}
        found[viewer.id] = _conversation(participation, viewer, recipients[participation.id], own)
    return found


def _recipients(participation_ids: list[str]) -> dict[str, list[Account]]:
    recipients: dict[str, list[Account]] = defaultdict(list)
    for pid, account in db.session.execute(
        select(ParticipationRecipient.participation_id, Account)
        .join(Account, Account.id == ParticipationRecipient.account_id)
        .where(ParticipationRecipient.participation_id.in_(participation_ids))
        .order_by(Account.id)
    ).all():
        recipients[pid].append(account)
    return recipients


def _conversation(p: Participation, viewer: Account, recipients: list[Account], statuses: dict) -> dict:
    others = [a for a in recipients if a.id != viewer.id] or [viewer]
    return {
        "id": p.id,
        "unread": p.is_unread,
        "accounts": [account_json(a, viewer) for a in others],
        "last_status": statuses.get(p.last_status_id) if p.last_status_id else None,
        "pleroma": {"recipients": [account_json(a, viewer) for a in recipients]},
    }


def conversation_json(participation: Participation, viewer: Account) -> dict:
    return conversations_json([participation], viewer)[0]
