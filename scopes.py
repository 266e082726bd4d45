"""OAuth scopes (SPEC 1.2): which names exist and when a granted scope covers a required one."""

from __future__ import annotations

TOP_LEVEL = ("read", "write", "follow", "push", "admin")
_READ = "accounts backups blocks bookmarks favourites filters follows lists mutes notifications scrobbles search security statuses chats reports media"
_WRITE = "accounts blocks bookmarks conversations favourites filters follows lists media mutes notifications reports scrobbles security statuses chats"
VALID = frozenset(
    TOP_LEVEL
    + tuple(f"read:{x}" for x in _READ.split())
    + tuple(f"write:{x}" for x in _WRITE.split())
    + ("admin:read", "admin:write")
)
# Mastodon's legacy `follow` scope stands for these granular ones.
_FOLLOW_IMPLIES = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)


def covers(granted: str, required: str) -> bool:
    """`write` covers `write:statuses`, `admin` covers `admin:write`, `admin:write` covers
    `admin:write:accounts`."""
    if granted == required or required.startswith(granted + ":"):
        return True
    return granted == "follow" and required in _FOLLOW_IMPLIES


def any_covered(granted: set[str] | frozenset[str], required: tuple[str, ...]) -> bool:
    return any(covers(g, r) for g in granted for r in required)


def unknown(requested: list[str]) -> list[str]:
    return [s for s in requested if s not in VALID]


def for_account(scope: str, is_admin: bool) -> str:
    """The scope a token of this account may carry: admin scopes only for admins, whatever was
    asked (Pleroma's OAuth.Scopes.filter_admin_scopes)."""
    if is_admin:
        return scope
    return " ".join(s for s in scope.split() if not covers("admin", s))
