"""Account security: second factors (TOTP, backup codes, the MFA login ticket), passwords,
sessions and tokens, and disabling or deleting an account (SPEC 11, 12, 19)."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pyotp
from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import aliased

from models import Account
from models import App
from models import AuthorizationCode
from models import Backup
from models import Favourite
from models import Follow
from models import Media
from models import MfaSettings
from models import MfaToken
from models import Participation
from models import Status
from models import Token
from models import db
from models import utcnow
from services import events
from services.backups import backups_dir
from services.media import remove_file
from services.passwords import hash_password
from services.passwords import secret_digest
from services.passwords import verify_hash
from services.sessions import keep_current_session
from services.sessions import revoke
from streaming import events as stream_events

BACKUP_CODE_COUNT = 5
MFA_TOKEN_LIFETIME = timedelta(minutes=15)
# A ticket dies after this many wrong codes: six digits must not be guessable in 15 minutes.
MFA_TOKEN_ATTEMPTS = 5
NOTIFICATION_SETTINGS = ("block_from_strangers", "hide_notification_contents")
# Backup codes are random (40 bits) rather than chosen by people, and a login may check all five:
# a lighter argon2 profile than passwords keeps that quick. verify_hash reads the profile from
# each hash, so checking needs nothing special.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


# ---------------------------------------------------------------------------------------------
# Second factors


def mfa_state(account: Account) -> dict[str, bool]:
    """`enabled`: some method is active; `totp`: TOTP specifically (TOTP is the only one)."""
    settings = db.session.get(MfaSettings, account.id)
    enabled = settings is not None and settings.is_enabled
    return {"enabled": enabled, "totp": enabled}


def _settings(account: Account) -> MfaSettings:
    settings = db.session.get(MfaSettings, account.id)
    if settings is None:
        settings = MfaSettings(account_id=account.id, backup_code_hashes=[])
        db.session.add(settings)
    return settings


def setup_totp(account: Account) -> tuple[str, str]:
    """A new secret and its otpauth:// URI; it replaces the active one only once confirmed."""
    secret = pyotp.random_base32()
    _settings(account).pending_totp_secret = secret
    db.session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=account.email or account.nickname, issuer_name=current_app.config["INSTANCE_NAME"]
    )
    return secret, uri


def confirm_totp(account: Account, code: str) -> bool:
    """Activate the pending secret if `code` comes from it."""
    settings = db.session.get(MfaSettings, account.id)
    if settings is None or not settings.pending_totp_secret:
        return False
    step = _totp_step(settings.pending_totp_secret, code, last_step=0)
    if step is None:
        return False
    settings.totp_secret = settings.pending_totp_secret
    settings.pending_totp_secret = None
    settings.is_totp_confirmed = True
    settings.last_totp_step = step
    db.session.commit()
    return True


def disable_totp(account: Account) -> None:
    """Remove TOTP; MFA is off with it (backup codes stay for a later setup)."""
    settings = db.session.get(MfaSettings, account.id)
    if settings is not None:
        settings.totp_secret = None
        settings.pending_totp_secret = None
        settings.is_totp_confirmed = False
        db.session.commit()


def disable_mfa(account: Account) -> None:
    """Force every second factor off, backup codes included."""
    db.session.execute(delete(MfaSettings).where(MfaSettings.account_id == account.id))
    db.session.commit()


def new_backup_codes(account: Account) -> list[str]:
    """Fresh single-use recovery codes, replacing the old ones; only their hashes are kept."""
    codes = [secrets.token_hex(5) for _ in range(BACKUP_CODE_COUNT)]
    _settings(account).backup_code_hashes = [_code_hasher.hash(code) for code in codes]
    db.session.commit()
    return codes


def check_second_factor(account: Account, challenge_type: str, code: str) -> bool:
    """Does `code` pass as a TOTP code or a recovery code? Both are used up by passing."""
    settings = db.session.get(MfaSettings, account.id)
    code = "".join((code or "").split())
    if settings is None or not settings.is_enabled or not code:
        return False
    if challenge_type == "totp":
        step = _totp_step(settings.totp_secret or "", code, settings.last_totp_step)
        if step is None:
            return False
        settings.last_totp_step = step
        return True
    if challenge_type == "recovery":
        for hashed in settings.backup_code_hashes or []:
            if verify_hash(hashed, code):
                settings.backup_code_hashes = [h for h in settings.backup_code_hashes if h != hashed]
                return True
    return False


def _totp_step(secret: str, code: str, last_step: int) -> int | None:
    """The time step (now ±1, RFC 6238) whose code is `code`, if later than the last used one:
    a code that already let someone in is never accepted again (RFC 6238 section 5.2)."""
    code = "".join((code or "").split())
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now - 1, now, now + 1):
        if step > last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# ---------------------------------------------------------------------------------------------
# The MFA ticket: issued when the password was right, redeemed with the second factor


def new_mfa_token(account: Account, client: App, scope: str) -> str:
    """A short-lived, single-use ticket naming the account, the app and the granted scope."""
    db.session.execute(delete(MfaToken).where(MfaToken.expires_at < utcnow()))
    token = secrets.token_urlsafe(32)
    db.session.add(
        MfaToken(
            token_hash=secret_digest(token),
            account_id=account.id,
            app_id=client.id,
            scope=scope,
            expires_at=utcnow() + MFA_TOKEN_LIFETIME,
        )
    )
    db.session.commit()
    return token


def ticket_account_id(token: str) -> str | None:
    """The account a live MFA ticket names (who a second-factor guess is aimed at), or None."""
    return db.session.scalar(
        select(MfaToken.account_id).where(
            MfaToken.token_hash == secret_digest(token or ""), MfaToken.expires_at >= utcnow()
        )
    )


class MfaLogin(NamedTuple):
    """What a redeemed ticket lets through: who logs in, into which app, with which scope."""

    account: Account
    app: App
    scope: str


def redeem_mfa_token(token: str, client_id: str, challenge_type: str, code: str) -> MfaLogin | None:
    """The login, if the ticket is live, belongs to the app and `code` passes; it is spent then.

    Wrong codes count against the ticket, which dies after MFA_TOKEN_ATTEMPTS of them."""
    ticket = db.session.get(MfaToken, secret_digest(token or ""))
    if ticket is None or ticket.expires_at < utcnow() or ticket.app.client_id != client_id:
        return None
    if not ticket.account.is_active:
        return None
    if not check_second_factor(ticket.account, challenge_type, code):
        ticket.failed_attempts += 1
        if ticket.failed_attempts >= MFA_TOKEN_ATTEMPTS:
            db.session.delete(ticket)
        db.session.commit()
        return None
    login = MfaLogin(ticket.account, ticket.app, ticket.scope)
    db.session.delete(ticket)
    db.session.commit()
    return login


# ---------------------------------------------------------------------------------------------
# Tokens and sessions


def active_tokens(account: Account) -> list[Token]:
    """The account's tokens that still work, newest first."""
    query = (
        select(Token)
        .where(
            Token.account_id == account.id,
            Token.access_token_revoked_at == 0,
            Token.issued_at + Token.expires_in > int(time.time()),
        )
        .order_by(Token.id.desc())
    )
    return list(db.session.scalars(query))


def revoke_own_token(account: Account, token_id: int) -> None:
    """Revoke one of the account's tokens; another account's or an unknown id is ignored."""
    token = db.session.get(Token, token_id)
    if token is not None and token.account_id == account.id:
        revoke(token)


def end_other_logins(account: Account, keep: Token | None) -> None:
    """Revoke every token of the account but `keep`, and end its browser sessions; pending
    authorization codes and MFA tickets go too, since they would turn into new tokens."""
    now = int(time.time())
    others = update(Token).where(Token.account_id == account.id, Token.access_token_revoked_at == 0)
    if keep is not None:
        others = others.where(Token.id != keep.id)
    db.session.execute(others.values(access_token_revoked_at=now, refresh_token_revoked_at=now))
    stream_events.access_changed(account.id)  # a bulk UPDATE: the ORM hook does not see it
    db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.account_id == account.id))
    db.session.execute(delete(MfaToken).where(MfaToken.account_id == account.id))
    account.session_epoch = (account.session_epoch or 0) + 1


# ---------------------------------------------------------------------------------------------
# Account management


def change_password(account: Account, new_password: str, keep: Token | None) -> None:
    account.password_hash = hash_password(new_password)
    end_other_logins(account, keep)
    db.session.commit()
    keep_current_session(account)


# Pleroma's e-mail pattern (User's @email_regex): what its change_email accepts.
EMAIL_RE = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)


def change_email(account: Account, email: str) -> str | None:
    """Set the account's e-mail ("" clears it: Kenoma does not require one). Returns the refusal
    in Pleroma's words (`Email <changeset error>.`), or None."""
    if email and not EMAIL_RE.fullmatch(email):
        return "Email has invalid format."
    if email:
        taken = select(Account.id).where(
            func.lower(Account.email) == email.lower(), Account.id != account.id, Account.domain.is_(None)
        )
        if db.session.scalar(taken) is not None:
            return "Email has already been taken."
    account.email = email or None
    db.session.commit()
    return None


def update_notification_settings(account: Account, changes: dict[str, bool]) -> None:
    """Set the given switches; the ones not given keep their value."""
    current = {key: False for key in NOTIFICATION_SETTINGS} | (account.notification_settings or {})
    account.notification_settings = current | {k: v for k, v in changes.items() if k in NOTIFICATION_SETTINGS}
    db.session.commit()


def disable_account(account: Account) -> None:
    """Deactivate: logins are refused and tokens stop working (auth checks `is_active`)."""
    account.is_active = False
    db.session.commit()


def delete_account(account: Account) -> None:
    """Remove everything the account made or took part in, keeping only a blank row so that its
    nickname and ap_id are never given out again (SPEC 11, 21.16)."""
    files = _stored_files(account)
    archives = _backup_archives(account)
    followers = db.session.scalars(select(Follow.follower_id).where(Follow.followee_id == account.id))
    events.emit(events.account_deleted, account_id=account.id, follower_ids=list(followers))
    _release_counters(account.id)
    _repoint_conversations(account.id)
    _delete_references(account.id)
    _blank(account)
    db.session.commit()
    for path in files:
        remove_file(path)
    for archive in archives:
        archive.unlink(missing_ok=True)


def _stored_files(account: Account) -> list[str]:
    uploads = db.session.scalars(select(Media.path).where(Media.account_id == account.id))
    images = [account.avatar, account.header, account.background]
    return list(dict.fromkeys([*uploads, *(path for path in images if path)]))


def _backup_archives(account: Account) -> list[Path]:
    names = db.session.scalars(select(Backup.file_name).where(Backup.account_id == account.id))
    return [backups_dir() / name for name in names]


def _release_counters(account_id: str) -> None:
    """Counters elsewhere that the account's reblogs, replies, favourites and follows held up.

    Others' reblogs of its statuses cascade away with them; reblogs are in nobody's
    statuses_count, so no other counter moves."""
    mine = aliased(Status)
    for column, counter in (
        (mine.reblog_of_id, Status.reblogs_count),
        (mine.in_reply_to_id, Status.replies_count),
    ):
        count = (
            select(func.count()).where(column == Status.id, mine.account_id == account_id).scalar_subquery()
        )
        targets = select(column).where(mine.account_id == account_id)
        db.session.execute(
            update(Status)
            .where(Status.id.in_(targets), Status.account_id != account_id)
            .values({counter.key: func.max(counter - count, 0)})
        )
    db.session.execute(
        update(Status)
        .where(Status.id.in_(select(Favourite.status_id).where(Favourite.account_id == account_id)))
        .values(favourites_count=func.max(Status.favourites_count - 1, 0))
    )
    accepted = Follow.is_pending.is_(False)
    followed = select(Follow.followee_id).where(Follow.follower_id == account_id, accepted)
    followers = select(Follow.follower_id).where(Follow.followee_id == account_id, accepted)
    db.session.execute(
        update(Account)
        .where(Account.id.in_(followed))
        .values(followers_count=func.max(Account.followers_count - 1, 0))
    )
    db.session.execute(
        update(Account)
        .where(Account.id.in_(followers))
        .values(following_count=func.max(Account.following_count - 1, 0))
    )


def _repoint_conversations(account_id: str) -> None:
    """Others' conversations whose latest status is the account's show the one before it, and
    disappear when nothing else is left in them."""
    own = select(Status.id).where(Status.account_id == account_id)
    affected = list(
        db.session.scalars(
            select(Participation.id).where(
                Participation.account_id != account_id, Participation.last_status_id.in_(own)
            )
        )
    )
    if not affected:
        return
    previous = (
        select(func.max(Status.id))
        .where(Status.context_id == Participation.context_id, Status.account_id != account_id)
        .where(Status.visibility == "direct")
        .scalar_subquery()
    )
    db.session.execute(
        update(Participation).where(Participation.id.in_(affected)).values(last_status_id=previous)
    )
    db.session.execute(
        delete(Participation).where(Participation.id.in_(affected), Participation.last_status_id.is_(None))
    )


def _delete_references(account_id: str) -> None:
    """Every row of every table that points at the account goes (SQLite's ON DELETE CASCADE
    takes what hangs off those rows); nullable SET NULL references are cleared instead.

    Walking the metadata covers tables added later without this function knowing them."""
    account_table = Account.__table__
    for table in reversed(db.metadata.sorted_tables):
        for fk in table.foreign_keys:
            if fk.column.table is not account_table:
                continue
            column = fk.parent
            if fk.ondelete == "SET NULL" or table is account_table:
                db.session.execute(update(table).where(column == account_id).values({column.name: None}))
            else:
                db.session.execute(delete(table).where(column == account_id))
    # Replies keep pointing at their deleted parents (SPEC 4) but no longer name the account.
    db.session.execute(
        update(Status).where(Status.in_reply_to_account_id == account_id).values(in_reply_to_account_id=None)
    )
    db.session.expire_all()


def _blank(account: Account) -> None:
    """What stays of a deleted account: its nickname and ap_id, nothing personal."""
    for column, value in {
        "email": None,
        "password_hash": None,
        "display_name": "",
        "note_source": "",
        "note_html": "",
        "fields": [],
        "avatar": None,
        "header": None,
        "background": None,
        "is_locked": False,
        "is_discoverable": False,
        "is_admin": False,
        "is_moderator": False,
        "is_active": False,
        "is_deleted": True,
        "also_known_as": [],
        "moved_to_id": None,
        "settings_store": {},
        "notification_settings": {},
        # The keys stay: the Delete that tells other servers is signed with them, after this.
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "last_status_at": None,
    }.items():
        setattr(account, column, value)
    account.session_epoch = (account.session_epoch or 0) + 1
