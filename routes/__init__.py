"""register_blueprints(app): the only place blueprints are mounted."""

from __future__ import annotations

import importlib

from apiflask import APIBlueprint
from apiflask import APIFlask

# Mastodon-side path groups, each a module in routes/ exposing `bp`.
MASTODON_GROUPS = (
    "oauth",
    "apps",
    "accounts",
    "statuses",
    "status_edits",
    "timelines",
    "markers",
    "notifications",
    "conversations",
    "media",
    "custom_emojis",
    "blocks",
    "mutes",
    "favourites",
    "bookmarks",
    "follow_requests",
    "endorsements",
    "domain_blocks",
    "account_notes",
    "followers",
    "lists",
    "tags",
    "featured_tags",
    "directory",
    "polls",
    "scheduled_statuses",
    "filters",
    "announcements",
    "search",
    "instance",
    "discovery",
    "activitypub",
    "inboxes",
    "push",
    "streaming",
    "reports",
    "emoji_files",
    "oauth_tokens",
    "ostatus",
    "password_reset",
    "email_confirmation",
    "testing",
    "frontend",
)
# Pleroma groups in routes/pleroma/, served at /api/v1/pleroma and /api/pleroma alike.
PLEROMA_GROUPS: tuple[str, ...] = (
    "captcha",
    "conversations",
    "notifications",
    "reactions",
    "scrobbles",
    "backups",
    "bookmark_folders",
    "endorsements",
    "healthcheck",
    "mascot",
    "quotes",
    "settings",
    "emoji_packs",
    "mfa",
    "account_settings",
    "accounts",
    "imports",
    "migration",
    "remote_interaction",
    "password_reset",
)
# Pleroma groups Pleroma serves under versioned prefixes only (/api/v1/pleroma, /api/v2/pleroma):
# each blueprint carries its own /api prefix and is mounted once.
PLEROMA_VERSIONED_GROUPS: tuple[str, ...] = ("chats",)


def _load(name: str) -> APIBlueprint | None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:  # a group not written yet
            return None
        raise
    return module.bp


def register_blueprints(app: APIFlask) -> None:
    for group in MASTODON_GROUPS:
        bp = _load(f"routes.{group}")
        if bp is not None:
            app.register_blueprint(bp)
    pleroma = APIBlueprint("pleroma", __name__, tag="Pleroma")
    for group in PLEROMA_GROUPS:
        bp = _load(f"routes.pleroma.{group}")
        if bp is not None:
            pleroma.register_blueprint(bp)
    # One definition, two mounts (SPEC 1.8): the legacy prefix gets its own blueprint name.
    app.register_blueprint(pleroma, url_prefix="/api/v1/pleroma")
    app.register_blueprint(pleroma, url_prefix="/api/pleroma", name="pleroma_legacy")
    for group in PLEROMA_VERSIONED_GROUPS:
        bp = _load(f"routes.pleroma.{group}")
        if bp is not None:
            app.register_blueprint(bp)
