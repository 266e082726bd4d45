"""The write floor: a bare-Flask endpoint that inserts one row into SQLite and commits, with the
same journal settings as Kenoma (WAL, synchronous=NORMAL, a busy timeout). Each gunicorn thread
keeps its own connection, as SQLAlchemy's pool does for Kenoma."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from flask import Flask
from flask import Response
from flask import jsonify
from flask import request

app = Flask(__name__)
_local = threading.local()


def _connection() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["BENCH_WRITE_DB"], timeout=30, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT NOT NULL, created REAL NOT NULL)"
        )
        _local.connection = connection
    return connection


@app.route("/write", methods=["POST", "PUT"])
def write() -> Response:
    connection = _connection()
    connection.execute("BEGIN IMMEDIATE")
    cursor = connection.execute(
        "INSERT INTO note (body, created) VALUES (?, ?)", (request.get_data(as_text=True), time.time())
    )
    connection.execute("COMMIT")
    return jsonify({"id": str(cursor.lastrowid)})
