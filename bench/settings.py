"""What every part of the bench shares: the repository's paths, the knobs read from the
environment (README: Knobs), the sizes of the seeded data, and the log line."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = ROOT / ".venv" / "bin"
GUNICORN_CONF = Path(os.environ.get("BENCH_GUNICORN_CONF", ROOT / "gunicorn.conf.py"))

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
GROWTH = int(os.environ.get("GROWTH", "0") or 0)
CONNECTIONS = 8  # gunicorn.conf.py: 2 workers x 4 threads
STATUSES = 1000
REACTIONS = 200
FAVOURITES = 200
NOTIFYING_FAVOURITES = 40  # bob's, on alice's statuses: with his mentions, her notifications
PEERS = 40  # the accounts of the relationships row
EMOJI_FILES = 50
IMPORT_LINES = 10_000
MEMORY_PSS_MB = 200  # master + 2 workers after the run (issue 19 restated it; GoToSocial: 140)
PASSWORD = "bench-password-1"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # flake ids (models.py)
UNICODE_EMOJI = "👍 ❤️ 😂 🎉 🔥 👀 🙏 😮 😢 🤔 👏 💯 ✨ 🚀 🌈 🍕 🐱 🐶 ⭐ ✅".split()


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
