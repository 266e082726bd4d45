"""mail.py: SMTP when MAIL_SERVER is set, else one file per message in <instance>/mail/."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

import mail
from app import create_app


def _app(tmp_path: Path, **config: object) -> Flask:
    (tmp_path / "emoji").mkdir(exist_ok=True)
    base = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EMOJI_DIR": str(tmp_path / "emoji"),
    }
    return create_app(base | config)


def test_mail_without_server_writes_files(tmp_path: Path) -> None:
    app = _app(tmp_path, BASE_URL="https://social.example")
    assert app.config["MAIL_BACKEND"] == "file"
    assert (Path(app.instance_path) / "mail").stat().st_mode & 0o077 == 0
    with app.app_context():
        mail.send("someone@example.org", "Hello", "Body text")
        mail.send("other@example.org", "Again", "More text")
    files = sorted((Path(app.instance_path) / "mail").iterdir())
    assert len(files) == 2
    first = files[0].read_text() + files[1].read_text()
    assert "To: someone@example.org" in first
    assert "From: Kenoma <noreply@social.example>" in first
    assert "Body text" in first


def test_mail_with_server_uses_smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENOMA_MAIL_PASSWORD", "123456")  # JSON-decoded to a number
    app = _app(tmp_path, MAIL_SERVER="smtp.example.org", MAIL_PORT=587, MAIL_USE_TLS=True)
    assert app.config["MAIL_BACKEND"] == "smtp"
    assert app.config["MAIL_PASSWORD"] == "123456"
    with app.app_context():
        connection = mail.mailer.get_connection()
    assert (connection.host, connection.port, connection.use_tls) == ("smtp.example.org", 587, True)
    assert connection.password == "123456"


def test_mail_sender_from_config(tmp_path: Path) -> None:
    app = _app(tmp_path, MAIL_DEFAULT_SENDER="Admin <admin@example.org>")
    with app.app_context():
        mail.send("someone@example.org", "Hi", "Text")
    (written,) = (Path(app.instance_path) / "mail").iterdir()
    assert "From: Admin <admin@example.org>" in written.read_text()
