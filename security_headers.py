"""Security headers on every response, as Pleroma's HTTP security plug sends them.

Kenoma's own HTML pages (OAuth login and consent, MFA, the out-of-band code, remote follow) load
nothing but their inline style, so they get a strict Content-Security-Policy; responses that set
their own policy keep it (uploads and emoji files are sandboxed by their routes). The API docs page
runs Swagger UI from its CDN and gets a policy that lets it. No page may be framed: clickjacking
the consent page would hand a client someone's token.
"""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import current_app
from flask import request

STRICT_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Swagger UI (APIFlask's /docs): its bundle from jsDelivr, an inline start-up script and
# `new Function` for its configuration.
CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval' {CDN}; style-src 'unsafe-inline' {CDN}; "
    "img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_ENDPOINTS = frozenset({"openapi.docs", "openapi.swagger_ui_oauth_redirect"})
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Permitted-Cross-Domain-Policies": "none",
}
HSTS = "max-age=31536000; includeSubDomains"
_COMMON_LOWER = [(name.lower(), name, value) for name, value in COMMON.items()]


def _add_headers(response: Response) -> Response:
    # The names present, read in one pass: Headers.setdefault raises (and builds) a werkzeug
    # KeyError for every missing name, ~5 us each, which cost more than the rest of this hook.
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for lower, name, value in _COMMON_LOWER:
        if lower not in present:
            headers.add(name, value)
    if "content-security-policy" not in present:
        headers.add(
            "Content-Security-Policy", DOCS_POLICY if request.endpoint in DOCS_ENDPOINTS else STRICT_POLICY
        )
    if "strict-transport-security" not in present and current_app.config["BASE_URL"].startswith("https://"):
        headers.add("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
    # The login cookie never leaves on a cross-site POST (SameSite), never reaches scripts
    # (HttpOnly), and travels only over TLS when the server is reached over https.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
