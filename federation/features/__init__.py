"""Each module here federates one family of activities both ways: the receivers of its
`services.events` signals and their delivery jobs (out), and its `federation.inbox` handlers
(in). Importing this package registers them all; routes/inboxes.py does."""

from __future__ import annotations

from importlib import import_module

MODULES: tuple[str, ...] = (
    "profiles",
    "moves",
    "polls",
    "edits",
    "reports",
    "chats",
    "reactions",
    "favourites",
    "reblogs",
    "blocks",
    "pins",
)

for _name in MODULES:
    import_module(f"federation.features.{_name}")
