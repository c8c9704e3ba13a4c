"""The Bristol demo: three community anchor organisations and the people to try the API with.

Demo passwords are fixed and documented in the README so a newcomer can sign in
at once; they exist only in data this command creates on a local database.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.accounts import service as accounts
from agency.accounts.models import Role
from agency.directory import service as directory
from agency.directory.models import Agency

COUNCIL = ("Bristol City Council", "bristol")
AGENCIES = [
    ("Southmead Development Trust", "southmead"),
    ("Wellspring Settlement", "wellspring"),
    ("BS3 Community", "bs3-community"),
]
DEMO_PASSWORD = "demo-password-{slug}"  # noqa: S105 - documented demo credentials


def seed(session: Session, *, only_if_empty: bool = False) -> str | None:
    """Create the demo in one transaction and return what to print (None if skipped)."""
    if only_if_empty and session.scalar(select(Agency.id).limit(1)):
        return None
    council = directory.create_council(session, name=COUNCIL[0], slug=COUNCIL[1], commit=False)
    lines = ["Bristol demo loaded.", "", "Users (sign in with POST /auth/token):"]
    for name, slug in AGENCIES:
        agency = directory.create_agency(
            session, council_id=council.id, name=name, slug=slug, commit=False
        )
        email = f"manager@{slug}.example"
        accounts.create_user(
            session,
            email=email,
            password=DEMO_PASSWORD.format(slug=slug),
            role=Role.MANAGER,
            agency_id=agency.id,
            commit=False,
        )
        lines.append(f"  manager of {name}: {email} / {DEMO_PASSWORD.format(slug=slug)}")
    accounts.create_user(
        session,
        email="auditor@bristol.example",
        password=DEMO_PASSWORD.format(slug="auditor"),
        role=Role.AUDITOR,
        council_id=council.id,
        commit=False,
    )
    lines.append(
        f"  auditor, {COUNCIL[0]}: auditor@bristol.example / {DEMO_PASSWORD.format(slug='auditor')}"
    )
    accounts.create_user(
        session,
        email="admin@agency.example",
        password=DEMO_PASSWORD.format(slug="admin"),
        role=Role.ADMIN,
        commit=False,
    )
    lines.append(f"  admin: admin@agency.example / {DEMO_PASSWORD.format(slug='admin')}")
    partner = accounts.create_partner_client(session, "Bristol Care Finder (demo)", commit=False)
    session.flush()
    issued = accounts.issue_api_key(session, partner.id, "demo", commit=False)
    session.commit()
    lines += ["", "Partner client API key (shown once; send as X-API-Key):", f"  {issued.secret}"]
    return "\n".join(lines)
