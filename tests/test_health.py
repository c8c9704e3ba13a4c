from agency import create_app
from agency.config import Settings


def test_liveness_answers(client):
    assert client.get("/health/live").get_json()["status"] == "ok"


def test_readiness_checks_the_database_and_queue(client, settings):
    body = client.get("/health/ready").get_json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["queue"] == ("ok" if settings.redis_url else "inline")


def test_readiness_fails_when_redis_is_unreachable(settings):
    broken = Settings(**{**settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"})
    response = create_app(broken).test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["code"] == "not_ready"
    assert response.get_json()["checks"]["queue"] != "ok"
