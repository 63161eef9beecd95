"""docker-compose.yml is checked as YAML here: no Docker engine runs on CI machines."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def load_compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_names_the_five_services_with_health_checks():
    services = load_compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
        assert service.get("image") or service.get("build"), name


def test_app_services_share_settings_and_wait_for_healthy_backends():
    services = load_compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["SECRET_KEY"] == "${SECRET_KEY:-}"
        assert env["REQUIRE_SECRET_KEY"] == "1"
        depends = services[name]["depends_on"]
        assert (
            depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"
        )


def test_state_lives_in_named_volumes():
    compose = load_compose()
    declared = set(compose["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
    }
    assert {"pgdata", "redisdata", "media"} <= used <= declared


def test_default_worker_consumes_every_queue_the_settings_route_to():
    from django.conf import settings

    command = load_compose()["services"]["worker"]["command"]
    queues = command[command.index("--queues") + 1]
    assert queues == "${WORKER_QUEUES:-ingest,aggregate,alerts}"
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed == set(queues.split(":-", 1)[1].rstrip("}").split(","))


def test_scale_override_gives_each_queue_a_dedicated_worker():
    override = yaml.safe_load((REPO / "docker-compose.scale.yml").read_text())["services"]
    consumed = {}
    for name, service in override.items():
        command = service["command"]
        consumed[name] = command[command.index("--queues") + 1]
        if name != "worker":
            assert service["extends"] == {"file": "docker-compose.yml", "service": "worker"}
    assert consumed == {"worker": "aggregate", "worker-ingest": "ingest", "worker-alerts": "alerts"}
