"""make_<thing>(session, **overrides): small factories with sensible defaults (CTFd style)."""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from agency.accounts import service as accounts
from agency.accounts.models import PartnerClient, Role, User
from agency.auth import Principal
from agency.directory.models import Agency, Council
from agency.ids import new_id

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hashing once keeps factories fast; sign-in tests still verify real argon2 hashes.
    return PasswordHasher().hash(PASSWORD)


def make_council(session: Session, **overrides: Any) -> Council:
    n = next(_counter)
    council = Council(id=new_id("cnc"), name=f"Council {n}", slug=f"council-{n}")
    for key, value in overrides.items():
        setattr(council, key, value)
    session.add(council)
    session.commit()
    return council


def make_agency(session: Session, council: Council | None = None, **overrides: Any) -> Agency:
    council = council or make_council(session)
    n = next(_counter)
    agency = Agency(id=new_id("agy"), council_id=council.id, name=f"Agency {n}", slug=f"agency-{n}")
    for key, value in overrides.items():
        setattr(agency, key, value)
    session.add(agency)
    session.commit()
    return agency


def make_user(session: Session, role: Role = Role.MANAGER, **overrides: Any) -> User:
    n = next(_counter)
    user = User(
        id=new_id("usr"), email=f"user{n}@example.test", password_hash=_password_hash(), role=role
    )
    for key, value in overrides.items():
        setattr(user, key, value)
    session.add(user)
    session.commit()
    return user


def make_manager(session: Session, agency: Agency | None = None) -> User:
    agency = agency or make_agency(session)
    return make_user(session, Role.MANAGER, agency_id=agency.id)


def make_auditor(session: Session, council: Council | None = None) -> User:
    council = council or make_council(session)
    return make_user(session, Role.AUDITOR, council_id=council.id)


def make_admin(session: Session) -> User:
    return make_user(session, Role.ADMIN)


def make_partner(session: Session, **overrides: Any) -> tuple[PartnerClient, str]:
    """A partner client and the secret of its API key."""
    client = accounts.create_partner_client(session, overrides.pop("name", "Test partner"))
    issued = accounts.issue_api_key(session, client.id, "test")
    return client, issued.secret


def bearer(session: Session, user: User) -> dict[str, str]:
    """Headers of a signed-in user (a real token, issued without the slow password check)."""
    pair = accounts._issue(session, user, access_minutes=15, refresh_days=1)
    session.commit()
    return {"Authorization": f"Bearer {pair.access_token}"}


def api_key(secret: str) -> dict[str, str]:
    return {"X-API-Key": secret}


def principal_of(session: Session, user: User) -> Principal:
    return accounts.principal_for_user(session, user)
