"""Outgoing e-mail with Flask-Mailman (SPEC 26, 29).

With `MAIL_SERVER` set, messages go out over SMTP. Without it, Flask-Mailman's own `file` backend
writes each message to `<instance>/mail/` (one file per message), so a self-hoster without SMTP
can still open a password-reset link; the log names the recipient, the subject and the file, but
never the body, which may hold a secret (a reset token).

Named `mail`, not `mailman` or `flask_mailman`: a top-level module must not shadow a library.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask import current_app
from flask_mailman import EmailMessage
from flask_mailman import Mail

mailer = Mail()


def mail_dir(app: Flask) -> Path:
    return Path(app.instance_path) / "mail"


def is_smtp(app: Flask) -> bool:
    return bool(app.config.get("MAIL_SERVER"))


def init_app(app: Flask) -> None:
    # An explicit MAIL_BACKEND (e.g. `locmem`) wins; otherwise SMTP when a server is named, else
    # the file backend (Flask-Mailman would pick `locmem` under TESTING, which keeps nothing).
    if not app.config.get("MAIL_BACKEND"):
        app.config["MAIL_BACKEND"] = "smtp" if is_smtp(app) else "file"
    # Environment values are JSON-decoded: a numeric password must still reach SMTP as text.
    for key in ("MAIL_USERNAME", "MAIL_PASSWORD"):
        if app.config.get(key) is not None:
            app.config[key] = str(app.config[key])
    if not app.config.get("MAIL_FILE_PATH"):
        app.config["MAIL_FILE_PATH"] = str(mail_dir(app))
    mailer.init_app(app)
    if app.config["MAIL_BACKEND"] == "file":
        # The files hold live reset links: only the server's user may read them.
        folder = Path(app.config["MAIL_FILE_PATH"])
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text message now (callers run this in a job: SMTP is remote)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"] or _default_sender()
    connection = mailer.get_connection()
    message = EmailMessage(subject=subject, body=body, from_email=sender, to=[to], connection=connection)
    message.send()
    if is_smtp(current_app):
        current_app.logger.info("mail %r to %s sent via %s", subject, to, current_app.config["MAIL_SERVER"])
        return
    # Not delivered: the operator has to pass it on, so it is logged where the server's errors go.
    written = getattr(connection, "_fname", None) or current_app.config["MAIL_FILE_PATH"]
    current_app.logger.warning("mail %r to %s not sent (no MAIL_SERVER): written to %s", subject, to, written)


def _default_sender() -> str:
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"{current_app.config['INSTANCE_NAME']} <noreply@{host}>"
