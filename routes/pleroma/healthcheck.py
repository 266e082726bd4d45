"""The health check (SPEC 10): 200 when the database answers, 503 otherwise or when disabled."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import current_app

import api_schemas
from openapi import answer
from openapi import responds
from services import pleroma_misc

bp = APIBlueprint("healthcheck", __name__, tag="Pleroma")


@bp.get("/healthcheck")
@responds(api_schemas.Healthcheck, also={503: answer(api_schemas.Healthcheck, 503)})
def healthcheck() -> tuple[dict, int]:
    """Database, pool, memory and job-queue figures."""
    # Monitors read the status code; a disabled check must never look healthy (SPEC 21 note 17).
    if not current_app.config["HEALTHCHECK"]:
        return {}, 503
    report = pleroma_misc.health()
    return report, 200 if report["healthy"] else 503
