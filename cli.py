"""`flask --app app user ...`: create and manage local accounts from the shell, print a
password-reset link; `flask --app app db backup PATH`: copy the live database (SQLite's online
backup, or pg_dump on PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from flask.cli import with_appcontext
from sqlalchemy import select

import engines
from cli_announcements import announcement_cli
from cli_demo import demo
from cli_demo import reset
from cli_frontend import frontend_cli
from errors import ApiError
from models import Account
from models import db
from services import password_reset
from services.accounts import create_local_account
from services.passwords import hash_password

user_cli = AppGroup("user", help="Manage local accounts.")


@user_cli.command("create")
@click.argument("nickname")
@click.option("--password", required=True, help="The account's password.")
@click.option("--email", default=None, help="E-mail address (also accepted as login name).")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
def create_user(nickname: str, password: str, email: str | None, admin: bool) -> None:
    """Create a local account and print only its id."""
    try:
        account = create_local_account(nickname, password, email=email, is_admin=admin)
    except ApiError as error:
        raise click.ClickException(error.message) from error
    click.echo(account.id)


@user_cli.command("list")
def list_users() -> None:
    """List local accounts: id, nickname, admin flag, active flag."""
    for account in db.session.scalars(select(Account).where(Account.domain.is_(None)).order_by(Account.id)):
        flags = ("admin " if account.is_admin else "") + ("" if account.is_active else "disabled")
        click.echo(f"{account.id}\t{account.nickname}\t{flags.strip()}")


def _local(nickname: str) -> Account:
    account = Account.find_local(nickname)
    if account is None:
        raise click.ClickException(f"no local account named {nickname}")
    return account


@user_cli.command("set-password")
@click.argument("nickname")
@click.option("--password", required=True)
def set_password(nickname: str, password: str) -> None:
    """Set a local account's password."""
    _local(nickname).password_hash = hash_password(password)
    db.session.commit()
    click.echo("ok")


@user_cli.command("reset-password")
@click.argument("nickname")
def reset_password(nickname: str) -> None:
    """Print a one-use link (valid 24 hours) that lets the account choose a new password."""
    account = _local(nickname)
    if not account.is_active:
        raise click.ClickException(f"{nickname} is disabled")
    click.echo(password_reset.reset_link(password_reset.new_reset_token(account)))


@user_cli.command("set-admin")
@click.argument("nickname")
@click.option("--off", is_flag=True, help="Take the admin flag away instead.")
def set_admin(nickname: str, off: bool) -> None:
    """Grant (or with --off revoke) administrator rights."""
    _local(nickname).is_admin = not off
    db.session.commit()
    click.echo("ok")


def _database_file() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException("db backup works only with an SQLite database file")
    return Path(url.database).resolve()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_database(source: Path, target: Path) -> int:
    """Copy with SQLite's online backup API; returns the number of pages copied."""
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dest:
        # One step (pages=-1): a single read transaction gives a consistent snapshot, and in WAL
        # mode it does not hold up the server's writers. Copying in small steps would restart
        # whenever another process commits, possibly forever under steady writes.
        src.backup(dest)
        # The copy inherits WAL mode; a rollback-journal file is complete on its own, so the
        # rename below moves the whole database (the server turns WAL back on when it opens it).
        dest.execute("PRAGMA journal_mode=DELETE")
        if dest.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException("the copy failed its integrity check")
        return dest.execute("PRAGMA page_count").fetchone()[0]


def _pg_dump() -> str:
    """PostgreSQL's pg_dump: on PATH, or where Debian keeps each version's programs."""
    found = shutil.which("pg_dump")
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), key=lambda p: p.parent.parent.name)
    if found is None and versions:
        found = str(versions[-1])
    if found is None:
        raise click.ClickException(
            "pg_dump not found: install PostgreSQL's client programs (Debian: postgresql-client), "
            "or back up with `pg_dump --format=custom` yourself"
        )
    return found


def _dump_postgres(target: Path) -> str:
    """pg_dump's custom format (restore with pg_restore): one consistent snapshot taken while the
    servers write. The password goes in the environment, never on a command line."""
    url = db.engine.url
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    done = subprocess.run(
        [_pg_dump(), "--format=custom", f"--file={target}", f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise click.ClickException(f"pg_dump failed: {done.stderr.strip()}")
    return "pg_dump custom format; restore with pg_restore"


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_database(path: Path, force: bool) -> None:
    """Copy the database to PATH while the server runs (SQLite online backup; pg_dump's custom
    format on PostgreSQL)."""
    path = path.resolve()
    if engines.is_sqlite():
        source = _database_file()
        if path == source:
            raise click.ClickException("PATH is the live database itself")
    else:
        source = db.engine.url.render_as_string(hide_password=True)
    if (path.exists() or path.is_symlink()) and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    if not path.parent.is_dir():
        raise click.ClickException(f"no such directory: {path.parent}")
    # Written next to PATH and renamed only when complete: PATH is never a half-written copy.
    partial = path.with_name(f"{path.name}.tmp")
    partial.unlink(missing_ok=True)
    try:
        if engines.is_sqlite():
            made = f"{_copy_database(Path(source), partial)} pages"
        else:
            made = _dump_postgres(partial)
        _fsync(partial)
        os.replace(partial, path)
        _fsync(path.parent)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"backed up {source} to {path} ({made})")


def register(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(announcement_cli)
    app.cli.add_command(frontend_cli)
    app.cli.add_command(demo)
    app.cli.add_command(reset)
    # Flask-Migrate puts its `db` group on app.cli when Migrate(app) runs (before this): the
    # backup joins it as `flask db backup`.
    app.cli.commands["db"].add_command(backup_database)
