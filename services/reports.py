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
from services.notifications import notify


def create_report(reporter: Account, account_id: str, status_ids: list[str], comment: str) -> Report:
    target = db.session.get(Account, account_id)
    if target is None or target.is_deleted:
        raise ApiError(400, "Account not found")
    report = Report(
        account_id=reporter.id,
        target_id=target.id,
        status_ids=_attachable(reporter, target, status_ids),
        comment=comment,
    )
    db.session.add(report)
    db.session.flush()
    for staff_id in _staff_ids():
        notification = notify(staff_id, reporter, "pleroma:report")
        if notification is not None:
            notification.report_id = report.id
    db.session.commit()
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
