"""One error shape for the whole API: `{"error": "<message>"}` with the right status (SPEC 1.4)."""

from __future__ import annotations

import logging
from typing import Any
from typing import NoReturn

from apiflask import APIFlask
from apiflask import HTTPError
from flask import Response
from flask import jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Invalid credentials",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "File is too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
    429: "Throttled",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """Raised anywhere below a view; the handler turns it into the JSON error body."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def abort_json(status: int, message: str, **extra: Any) -> NoReturn:
    raise ApiError(status, message, **extra)


def error_response(status: int, message: str, **extra: Any) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _validation_message(detail: dict) -> str:
    """Pleroma's wording: `Missing field: name.` or `name - <problem>` (SPEC 1.3)."""
    for fields in detail.values():  # {location: {field: [messages]}}
        if not isinstance(fields, dict):
            continue
        for field, messages in fields.items():
            text = _first_message(messages)
            if "Missing data" in text:
                return f"Missing field: {field}."
            return f"{field} - {text}"
    return "Bad request"


def _first_message(messages: Any) -> str:
    if isinstance(messages, list) and messages:
        return _first_message(messages[0])
    if isinstance(messages, dict) and messages:
        return _first_message(next(iter(messages.values())))
    return str(messages)


def _http_error(error: HTTPError) -> Response:
    if error.status_code == 400 and isinstance(error.detail, dict) and error.detail:
        message = _validation_message(error.detail)
        # An over-long field (params.Length) is 422, as SPEC has it for an over-long status.
        return error_response(422 if " - is too long (at most " in message else 400, message)
    message = error.message if error.message and error.status_code != 404 else None
    return error_response(error.status_code, message or _DEFAULT_MESSAGES.get(error.status_code, "Error"))


def register_error_handlers(app: APIFlask) -> None:
    app.error_processor(_http_error)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.message, **error.extra)

    @app.errorhandler(HTTPException)
    def http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        return error_response(status, _DEFAULT_MESSAGES.get(status, error.name))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # Never leak a traceback to the client; the log keeps it for the operator.
        log.exception("unhandled error", exc_info=error)
        return error_response(500, "Internal server error")
