"""The Bristol demo: three community anchor organisations, their neighbourhoods and people.

Demo passwords are fixed and documented in the README so a newcomer can sign in
at once; they exist only in data this command creates on a local database.
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

import matching
from agency.accounts import api_keys
from agency.accounts import service as accounts
from agency.accounts.models import Role
from agency.directory import service as directory
from agency.directory.models import (
    Agency,
    Locality,
    Neighbourhood,
    NeighbourhoodOutcode,
    Sector,
    SupplierSize,
)
from agency.directory.places import locate
from agency.ids import new_id
from agency.unit_of_work import unit_of_work

COUNCIL = ("Bristol City Council", "bristol")
# (name, slug as in matching/data/neighbourhoods.json, short name for demo emails, base outcode)
AGENCIES = [
    ("Southmead Development Trust", "southmead-development-trust", "southmead", "BS10"),
    ("Wellspring Settlement", "wellspring-settlement", "wellspring", "BS5"),
    ("BS3 Community", "bs3-community", "bs3-community", "BS3"),
]
DEMO_PASSWORD = "demo-password-{slug}"  # noqa: S105 - documented demo credentials
PROVIDERS_PER_AGENCY = 80
SEEKERS = 300


def seed(session: Session, *, only_if_empty: bool = False, population: bool = True) -> str | None:
    """Create the demo and return what to print (None if skipped).

    Accounts, agencies and neighbourhoods commit in one transaction, the population
    in a second; then every routed care request gets a match job (inline without Redis).
    """
    if only_if_empty and session.scalar(select(Agency.id).limit(1)):
        return None
    with unit_of_work(session) as uow:
        council = directory.create_council(session, name=COUNCIL[0], slug=COUNCIL[1])
        council.area_key = "bristol"
        lines = ["Bristol demo loaded.", "", "Users (sign in with POST /auth/token):"]
        agencies: dict[str, tuple[Agency, list[str]]] = {}
        for name, slug, short, base in AGENCIES:
            agency = directory.create_agency(session, council_id=council.id, name=name, slug=slug)
            agency.base_outcode, agency.locality = base, Locality.COUNCIL_AREA
            agency.size, agency.sector = SupplierSize.SMALL, Sector.VCSE
            agencies[slug] = (agency, [])
            email, password = f"manager@{short}.example", DEMO_PASSWORD.format(slug=short)
            accounts.create_user(
                session,
                email=email,
                password=password,
                role=Role.MANAGER,
                agency_id=agency.id,
                screen=False,  # documented demo credentials (README), never a real account
            )
            lines.append(f"  manager of {name}: {email} / {password}")
        session.flush()
        for hood in matching.neighbourhoods():
            agency = agencies[hood.anchor][0] if hood.anchor in agencies else None
            row = Neighbourhood(
                id=new_id("nbh"),
                council_id=council.id,
                agency_id=agency.id if agency else None,
                slug=hood.slug,
                name=hood.name,
            )
            row.outcodes = [NeighbourhoodOutcode(outcode=o) for o in hood.outcodes]
            session.add(row)
            if agency is not None:
                agencies[hood.anchor][1].extend(
                    o for o in hood.outcodes if o not in agencies[hood.anchor][1]
                )
        for short, role, extra in (
            ("auditor", Role.AUDITOR, {"council_id": council.id}),
            ("admin", Role.ADMIN, {}),
        ):
            email = "auditor@bristol.example" if role is Role.AUDITOR else "admin@agency.example"
            password = DEMO_PASSWORD.format(slug=short)
            accounts.create_user(
                session, email=email, password=password, role=role, screen=False, **extra
            )
            lines.append(f"  {role.value}: {email} / {password}")
        partner = api_keys.create_partner_client(session, "Bristol Care Finder (demo)")
        session.flush()
        issued = api_keys.issue_api_key(session, partner.id, "demo")
        uow.commit()

    if population:
        from agency.demo_population import DEMO_PROVIDER_PASSWORD, add_providers, add_seekers
        from agency.introductions.match_jobs import enqueue_rematch_for_agencies

        rng = random.Random(20261126)  # noqa: S311 - demo data, not security
        with unit_of_work(session) as uow:
            providers = add_providers(session, rng, agencies, PROVIDERS_PER_AGENCY)
            requests = add_seekers(
                session, rng, partner, agencies, SEEKERS, lambda o: locate(session, o)
            )
            uow.commit()
        routed = [r for r in requests if r.agency_id]
        # One re-match job per agency (it reuses the provider pool across requests).
        with unit_of_work(session) as uow:
            enqueue_rematch_for_agencies(session, [agency.id for agency, _ in agencies.values()])
            uow.commit()  # the jobs run now (inline) or go to the RQ queue
        lines += [
            "",
            f"Population: {providers} providers (sign in as provider1@demo.example ... "
            f"provider{providers}@demo.example / {DEMO_PROVIDER_PASSWORD}),",
            f"  {len(requests)} care seekers with a care request each; {len(routed)} routed to an "
            f"agency and matched, {len(requests) - len(routed)} outside every agency's area.",
        ]
        from agency.demo_history import add_history

        lines += add_history(session)
        from agency.demo_outcomes import add_outcomes

        lines += add_outcomes(session)
    lines += ["", "Partner client API key (shown once; send as X-API-Key):", f"  {issued.secret}"]
    return "\n".join(lines)
