"""Councils and agencies."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.directory.models import Agency, Council
from agency.errors import Conflict, NotFound
from agency.ids import new_id


def create_council(session: Session, *, name: str, slug: str, commit: bool = True) -> Council:
    if session.scalar(select(Council.id).where(Council.slug == slug)):
        raise Conflict(f"A council with slug {slug} exists.", code="slug_taken")
    council = Council(id=new_id("cnc"), name=name, slug=slug)
    session.add(council)
    if commit:
        session.commit()
    return council


def create_agency(
    session: Session, *, council_id: str, name: str, slug: str, commit: bool = True
) -> Agency:
    if session.get(Council, council_id) is None:
        raise NotFound(f"No council with id {council_id}.")
    if session.scalar(select(Agency.id).where(Agency.slug == slug)):
        raise Conflict(f"An agency with slug {slug} exists.", code="slug_taken")
    agency = Agency(id=new_id("agy"), council_id=council_id, name=name, slug=slug)
    session.add(agency)
    if commit:
        session.commit()
    return agency
