"""`flask --app app demo` and `flask --app app reset [--yes]` (SPEC 27, 29): demo data for client
developers, with ready logins and tokens, and emptying the instance again."""

from __future__ import annotations

import secrets
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from auth import issue_token
from models import App
from models import db
from services.reset import empty_instance

DEMO_APP = "Kenoma demo"
DEMO_SCOPES = "read write follow push"


def _progress(message: str) -> None:
    click.echo(f"… {message}", err=True)


def _demo_app() -> App:
    """One OAuth app the printed tokens belong to (out-of-band redirect, all scopes)."""
    app = App(
        name=DEMO_APP,
        redirect_uris_text="urn:ietf:wg:oauth:2.0:oob",
        scopes=DEMO_SCOPES,
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
        client_id_issued_at=int(time.time()),
    )
    db.session.add(app)
    db.session.commit()
    return app


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Fill an empty instance with demo data; print the logins and a token for each account."""
    from services import demo as demo_data  # lazy: Pillow stays unloaded in the server

    try:
        people = demo_data.fill(_progress)
    except demo_data.NotEmpty as error:
        raise click.ClickException(str(error)) from error
    client = _demo_app()
    base = current_app.config["BASE_URL"]
    click.echo(f"Demo data ready on {base}")
    click.echo(f"OAuth app {DEMO_APP!r}: client_id={client.client_id} client_secret={client.client_secret}")
    click.echo(f"{'nickname':<10}{'password':<16}access token ({DEMO_SCOPES})")
    for nickname, account in people.items():
        token = issue_token(client, account, DEMO_SCOPES)
        role = "  (admin)" if account.is_admin else ""
        click.echo(f"{nickname:<10}{demo_data.password_of(nickname):<16}{token['access_token']}{role}")
    click.echo(f"Try: curl -H 'Authorization: Bearer <token>' {base}/api/v1/timelines/home")


@click.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@with_appcontext
def reset(yes: bool) -> None:
    """Delete every account, status and upload: an empty instance, as after installation."""
    if not yes:
        click.confirm(f"Delete ALL data of the instance at {current_app.config['BASE_URL']}?", abort=True)
    removed = empty_instance()
    click.echo(f"instance emptied ({removed} rows deleted)")
