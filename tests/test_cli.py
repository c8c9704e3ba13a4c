from sqlalchemy import func, select

from agency.accounts.models import User
from agency.directory.models import Agency


def test_seed_demo_loads_bristol_once_and_prints_credentials(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "manager@southmead.example" in result.output
    assert "iak_" in result.output
    names = set(session.scalars(select(Agency.name)))
    assert {"Southmead Development Trust", "Wellspring Settlement", "BS3 Community"} <= names
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "nothing seeded" in again.output
    assert session.scalar(select(func.count()).select_from(User)) >= 5


def test_the_demo_manager_can_sign_in(app, client):
    app.test_cli_runner().invoke(args=["seed-demo"])
    response = client.post(
        "/auth/token",
        json={"email": "manager@southmead.example", "password": "demo-password-southmead"},
    )
    assert response.status_code == 201
