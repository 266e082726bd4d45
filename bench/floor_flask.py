"""The bare-Flask floor: the least a Flask view can do under Kenoma's gunicorn config.

GET /json answers a small JSON object; GET /files/<file> sends a file from BENCH_STATIC_DIR the
plain way (send_file), the floor of the pack archive download."""

from __future__ import annotations

import os

from flask import Flask
from flask import Response
from flask import jsonify
from flask import send_from_directory

app = Flask(__name__)


@app.get("/json")
def small_json() -> Response:
    return jsonify({"id": "1", "name": "floor", "ok": True})


@app.get("/files/<path:name>")
def static_file(name: str) -> Response:
    return send_from_directory(os.environ["BENCH_STATIC_DIR"], name)
