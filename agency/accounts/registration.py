"""Self-registration that does not reveal which addresses have accounts.

Asking to register answers the same (202, same body) for a new address, a taken
one, a manager's or an admin's: the work done is the same too (the password is
screened and hashed either way). What differs goes only to the mailbox itself:
a new address gets a one-time confirmation token (valid ``CONFIRM_HOURS``), a taken
one a note that it already has an account. The account is created when the token
comes back, so only whoever reads that mailbox learns anything, and finishes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agency.access import digest
from agency.accounts.models import PendingRegistration, Role, User
from agency.accounts.service import hash_password
from agency.db import after_commit, utcnow
from agency.errors import NotFound
from agency.ids import new_id
from agency.mail import Mailer
from agency.unit_of_work import unit_of_work

CONFIRM_HOURS = 24
SERVICE_NAME = "the introductory agency"


def _confirmation(token: str, expires_at: dt.datetime) -> tuple[str, str]:
    return (
        "Confirm your registration",
        f"Someone (we hope you) asked to register this address with {SERVICE_NAME}.\n\n"
        "To finish, enter this confirmation code in the provider app (or send it as\n"
        '{"token": "..."} to POST /providers/register/confirm):\n\n'
        f"    {token}\n\n"
        f"It works once, until {expires_at:%d %B %Y %H:%M} UTC. If this was not you,\n"
        "ignore this message: no account is created without the code.\n",
    )


def _already_registered() -> tuple[str, str]:
    return (
        "You already have an account",
        f"Someone (we hope you) asked to register this address with {SERVICE_NAME},\n"
        "but it already has an account. Sign in with it instead; if you have forgotten\n"
        "the password, ask your agency to reset it. If this was not you, ignore this\n"
        "message: nothing has changed.\n",
    )


def request_registration(
    session: Session,
    mailer: Mailer,
    *,
    email: str,
    password: str,
    role: Role,
    payload: dict[str, Any],
    names: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> dt.datetime:
    """Record a pending registration and mail its token; returns when the token expires.

    Refuses (422) only what the caller typed (a guessable password), never on account of
    the address being taken.
    """
    now = now or utcnow()
    email = email.strip().lower()
    password_hash = hash_password(password, email=email, names=names)
    expires_at = now + dt.timedelta(hours=CONFIRM_HOURS)
    with unit_of_work(session) as uow:
        session.execute(delete(PendingRegistration).where(PendingRegistration.expires_at <= now))
        if session.scalar(select(User.id).where(User.email == email)):
            subject, body = _already_registered()
        else:
            token = "irg_" + secrets.token_urlsafe(32)
            session.add(
                PendingRegistration(
                    id=new_id("reg"),
                    email=email,
                    role=role,
                    password_hash=password_hash,
                    payload=payload,
                    token_digest=digest(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            subject, body = _confirmation(token, expires_at)
        after_commit(session, _sender(mailer, email, subject, body))
        uow.commit()
    return expires_at


def _sender(mailer: Mailer, to: str, subject: str, body: str) -> Callable[[], None]:
    return lambda: mailer.send(to, subject, body)


def take_pending(
    session: Session, token: str, *, now: dt.datetime | None = None
) -> PendingRegistration:
    """The pending registration of ``token``, removed (in the caller's transaction)."""
    pending = session.scalar(
        select(PendingRegistration)
        .where(PendingRegistration.token_digest == digest(token))
        .with_for_update()
    )
    if pending is None or pending.expires_at <= (now or utcnow()):
        raise NotFound("This confirmation code is unknown, used or expired; register again.")
    session.delete(pending)
    return pending
