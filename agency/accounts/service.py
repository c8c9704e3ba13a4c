"""Sign-in, token rotation and the principal a token stands for: the rules, no Flask.

Partner clients and API keys are ``agency.accounts.api_keys``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from agency.access import Kind, Principal, digest
from agency.accounts.models import AuthToken, Role, User
from agency.accounts.passwords import password_problems
from agency.db import read_beside, utcnow
from agency.directory.models import Agency
from agency.errors import Conflict, InvalidInput, Unauthenticated
from agency.ids import new_id
from agency.providers.models import Provider
from agency.unit_of_work import unit_of_work

_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so that a missing
# account and a wrong password take the same time (no account enumeration).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime
    token_id: str
    user: User


def hash_password(password: str, *, email: str | None = None, names: Iterable[str] = ()) -> str:
    """The argon2 hash of a new password, refused (422 on ``password``) if guessable."""
    problems = password_problems(password, email=email, names=names)
    if problems:
        raise InvalidInput(errors={"password": problems})
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    agency_id: str | None = None,
    council_id: str | None = None,
    names: Iterable[str] = (),
    screen: bool = True,
) -> User:
    """A user with an argon2 password, screened (``passwords``) unless ``screen`` is False.

    Only the demo seed turns screening off: its passwords are documented on purpose.
    """
    email = email.strip().lower()
    if role is Role.MANAGER and not agency_id:
        raise InvalidInput(errors={"agency_id": ["A manager belongs to one agency."]})
    if role is Role.AUDITOR and not council_id:
        raise InvalidInput(errors={"council_id": ["An auditor belongs to one council."]})
    if session.scalar(select(User.id).where(User.email == email)):
        raise _email_taken()
    user = User(
        id=new_id("usr"),
        email=email,
        password_hash=(
            hash_password(password, email=email, names=names) if screen else _hasher.hash(password)
        ),
        role=role,
        agency_id=agency_id if role is Role.MANAGER else None,
        council_id=council_id if role is Role.AUDITOR else None,
    )
    with unit_of_work(session, integrity_error=_email_taken) as uow:
        session.add(user)
        uow.commit()
    return user


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists.", code="email_taken")


def sign_in(
    session: Session, email: str, password: str, *, access_minutes: int, refresh_days: int
) -> TokenPair:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("Wrong email or password.") from None
    if user is None or not user.active:
        raise Unauthenticated("Wrong email or password.")
    with unit_of_work(session) as uow:
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = utcnow()
        pair = _issue(session, user, access_minutes, refresh_days)
        uow.commit()
    return pair


def refresh(
    session: Session, refresh_token: str, *, access_minutes: int, refresh_days: int
) -> TokenPair:
    """Swap a refresh token for a new pair; the old pair stops working (rotation)."""
    token = session.scalar(
        select(AuthToken).where(AuthToken.refresh_digest == digest(refresh_token)).with_for_update()
    )
    now = utcnow()
    refused = Unauthenticated("The refresh token is invalid, expired or already used.")
    if token is None:
        raise refused
    if token.revoked_at:
        # A rotated refresh token came back: one of its two holders is not the user (RFC 9700
        # 4.14.2). Revoke the whole family, so the pair the thief (or the user) got dies too.
        with unit_of_work(session) as uow:
            session.execute(
                update(AuthToken)
                .where(AuthToken.family_id == token.family_id, AuthToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            uow.commit()
        raise refused
    if token.refresh_expires_at <= now or not token.user.active:
        raise refused
    with unit_of_work(session) as uow:
        token.revoked_at = now
        pair = _issue(session, token.user, access_minutes, refresh_days, family_id=token.family_id)
        uow.commit()
    return pair


def revoke_token(session: Session, principal: Principal) -> None:
    if principal.token_id:
        with unit_of_work(session) as uow:
            session.execute(
                update(AuthToken)
                .where(AuthToken.id == principal.token_id, AuthToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            uow.commit()


def _issue(
    session: Session,
    user: User,
    access_minutes: int,
    refresh_days: int,
    *,
    family_id: str | None = None,
) -> TokenPair:
    access = "iat_" + secrets.token_urlsafe(32)
    refresh_secret = "irt_" + secrets.token_urlsafe(32)
    now = utcnow()
    token_id = new_id("tok")
    token = AuthToken(
        id=token_id,
        family_id=family_id or token_id,
        user_id=user.id,
        access_digest=digest(access),
        refresh_digest=digest(refresh_secret),
        access_expires_at=now + dt.timedelta(minutes=access_minutes),
        refresh_expires_at=now + dt.timedelta(days=refresh_days),
    )
    session.add(token)
    return TokenPair(
        access, refresh_secret, token.access_expires_at, token.refresh_expires_at, token.id, user
    )


def describe(session: Session, principal: Principal) -> dict[str, str | None]:
    """``/auth/me``: the principal, with a manager's council (the one their agency is in)."""
    council_id = principal.council_id
    if principal.kind is Kind.MANAGER and principal.agency_id:
        council_id = session.scalar(
            select(Agency.council_id).where(Agency.id == principal.agency_id)
        )
    return {
        "kind": principal.kind.value,
        "id": principal.id,
        "agency_id": principal.agency_id,
        "council_id": council_id,
        "provider_id": principal.provider_id,
    }


@cache
def _token_principal() -> Select[Any]:
    """The access token's principal query, built once (it runs on every signed-in request)."""
    return (
        select(
            AuthToken.id,
            AuthToken.revoked_at,
            AuthToken.access_expires_at,
            User.id,
            User.role,
            User.agency_id,
            User.council_id,
            User.active,
            Provider.id,
        )
        .join(User, User.id == AuthToken.user_id)
        .outerjoin(Provider, Provider.user_id == User.id)
        .where(AuthToken.access_digest == bindparam("digest"))
    )


_TOKEN_COLUMNS = 9  # the columns of _token_principal()


def principal_for_access_token(connection: Connection, access_token: str) -> Principal:
    """The token's principal in one narrow query (token, user and a provider's id), no ORM.

    Revocation and expiry are read here on every call (the web's reads may reuse its
    answer for a second: :mod:`agency.accounts.credential_cache`).
    """
    return principal_and_read_for_access_token(connection, access_token)[0]


def principal_and_read_for_access_token(
    connection: Connection,
    access_token: str,
    read: Select[Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> tuple[Principal, tuple[Any, ...] | None, dt.datetime]:
    """:func:`principal_for_access_token`, ``read``'s row from the same statement, and
    when the token expires.

    ``read`` (built once, at most one row, with its own bind ``parameters``) is what the
    request's view reads on every call: it rides along in the token's round trip and
    snapshot. Its row has None in every column when it found nothing; it is read before
    anything is authorised, so the caller must authorise what it holds.
    """
    digested = {"digest": digest(access_token)}
    if read is None:
        statement, values = _token_principal(), digested
    else:
        statement, values = (
            read_beside(_token_principal(), read),
            {**(parameters or {}), **digested},
        )
    # Core on a connection: no ORM execution layer (or session) for a plain row.
    row = connection.execute(statement, values).first()
    if row is None or row[1] is not None or row[2] <= utcnow():
        raise Unauthenticated("The access token is invalid, expired or revoked.")
    token_id, _, _, user_id, role, agency_id, council_id, active, provider_id = row[:_TOKEN_COLUMNS]
    if not active:
        raise Unauthenticated("This account is disabled.")
    principal = Principal(
        kind=Kind(role.value),
        id=user_id,
        agency_id=agency_id,
        council_id=council_id,
        provider_id=provider_id if role is Role.PROVIDER else None,
        token_id=token_id,
    )
    return principal, (row[_TOKEN_COLUMNS:] if read is not None else None), row[2]


def principal_for_user(session: Session, user: User, token_id: str | None = None) -> Principal:
    provider_id = None
    if user.role is Role.PROVIDER:
        provider_id = session.scalar(select(Provider.id).where(Provider.user_id == user.id))
    return Principal(
        kind=Kind(user.role.value),
        id=user.id,
        agency_id=user.agency_id,
        council_id=user.council_id,
        provider_id=provider_id,
        token_id=token_id,
    )
