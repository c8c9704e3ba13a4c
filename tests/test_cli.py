from sqlalchemy import func, select

from agency import create_app
from agency.accounts.models import User
from agency.directory.models import Agency, Neighbourhood
from agency.introductions.models import Suggestion
from agency.providers.models import Provider
from agency.seekers.models import CareRequest


def test_seed_demo_loads_bristol_once_with_a_population_that_is_matched(demo_copy):
    # The run's demo template was made by `flask --app wsgi seed-demo` in a fresh interpreter,
    # with REDIS_URL as the run has it (tests/demo_database.py); this is a copy of it.
    demo_settings, output = demo_copy
    assert "manager@southmead.example" in output
    assert "iak_" in output
    assert "History: skipped" not in output
    app = create_app(demo_settings)
    with app.extensions["agency"].sessionmaker() as session:
        names = set(session.scalars(select(Agency.name)))
        assert names == {"Southmead Development Trust", "Wellspring Settlement", "BS3 Community"}
        assert session.scalar(select(func.count()).select_from(Neighbourhood)) == 8
        assert session.scalar(select(func.count()).select_from(Provider)) == 240
        requests = session.scalar(select(func.count()).select_from(CareRequest))
        unrouted = session.scalar(select(func.count()).where(CareRequest.agency_id.is_(None)))
        assert requests == 300 and 0 < unrouted < 60
        # The same demo with or without Redis: its jobs run in the seeding process.
        assert session.scalar(select(func.count(func.distinct(Suggestion.care_request_id)))) > 150
        users = session.scalar(select(func.count()).select_from(User))
    again = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "nothing seeded" in again.output
    with app.extensions["agency"].sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(User)) == users >= 245


def test_the_demo_manager_can_sign_in(app, client, session):
    from agency.demo import seed

    with app.app_context():
        seed(session, population=False)
    response = client.post(
        "/auth/token",
        json={"email": "manager@southmead.example", "password": "demo-password-southmead"},
    )
    assert response.status_code == 201
