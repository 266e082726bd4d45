"""Reports to the moderators (SPEC 3)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List
from apiflask.fields import String

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from params import Bool
from params import IdStr
from params import Length
from params import Params
from services import reports

bp = APIBlueprint("reports", __name__, url_prefix="/api/v1/reports", tag="Reports")


class ReportIn(Params):
    account_id = IdStr(required=True)
    status_ids = List(IdStr(), load_default=list)
    comment = String(load_default="", validate=Length(max=5000))
    forward = Bool(load_default=False)  # also send it to a remote account's server


@bp.post("")
@require_auth("write:reports")
@bp.input(ReportIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Report)
def create_report(data: dict) -> dict:
    """Report an account (and some of its statuses) to the admins and moderators."""
    report = reports.create_report(
        me(), data["account_id"], data["status_ids"], data["comment"] or "", forward=data["forward"]
    )
    return serializers.report_json(report, me())
