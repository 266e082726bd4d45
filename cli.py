"""`flask --app app user ...`: create and manage local accounts from the shell."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from auth import hash_password
from errors import ApiError
from models import Account
from models import db
from services.accounts import create_local_account

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


@user_cli.command("set-admin")
@click.argument("nickname")
@click.option("--off", is_flag=True, help="Take the admin flag away instead.")
def set_admin(nickname: str, off: bool) -> None:
    """Grant (or with --off revoke) administrator rights."""
    _local(nickname).is_admin = not off
    db.session.commit()
    click.echo("ok")


def register(app: Flask) -> None:
    app.cli.add_command(user_cli)
