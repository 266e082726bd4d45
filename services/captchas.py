"""Pleroma's native captcha (SPEC 10): an image, and the answer sealed into `answer_data` with a
key derived from the secret key and the token, so nothing is stored until a captcha is used."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import delete

from errors import ApiError
from models import UsedCaptcha
from models import db
from models import utcnow

# No 0/O or 1/l/I: people should not fail a captcha over look-alike characters.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_LENGTH = 5


def _sealer(token: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"captcha:{token}")


def seconds_valid() -> int:
    return int(current_app.config["CAPTCHA_SECONDS_VALID"])


def new_captcha() -> dict:
    if not current_app.config["CAPTCHA_ENABLED"]:
        return {"type": "none"}
    from captcha.image import ImageCaptcha  # lazy: captcha and Pillow only once one is drawn

    answer = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    token = secrets.token_urlsafe(16)
    try:
        image = ImageCaptcha(width=220, height=80).generate(answer).getvalue()
    except (OSError, ValueError) as error:
        raise ApiError(500, "CAPTCHA Error") from error
    return {
        "type": "native",
        "token": token,
        "url": "data:image/png;base64," + base64.b64encode(image).decode(),
        "answer_data": _sealer(token).dumps(answer),
        "seconds_valid": seconds_valid(),
    }


def _fail(message: str) -> ApiError:
    # Pleroma nests the message in a JSON *string* under `error` (SPEC 10).
    return ApiError(400, json.dumps({"captcha": [message]}, separators=(",", ":")))


def check(data: dict) -> None:
    """Validate a registration's captcha fields; each token is accepted once."""
    if not current_app.config["CAPTCHA_ENABLED"]:
        return
    for name in ("captcha_token", "captcha_solution", "captcha_answer_data"):
        if not data.get(name):
            raise _fail(f"Invalid CAPTCHA (Missing parameter: {name})")
    token = str(data["captcha_token"])
    if db.session.get(UsedCaptcha, token) is not None:
        raise _fail("CAPTCHA already used")
    try:
        answer = _sealer(token).loads(str(data["captcha_answer_data"]), max_age=seconds_valid())
    except SignatureExpired as error:
        raise _fail("CAPTCHA expired") from error
    except BadSignature as error:
        raise _fail("Invalid answer data") from error
    if str(data["captcha_solution"]).strip().lower() != answer:
        raise _fail("Invalid CAPTCHA")
    _remember(token)


def _remember(token: str) -> None:
    now = utcnow()
    db.session.execute(delete(UsedCaptcha).where(UsedCaptcha.expires_at < now))
    db.session.add(UsedCaptcha(token=token, expires_at=now + timedelta(seconds=seconds_valid())))
    db.session.commit()
