"""Reports (SPEC 3, 24.4, 24.5). Out: a report of another server's account made with `forward`
goes to that server as a Flag by the instance actor, which keeps the reporter's name back. In:
a Flag naming a local account becomes a report to the staff here, with the `pleroma:report`
notifications a local report brings."""

from __future__ import annotations

from sqlalchemy import select

import formatting
import jobs
from federation import documents
from federation import notes
from federation.delivery import publish
from federation.inbox import handles
from federation.inbox import local_account
from federation.objects import local_status
from federation.outbox import enqueue
from federation.outbox import new_activity_id
from models import Account
from models import Report
from models import Status
from models import db
from services import events
from services import reports

MAX_COMMENT = 5000  # as a local report's
MAX_OBJECTS = 100  # ids of a Flag looked at: the account and some of its statuses


@events.report_forwarded.connect
def _report_forwarded(_sender: object, report_id: str) -> None:
    enqueue("federate_report", report_id=report_id)


@jobs.job
def federate_report(report_id: str) -> None:
    report = db.session.get(Report, report_id)
    target = db.session.get(Account, report.target_id) if report is not None else None
    if report is None or target is None or target.is_local:
        return
    statuses = list(db.session.scalars(select(Status).where(Status.id.in_(report.status_ids or []))))
    flag = documents.flag(None, target, statuses, report.comment, new_activity_id())
    publish(flag, None, to=[target], object_id=target.ap_id)


@handles("Flag")
def on_flag(activity: dict, actor: Account) -> None:
    """The first local account the Flag names is reported; the named statuses that are its own
    go with the report."""
    named = notes.recipients(activity.get("object"))[:MAX_OBJECTS]
    target = next((a for a in map(local_account, named) if a is not None), None)
    if target is None:
        return
    statuses = [s for s in map(local_status, named) if s is not None]
    comment = formatting.strip_tags(str(activity.get("content") or ""))[:MAX_COMMENT]
    reports.receive_report(actor, target, [s.id for s in statuses], comment)
