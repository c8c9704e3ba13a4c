"""An arrangement's small team (Equal Care's teams): set by the manager or the seeker's
partner, read by the parties; the cover matcher counts team members as continuity."""

from agency.audit.models import AuditEntry
from tests.continuity.continuity_helpers import others, planned
from tests.continuity.test_cover import _setup
from tests.factories import make_agency, make_provider


def test_the_team_is_set_read_and_boosts_cover(client, session):
    world, cover, days = _setup(session)
    mate = make_provider(session, world.agency, rates={"companionship": 2400})
    url = f"/arrangements/{world.arrangement.id}/team"
    assert client.get(url, headers=world.provider_headers).json["provider_ids"] == []
    target = next(p for p in planned(session, world) if p.date == days[0])
    suggest = f"/planned-visits/{target.id}/cover-suggestions"
    before = {s["provider_id"]: s for s in client.get(suggest, headers=world.manager_headers).json}
    assert before[mate.id]["knows_seeker"] is False and before[mate.id]["team"] is False

    put = client.put(url, json={"provider_ids": [mate.id]}, headers=world.partner_headers)
    assert put.status_code == 200, put.json
    assert put.json == {"arrangement_id": world.arrangement.id, "provider_ids": [mate.id]}
    for headers in (world.manager_headers, world.partner_headers, world.provider_headers):
        assert client.get(url, headers=headers).json["provider_ids"] == [mate.id]
    after = {s["provider_id"]: s for s in client.get(suggest, headers=world.manager_headers).json}
    assert after[mate.id]["team"] is True and after[mate.id]["knows_seeker"] is True
    assert after[mate.id]["score"] > before[mate.id]["score"]  # the engine's continuity
    assert after[mate.id]["rank"] <= before[mate.id]["rank"]
    audited = session.query(AuditEntry).filter_by(action="arrangement.team").count()
    assert audited == 1

    both = client.put(
        url, json={"provider_ids": [cover.id, mate.id]}, headers=world.manager_headers
    )
    assert both.status_code == 200 and both.json["provider_ids"] == [mate.id, cover.id]
    cleared = client.put(url, json={"provider_ids": []}, headers=world.manager_headers)
    assert cleared.status_code == 200 and cleared.json["provider_ids"] == []


def test_a_team_is_small_and_made_of_the_agencys_other_providers(client, session):
    world, cover, _days = _setup(session)
    url = f"/arrangements/{world.arrangement.id}/team"
    elsewhere = make_provider(session, make_agency(session))
    many = [make_provider(session, world.agency).id for _ in range(5)]
    for body in (
        {"provider_ids": many},
        {"provider_ids": [world.provider.id]},
        {"provider_ids": [elsewhere.id]},
        {"provider_ids": ["prv_nobody"]},
        {"provider_ids": "prv_x"},
        {},
    ):
        response = client.put(url, json=body, headers=world.manager_headers)
        assert response.status_code == 422, (body, response.json)
        assert "provider_ids" in response.json["errors"], body


def test_the_team_is_refused_to_every_other_principal(client, session):
    world, cover, _days = _setup(session)
    url = f"/arrangements/{world.arrangement.id}/team"
    body = {"provider_ids": [cover.id]}
    assert client.get(url).status_code == 401
    assert client.put(url, json=body).status_code == 401
    refused = others(session, world)
    for who in ("another partner", "another agency's manager", "another provider"):
        assert client.get(url, headers=refused[who]).status_code == 404, who
    assert client.get(url, headers=refused["the council's auditor"]).status_code == 403
    for who in ("another partner", "another agency's manager"):
        assert client.put(url, json=body, headers=refused[who]).status_code == 404, who
    for who in ("another provider", "the council's auditor"):
        assert client.put(url, json=body, headers=refused[who]).status_code == 403, who
    # The arrangement's own provider reads the team but does not set it.
    assert client.put(url, json=body, headers=world.provider_headers).status_code == 403
    assert client.get(url, headers=world.manager_headers).json["provider_ids"] == []
