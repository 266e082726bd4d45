"""`flask --app app frontend install SOURCE`: install a built front-end (SPEC 27, 29)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from services import frontend

frontend_cli = AppGroup("frontend", help="Manage the served front-end.")


@frontend_cli.command("install")
@click.argument("source")
def install(source: str) -> None:
    """Install the front-end built in SOURCE: a zip file, a folder, or an http(s) URL of a zip.
    The old front-end stays in place until the new one is complete."""
    try:
        frontend.install(source, progress=lambda message: click.echo(message, err=True))
    except frontend.InstallError as error:
        raise click.ClickException(str(error)) from error
