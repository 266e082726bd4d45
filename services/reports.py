"""Reports to the moderators (SPEC 3): stored, and announced to every admin and moderator with a
`pleroma:report` notification."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy import select

from errors import ApiError
from models import Account
from models import Report
from models import Status
from models import db
from services import events
from services.notifications import notify


def create_report(
    reporter: Account, account_id: str, status_ids: list[str], comment: str, forward: bool = False
) -> Report:
    """A local account's report; with `forward`, a report of another server's account is also
    sent to that server (anonymously, by the instance)."""
    target = db.session.get(Account, account_id)
    if target is None or target.is_deleted:
        raise ApiError(400, "Account not found")
    report = _store(reporter, target, _attachable(reporter, target, status_ids), comment)
    if forward and target.domain is not None:
        events.emit(events.report_forwarded, report_id=report.id)
    db.session.commit()
    return report


def receive_report(reporter: Account, target: Account, status_ids: list[str], comment: str) -> Report:
    """A report another server sent about a local account (SPEC 24.4): the reporter is that
    server's account (often its instance actor); statuses not the target's are left out."""
    found = set(
        db.session.scalars(select(Status.id).where(Status.id.in_(status_ids), Status.account_id == target.id))
    )
    report = _store(reporter, target, [i for i in dict.fromkeys(status_ids) if i in found], comment)
    db.session.commit()
    return report


def _store(reporter: Account, target: Account, status_ids: list[str], comment: str) -> Report:
    """The report and its `pleroma:report` notifications to the staff (not committed)."""
    report = Report(account_id=reporter.id, target_id=target.id, status_ids=status_ids, comment=comment)
    db.session.add(report)
    db.session.flush()
    for staff_id in _staff_ids():
        notification = notify(staff_id, reporter, "pleroma:report")
        if notification is not None:
            notification.report_id = report.id
    return report


def _attachable(reporter: Account, target: Account, status_ids: list[str]) -> list[str]:
    """Only the reported account's statuses that the reporter can see go with the report."""
    wanted = list(dict.fromkeys(status_ids))
    if not wanted:
        return []
    found = set(
        db.session.scalars(
            select(Status.id).where(
                Status.id.in_(wanted), Status.account_id == target.id, Status.visibility_filter(reporter)
            )
        )
    )
    return [i for i in wanted if i in found]


def _staff_ids() -> list[str]:
    query = select(Account.id).where(
        or_(Account.is_admin.is_(True), Account.is_moderator.is_(True)),
        Account.domain.is_(None),
        Account.is_active.is_(True),
    )
    return list(db.session.scalars(query))
