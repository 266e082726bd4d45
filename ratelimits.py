"""Rate limits (Flask-Limiter) on the endpoints that check a secret: login, token, registration,
password-protected account management and MFA (SPEC 0: `KENOMA_RATELIMIT_ENABLED`).

Named `ratelimits`, not `limits`: `limits` is the library Flask-Limiter is built on, and a top-level
module of that name would shadow it (STYLE: never name a module after a library we import).

The limit strings come from config (`RATELIMIT_AUTHENTICATION`, ...) and are read per request, so
an instance (or a test) can change them. A breach raises Flask-Limiter's `RateLimitExceeded`, a 429
HTTPException that errors.py answers with `{"error": "Throttled"}`; Flask-Limiter adds the
`Retry-After` and `X-RateLimit-*` headers. Counters live in `RATELIMIT_STORAGE_URI` (`memory://`:
each gunicorn worker counts on its own; point it at redis to share them).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask import current_app
from flask import g
from flask import request
from flask_limiter import Limiter


def client_ip() -> str:
    """The caller's address. Behind `TRUSTED_PROXIES` reverse proxies (nginx: 1) it is read from
    X-Forwarded-For, counting from the right: each proxy appends the address it saw, so the entries
    a client forges on the left are never reached."""
    proxies = int(current_app.config.get("TRUSTED_PROXIES") or 0)
    forwarded = [
        part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()
    ]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return request.remote_addr or ""


def caller_or_ip() -> str:
    """The authenticated caller's account (a stolen token must not buy unlimited password
    guesses from many addresses), else the address."""
    identity = g.get("identity")
    account = getattr(identity, "account", None)
    return f"account:{account.id}" if account is not None else f"ip:{client_ip()}"


def _posted_mfa_token() -> str:
    """The MFA ticket in the body: `mfa_token` (/oauth/mfa/challenge) or `mfa[mfa_token]`
    (the login form's /oauth/mfa/verify), as JSON or form fields."""
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        nested = body.get("mfa") if isinstance(body.get("mfa"), dict) else {}
        return str(body.get("mfa_token") or nested.get("mfa_token") or "")
    return request.form.get("mfa_token") or request.form.get("mfa[mfa_token]") or ""


def ticket_account_or_ip() -> str:
    """The account whose second factor is being tried: guesses from many addresses share its
    budget. A request naming no live ticket is keyed by its address (it cannot log in anyway)."""
    from services.security import ticket_account_id  # lazy: a limit module stays light

    account_id = ticket_account_id(_posted_mfa_token())
    return f"account:{account_id}" if account_id else f"ip:{client_ip()}"


limiter = Limiter(key_func=client_ip, key_prefix="kenoma")


def _configured(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


def _disabled() -> bool:
    # The Limiter object is process-wide; several apps in one process (the test suite) each keep
    # their own switch, checked on every request.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


limiter.request_filter(_disabled)

# Pleroma's :authentication limiter: one budget per address for every way of proving a password
# or a second factor (token, login form, MFA steps).
authentication = limiter.shared_limit(_configured("RATELIMIT_AUTHENTICATION"), scope="authentication")
# Pleroma's :app_account_creation.
account_creation = limiter.limit(_configured("RATELIMIT_ACCOUNT_CREATION"))
# Password-protected account management and MFA changes, keyed by account. Apply it *below*
# require_auth so the caller is known when the limit is checked.
password = limiter.shared_limit(_configured("RATELIMIT_PASSWORD"), scope="password", key_func=caller_or_ip)

# Pleroma's :password_reset (5 per 30 minutes): reset requests (each may send an e-mail) and the
# reset form's posts (each guesses a token), one budget per address for both.
password_reset = limiter.shared_limit(_configured("RATELIMIT_PASSWORD_RESET"), scope="password-reset")


# Wrong second-factor codes per account, from every address together: a distributed guesser
# with the password cannot walk the 10^6 TOTP codes. Only failures count, so a user who gets
# the code right is never held up by their own logins.
mfa_account = limiter.shared_limit(
    _configured("RATELIMIT_MFA_ACCOUNT"),
    scope="mfa-account",
    key_func=ticket_account_or_ip,
    deduct_when=lambda response: response.status_code >= 400,
)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
