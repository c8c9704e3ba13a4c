from sqlalchemy import func, select

from agency.accounts.models import User
from agency.directory.models import Agency, Neighbourhood
from agency.introductions.models import Suggestion
from agency.providers.models import Provider
from agency.seekers.models import CareRequest


def test_seed_demo_loads_bristol_once_with_a_population_that_is_matched(app, session, settings):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "manager@southmead.example" in result.output
    assert "iak_" in result.output
    names = set(session.scalars(select(Agency.name)))
    assert names == {"Southmead Development Trust", "Wellspring Settlement", "BS3 Community"}
    assert session.scalar(select(func.count()).select_from(Neighbourhood)) == 8
    assert session.scalar(select(func.count()).select_from(Provider)) == 240
    requests = session.scalar(select(func.count()).select_from(CareRequest))
    unrouted = session.scalar(select(func.count()).where(CareRequest.agency_id.is_(None)))
    assert requests == 300 and 0 < unrouted < 60
    # The same demo with or without Redis: its jobs run in the seeding process.
    assert session.scalar(select(func.count(func.distinct(Suggestion.care_request_id)))) > 150
    assert "History: skipped" not in result.output
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "nothing seeded" in again.output
    assert session.scalar(select(func.count()).select_from(User)) >= 245


def test_the_demo_manager_can_sign_in(app, client, session):
    from agency.demo import seed

    with app.app_context():
        seed(session, population=False)
    response = client.post(
        "/auth/token",
        json={"email": "manager@southmead.example", "password": "demo-password-southmead"},
    )
    assert response.status_code == 201
