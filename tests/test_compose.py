"""docker-compose.yml is checked as YAML here: no Docker engine runs on CI machines."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = "scripts/nginx/default.conf.template"


def load_compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_names_the_six_services_with_health_checks():
    services = load_compose()["services"]
    assert set(services) == {"proxy", "postgres", "redis", "web", "worker", "beat"}
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
        if not volume.startswith(("./", "/"))  # bind mounts of repository files (nginx's)
    }
    assert {"pgdata", "redisdata", "media", "static"} <= used <= declared


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


def test_only_the_proxy_publishes_a_port_and_it_waits_for_a_ready_web():
    services = load_compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["${PROXY_PORT:-8000}:80"]
    assert proxy["environment"]["PROXY_PORT"] == "80"
    assert proxy["environment"]["WEB_UPSTREAM"] == "web:8000"
    assert services["web"]["expose"] == ["8000"]
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_health_checks_use_readiness_for_web_and_liveness_through_the_proxy():
    services = load_compose()["services"]
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in web_check
    proxy_check = services["proxy"]["healthcheck"]["test"]
    assert proxy_check[:2] == ["CMD", "wget"] and proxy_check[-1] == "http://127.0.0.1/healthz"


def test_one_max_upload_mb_drives_the_app_and_the_proxy_limit():
    services = load_compose()["services"]
    limit = "${MAX_UPLOAD_MB:-200}"
    assert services["proxy"]["environment"]["MAX_UPLOAD_MB"] == limit
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["MAX_UPLOAD_MB"] == limit, name
    template = (REPO / TEMPLATE).read_text()
    assert "client_max_body_size ${MAX_UPLOAD_MB}m;" in template
    # The compose default is the settings' own default.
    settings_source = (REPO / "fleet" / "settings.py").read_text()
    assert 'env_int("MAX_UPLOAD_MB", 200, minimum=1)' in settings_source


def test_the_proxy_renders_our_template_with_every_variable_it_uses_set():
    proxy = load_compose()["services"]["proxy"]
    assert f"./{TEMPLATE}:/etc/nginx/templates/default.conf.template:ro" in proxy["volumes"]
    used = set(re.findall(r"\$\{([A-Z_]+)\}", (REPO / TEMPLATE).read_text()))
    assert used == {"MAX_UPLOAD_MB", "PROXY_PORT", "WEB_UPSTREAM", "STATIC_ROOT"}
    assert used <= set(proxy["environment"])


def test_nginx_serves_the_static_volume_that_web_collects_into():
    # The settings module as deployed: the test session points settings.STATIC_ROOT elsewhere.
    from fleet import settings as deployed

    services = load_compose()["services"]
    web_mounts = dict(volume.split(":", 1) for volume in services["web"]["volumes"])
    static_in_image = "/app/" + str(deployed.STATIC_ROOT.relative_to(deployed.BASE_DIR))
    assert web_mounts["static"] == static_in_image
    assert "collectstatic --no-input" in services["web"]["command"]
    proxy = services["proxy"]
    assert f"static:{proxy['environment']['STATIC_ROOT']}:ro" in proxy["volumes"]


def test_web_trusts_forwarded_headers_and_nothing_else_does():
    services = load_compose()["services"]
    assert services["web"]["environment"]["TRUSTED_PROXY"] == "1"
    for name in ("worker", "beat"):
        assert "TRUSTED_PROXY" not in services[name]["environment"], name


def compose_default(value: str) -> int:
    """The default of a `${NAME:-default}` value."""
    match = re.fullmatch(r"\$\{\w+:-(\d+)\}", str(value))
    assert match, value
    return int(match.group(1))


def test_web_pools_and_workers_fit_well_under_postgres_max_connections():
    services = load_compose()["services"]
    # The postgres image keeps PostgreSQL's default unless the command sets another.
    assert "max_connections" not in str(services["postgres"].get("command", ""))
    max_connections = 100
    web = services["web"]["environment"]
    pooled = compose_default(web["WEB_CONCURRENCY"]) * compose_default(web["DB_POOL_MAX"])
    worker = services["worker"]["command"]
    worker_processes = compose_default(worker[worker.index("--concurrency") + 1])
    # One persistent connection per worker process and for beat, and room for a second web
    # replica, migrations and an operator's psql.
    assert 2 * pooled + worker_processes + 1 + 10 <= max_connections
