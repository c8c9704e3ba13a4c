"""Checking who may see a seeker reads two columns of their requests, never the requests."""

from sqlalchemy import event

from agency.seekers.models import CareRequest, CareSeeker
from tests.factories import make_agency, make_care_request, make_partner, make_seeker


def test_a_seekers_scope_loads_none_of_their_earlier_requests(app, session):
    agency = make_agency(session)
    other = make_agency(session)
    partner, _ = make_partner(session)
    seeker = make_seeker(session, partner.id)
    for _ in range(5):
        make_care_request(session, seeker, agency)
    make_care_request(session, seeker, other)
    fresh = app.extensions["agency"].sessionmaker()
    loaded = []

    def count(target, context):
        loaded.append(target.id)

    event.listen(CareRequest, "load", count)
    try:
        scope = fresh.get(CareSeeker, seeker.id).access_scope()
    finally:
        event.remove(CareRequest, "load", count)
        fresh.close()
    assert scope.agency_ids == {agency.id, other.id}
    assert scope.council_ids == {agency.council_id, other.council_id}
    assert scope.partner_client_id == partner.id
    assert loaded == []
