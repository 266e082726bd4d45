"""`flask --app app announcement ...`: make, list and delete instance announcements (SPEC 29)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import click
from flask.cli import AppGroup

from errors import ApiError
from services import announcements

announcement_cli = AppGroup("announcement", help="Manage instance announcements.")


def _moment(value: str | None) -> datetime | None:
    """An ISO 8601 time as naive UTC (the database's form); a time without zone is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise click.BadParameter(f"not an ISO 8601 time: {value}") from error
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@announcement_cli.command("create")
@click.argument("text")
@click.option("--starts-at", default=None, help="ISO 8601 time it starts being shown.")
@click.option("--ends-at", default=None, help="ISO 8601 time it stops being shown.")
@click.option("--all-day", is_flag=True, help="The times are dates of a whole-day event.")
def create_announcement(text: str, starts_at: str | None, ends_at: str | None, all_day: bool) -> None:
    """Publish an announcement and print only its id."""
    try:
        made = announcements.create(text, _moment(starts_at), _moment(ends_at), all_day)
    except ApiError as error:
        raise click.ClickException(error.message) from error
    click.echo(made.id)


@announcement_cli.command("list")
def list_announcements() -> None:
    """List every announcement: id, start, end, and the start of its text."""
    for made in announcements.all_announcements():
        window = "\t".join(moment.isoformat() if moment else "-" for moment in (made.starts_at, made.ends_at))
        first_line = made.content_source.splitlines()[0] if made.content_source else ""
        click.echo(f"{made.id}\t{window}\t{first_line[:60]}")


@announcement_cli.command("delete")
@click.argument("announcement_id")
def delete_announcement(announcement_id: str) -> None:
    """Delete an announcement, with its reads and reactions."""
    if not announcements.remove(announcement_id):
        raise click.ClickException(f"no announcement with id {announcement_id}")
    click.echo("ok")
