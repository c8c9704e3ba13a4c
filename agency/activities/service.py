"""Publishing activities, suggesting them to a seeker, referrals and attendance.

Managers publish activities for their agency and refer seekers their agency knows; auditors
read their council's activities; the seeker's partner asks for suggestions. Suggestions and
referrals need the seeker's current consent to ``community`` (409 without). Stated interests
are passed with the question and not stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from agency.access import Action, Kind, Principal, load, visible_to
from agency.activities.models import Activity, ActivityAttendance, ActivityReferral
from agency.activities.suggest import ActivityOffer, suggest
from agency.directory import places
from agency.directory.models import Agency
from agency.errors import Conflict, InvalidInput, ReadOnly
from agency.ids import new_id
from agency.introductions.models import Arrangement, ArrangementStatus
from agency.schedule import windows_to_mask
from agency.seekers.exceptions import ManagerOnly
from agency.seekers.lifecycle import LIVE_STATUSES
from agency.seekers.models import CareRequest, CareSeeker
from agency.seekers.service import current_consent, require_not_erased
from agency.unit_of_work import unit_of_work

PURPOSE = "community"


class CommunityConsentRequired(Conflict):
    code = "consent_required"
    message = "The care seeker has not consented to community activity suggestions."


class ActivityFull(Conflict):
    code = "activity_full"
    message = "This activity has no places left."


class AlreadyReferred(Conflict):
    code = "already_referred"
    message = "This care seeker is already referred to this activity."


class AttendanceRecorded(Conflict):
    code = "attendance_recorded"
    message = "Attendance for this session is already recorded."


def _manager(principal: Principal) -> None:
    if principal.kind is Kind.AUDITOR:
        raise ReadOnly()
    if principal.kind is not Kind.MANAGER:
        raise ManagerOnly("Only an agency's managers may do this.")


def _require_consent(seeker: CareSeeker) -> None:
    require_not_erased(seeker)
    consent = current_consent(seeker)
    if consent is None or PURPOSE not in consent.purposes:
        raise CommunityConsentRequired()


def publish_activity(session: Session, principal: Principal, fields: dict[str, Any]) -> Activity:
    """Publish an activity for the manager's agency (place kept at outcode level)."""
    _manager(principal)
    outcode, _sector, lat, lon = places.parse(fields["outcode"], "outcode")
    windows_to_mask(fields["schedule"], "schedule")  # 422 on windows that are not valid
    agency = session.get(Agency, principal.agency_id)
    assert agency is not None
    activity = Activity(
        id=new_id("act"),
        agency_id=agency.id,
        council_id=agency.council_id,
        name=fields["name"],
        organiser=fields["organiser"],
        outcode=outcode,
        venue=fields.get("venue"),
        lat=lat,
        lon=lon,
        schedule=fields["schedule"],
        accessibility_notes=fields.get("accessibility_notes"),
        cost_pence=fields["cost_pence"],
        capacity=fields["capacity"],
        interests=sorted(set(fields["interests"])),
    )
    with unit_of_work(session) as uow:
        session.add(activity)
        uow.commit()
    return activity


def activities_for(principal: Principal) -> Select[Any]:
    """Activities the principal may see (own agency, council, or all), by name."""
    return (
        select(Activity).where(visible_to(Activity, principal)).order_by(Activity.name, Activity.id)
    )


def get_activity(session: Session, principal: Principal, activity_id: str) -> Activity:
    return load(session, principal, Activity, activity_id, Action.READ)


def _places_left(session: Session, activity_ids: list[str]) -> dict[str, int]:
    taken = dict(
        session.execute(
            select(ActivityReferral.activity_id, func.count())
            .where(ActivityReferral.activity_id.in_(activity_ids))
            .group_by(ActivityReferral.activity_id)
        ).all()
    )
    return {a: int(taken.get(a, 0)) for a in activity_ids}


def _care_windows(session: Session, seeker_id: str) -> list[dict[str, Any]]:
    windows: list[dict[str, Any]] = []
    for arrangement in session.scalars(
        select(Arrangement).where(
            Arrangement.seeker_id == seeker_id,
            Arrangement.status.in_((ArrangementStatus.ACTIVE, ArrangementStatus.PAUSED)),
        )
    ):
        windows += list(arrangement.terms.schedule)
    for request_windows in session.scalars(
        select(CareRequest.windows).where(
            CareRequest.seeker_id == seeker_id, CareRequest.status.in_(LIVE_STATUSES)
        )
    ):
        windows += list(request_windows)
    return windows


def suggestions_for(
    session: Session,
    principal: Principal,
    seeker_id: str,
    *,
    interests: list[str],
    max_km: float,
) -> list[dict[str, Any]]:
    """Activities of the seeker's agencies that suit them, each with its explanation."""
    seeker = load(session, principal, CareSeeker, seeker_id, Action.READ)
    _require_consent(seeker)
    agencies = seeker.access_scope().agency_ids
    activities = list(session.scalars(select(Activity).where(Activity.agency_id.in_(agencies))))
    taken = _places_left(session, [a.id for a in activities])
    _outcode, _sector, lat, lon = places.parse(seeker.outcode or "", "outcode")
    offers = [
        ActivityOffer(
            id=a.id,
            name=a.name,
            lat=a.lat,
            lon=a.lon,
            schedule=a.schedule,
            interests=a.interests,
            cost_pence=a.cost_pence,
            places_left=a.capacity - taken[a.id],
        )
        for a in activities
    ]
    return suggest(
        offers,
        lat=lat,
        lon=lon,
        interests=interests,
        care_windows=_care_windows(session, seeker.id),
        max_km=max_km,
    )


def refer(
    session: Session, principal: Principal, activity_id: str, seeker_id: str
) -> ActivityReferral:
    """A manager refers a seeker their agency knows to one of the agency's activities."""
    activity = load(session, principal, Activity, activity_id, Action.READ)
    _manager(principal)
    seeker = load(session, principal, CareSeeker, seeker_id, Action.READ)
    _require_consent(seeker)
    if _places_left(session, [activity.id])[activity.id] >= activity.capacity:
        raise ActivityFull()
    referral = ActivityReferral(
        id=new_id("arf"),
        activity_id=activity.id,
        seeker_id=seeker.id,
        agency_id=activity.agency_id,
        council_id=activity.council_id,
        partner_client_id=seeker.partner_client_id,
        referred_by=principal.id,
    )
    with unit_of_work(session, integrity_error=AlreadyReferred) as uow:
        session.add(referral)
        uow.commit()
    return referral


def record_attendance(
    session: Session,
    principal: Principal,
    referral_id: str,
    *,
    session_date: dt.date,
    attended: bool,
) -> ActivityAttendance:
    """Yes or no for one session of the activity (on a day it runs, not in the future)."""
    referral = load(session, principal, ActivityReferral, referral_id, Action.READ)
    _manager(principal)
    activity = session.get(Activity, referral.activity_id)
    assert activity is not None
    if session_date.weekday() not in {int(w["weekday"]) for w in activity.schedule}:  # type: ignore[call-overload]
        raise InvalidInput(errors={"session_date": ["The activity does not run on that day."]})
    attendance = ActivityAttendance(
        id=new_id("att"),
        referral_id=referral.id,
        session_date=session_date,
        attended=attended,
        recorded_by=principal.id,
    )
    with unit_of_work(session, integrity_error=AttendanceRecorded) as uow:
        session.add(attendance)
        uow.commit()
    return attendance


def delete_for_seeker(session: Session, seeker_id: str) -> None:
    """Erasure: the seeker's referrals and attendance go (places free up)."""
    referrals = select(ActivityReferral.id).where(ActivityReferral.seeker_id == seeker_id)
    session.execute(delete(ActivityAttendance).where(ActivityAttendance.referral_id.in_(referrals)))
    session.execute(delete(ActivityReferral).where(ActivityReferral.seeker_id == seeker_id))
