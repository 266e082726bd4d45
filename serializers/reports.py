"""Reports, as their reporter and the staff notified of them see them."""

from __future__ import annotations

from sqlalchemy import select

from models import Account
from models import Report
from models import Status
from models import db
from serializers.accounts import account_json
from serializers.common import iso
from serializers.statuses import statuses_json


def report_json(report: Report, viewer: Account) -> dict:
    ids = {report.account_id, report.target_id}
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.in_(ids)))}
    reported = db.session.scalars(select(Status).where(Status.id.in_(report.status_ids or [])))
    statuses = {d["id"]: d for d in statuses_json(reported, viewer)}
    return _report(report, viewer, accounts, statuses)


def _report(report: Report, viewer: Account, accounts: dict, statuses: dict) -> dict:
    """Mastodon's Report plus the fields of Pleroma's report view (`account` is the reported
    account, `actor` the reporter), so both kinds of client find theirs."""
    reporter = accounts.get(report.account_id)
    target = accounts.get(report.target_id)
    shown = [i for i in report.status_ids or [] if i in statuses]
    return {
        "id": report.id,
        "action_taken": report.is_action_taken,
        "state": report.state,
        "comment": report.comment,
        "content": report.comment,
        "created_at": iso(report.created_at),
        "account": account_json(target, viewer) if target else None,
        "actor": account_json(reporter, viewer) if reporter else None,
        "status_ids": shown,
        "statuses": [statuses[i] for i in shown],
    }
