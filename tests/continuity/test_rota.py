"""Rotas as JSON and iCalendar, a seeker's upcoming visits, and who may read them."""

import datetime as dt

from tests.continuity.continuity_helpers import future, others, planned_world
from tests.visits.visit_helpers import days_ago


def test_a_provider_reads_their_rota_in_time_order(client, session):
    world = planned_world(session)
    response = client.get("/rota?page_size=100", headers=world.provider_headers)
    assert response.status_code == 200, response.json
    rows = response.json
    assert len(rows) >= 27
    assert [r["starts_at"] for r in rows] == sorted(r["starts_at"] for r in rows)
    first = rows[0]
    assert (first["start"], first["end"], first["status"]) == ("10:00", "11:00", "planned")
    assert first["arrangement_id"] == world.arrangement.id


def test_the_rota_is_for_providers_and_shows_only_their_own(client, session):
    world = planned_world(session)
    refused = others(session, world)
    assert client.get("/rota", headers=refused["another provider"]).json == []
    assert client.get("/rota", headers=world.manager_headers).status_code == 403
    assert client.get("/rota", headers=world.partner_headers).status_code == 403
    assert client.get("/rota").status_code == 401
    bad = client.get("/rota?date_from=yesterday", headers=world.provider_headers)
    assert bad.status_code == 422 and "date_from" in bad.json["errors"]


def test_a_partner_reads_the_seekers_upcoming_visits(client, session):
    world = planned_world(session, days_back=3)
    url = f"/care-seekers/{world.seeker.id}/upcoming-visits"
    response = client.get(url, headers=world.partner_headers)
    assert response.status_code == 200, response.json
    assert response.json and min(r["date"] for r in response.json) == days_ago(0).isoformat()
    assert client.get(url, headers=world.manager_headers).status_code == 200
    refused = others(session, world)
    assert client.get(url, headers=refused["another partner"]).status_code == 404
    assert client.get(url, headers=refused["another agency's manager"]).status_code == 404
    assert client.get(url, headers=refused["another provider"]).status_code == 403
    assert client.get(url, headers=refused["the council's auditor"]).status_code == 403


def test_planned_visits_are_listed_per_arrangement_and_hidden_from_others(client, session):
    world = planned_world(session)
    one = future(session, world)[0]
    for headers in (world.provider_headers, world.manager_headers, world.partner_headers):
        assert client.get(f"/planned-visits/{one.id}", headers=headers).status_code == 200
        listed = client.get(f"/arrangements/{world.arrangement.id}/planned-visits", headers=headers)
        assert listed.status_code == 200 and one.id in {r["id"] for r in listed.json}
    refused = others(session, world)
    for who in ("another partner", "another provider", "another agency's manager"):
        headers = refused[who]
        assert client.get(f"/planned-visits/{one.id}", headers=headers).status_code == 404, who
        listed = client.get(f"/arrangements/{world.arrangement.id}/planned-visits", headers=headers)
        assert listed.status_code == 404, who
        assert one.id not in {r["id"] for r in client.get("/planned-visits", headers=headers).json}
    auditor = refused["the council's auditor"]
    assert client.get(f"/planned-visits/{one.id}", headers=auditor).status_code == 403
    assert client.get("/planned-visits", headers=auditor).status_code == 403
    assert client.get("/planned-visits/pvs_nope", headers=world.manager_headers).status_code == 404


def test_the_rota_feed_is_icalendar_at_a_secret_url_that_can_be_rotated_and_revoked(
    client, session
):
    world = planned_world(session)
    issued = client.post("/rota/feed", headers=world.provider_headers)
    assert issued.status_code == 201, issued.json
    url = issued.json["url"]
    path = url[url.index("/rota/feed/") :]
    feed = client.get(path)  # no credentials: the URL is the secret
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    text = feed.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") >= len(future(session, world))
    first = future(session, world)[0]
    assert f"UID:{first.id}@agency" in text
    assert f"DTSTART:{first.starts_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in text
    assert world.seeker.display_name not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    rotated = client.post("/rota/feed", headers=world.provider_headers).json["url"]
    assert client.get(path).status_code == 404  # the old URL stops working
    new_path = rotated[rotated.index("/rota/feed/") :]
    assert client.get(new_path).status_code == 200
    assert client.delete("/rota/feed", headers=world.provider_headers).status_code == 204
    assert client.get(new_path).status_code == 404
    assert client.delete("/rota/feed", headers=world.provider_headers).status_code == 404


def test_only_providers_have_rota_feeds(client, session):
    world = planned_world(session)
    for headers in (world.manager_headers, world.partner_headers):
        assert client.post("/rota/feed", headers=headers).status_code == 403
        assert client.delete("/rota/feed", headers=headers).status_code == 403
    assert client.post("/rota/feed").status_code == 401
    assert client.get("/rota/feed/not-a-token.ics").status_code == 404


def test_a_rota_keeps_a_late_evening_visit_on_its_day_in_and_out_of_summer_time(session):
    """``on_days`` bounds the start time a day wider than the dates: nothing at the edges
    of a London day is lost (23:30 in BST is 22:30 UTC; in GMT it is 23:30 UTC)."""
    from agency.access import Kind, Principal
    from agency.visits.continuity import rota_of
    from agency.visits.planned_models import PlannedVisit

    world = planned_world(session)
    template = session.query(PlannedVisit).filter_by(provider_id=world.provider.id).first()
    principal = Principal(Kind.PROVIDER, "usr_rota", provider_id=world.provider.id)
    for day, utc_hour in ((dt.date(2027, 7, 1), 22), (dt.date(2027, 1, 5), 23)):
        late = PlannedVisit(
            id=f"pvs_late{day:%Y%m%d}",
            arrangement_id=template.arrangement_id,
            provider_id=template.provider_id,
            agency_id=template.agency_id,
            council_id=template.council_id,
            partner_client_id=template.partner_client_id,
            seeker_id=template.seeker_id,
            terms_version=template.terms_version,
            date=day,
            start_time="23:30",
            end_time="23:59",
            starts_at=dt.datetime.combine(day, dt.time(utc_hour, 30), dt.UTC),
            ends_at=dt.datetime.combine(day, dt.time(utc_hour, 59), dt.UTC),
            minutes=29,
            status=template.status,
        )
        session.add(late)
        session.flush()
        on_the_day = session.scalars(rota_of(principal, day, day)).all()
        assert [p.id for p in on_the_day] == [late.id]
        next_day = day + dt.timedelta(days=1)
        assert late.id not in [
            p.id for p in session.scalars(rota_of(principal, next_day, next_day))
        ]
