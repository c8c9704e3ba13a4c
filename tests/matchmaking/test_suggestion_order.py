"""Suggestions are listed best first, whatever order their rows were written in."""

import datetime as dt

from agency.ids import new_id
from agency.introductions.models import Suggestion, SuggestionStatus
from tests.factories import (
    bearer,
    make_agency,
    make_care_request,
    make_manager,
    make_partner,
    make_provider,
    make_seeker,
)


def test_suggestions_come_back_best_first_with_superseded_ones_after(client, session):
    agency = make_agency(session)
    partner, _ = make_partner(session)
    care_request = make_care_request(session, make_seeker(session, partner.id), agency)
    providers = [make_provider(session, agency) for _ in range(4)]
    written = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    # One run writes rank 1 first; each later row is a few microseconds newer.
    rows = [(1, 0.91, SuggestionStatus.ACTIVE), (2, 0.84, SuggestionStatus.ACTIVE),
            (3, 0.62, SuggestionStatus.ACTIVE), (1, 0.95, SuggestionStatus.SUPERSEDED)]  # fmt: skip
    for i, ((rank, score, status), provider) in enumerate(zip(rows, providers, strict=True)):
        session.add(
            Suggestion(
                id=new_id("sug"),
                care_request_id=care_request.id,
                provider_id=provider.id,
                agency_id=agency.id,
                council_id=agency.council_id,
                partner_client_id=partner.id,
                rank=rank,
                score=score,
                explanation={},
                status=status,
                created_at=written + dt.timedelta(microseconds=7 * i),
            )
        )
    session.commit()
    headers = bearer(session, make_manager(session, agency))

    active = client.get(f"/care-requests/{care_request.id}/suggestions", headers=headers)
    assert active.status_code == 200
    assert [(s["rank"], s["score"]) for s in active.get_json()] == [(1, 0.91), (2, 0.84), (3, 0.62)]

    everything = client.get(
        f"/care-requests/{care_request.id}/suggestions?status=all", headers=headers
    )
    assert [(s["rank"], s["status"]) for s in everything.get_json()] == [
        (1, "active"),
        (2, "active"),
        (3, "active"),
        (1, "superseded"),
    ]
