"""/healthz is liveness, /readyz reports the database and the broker each on its own."""

from __future__ import annotations

import socket
import threading
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client


@pytest.fixture
def broker_at(settings):
    def point(url: str) -> None:
        settings.CELERY_BROKER_URL = url

    return point


@pytest.mark.integration
@pytest.mark.django_db
def test_readyz_is_200_when_database_and_broker_answer(redis_server, broker_at):
    broker_at(redis_server.url)
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.integration
@pytest.mark.django_db
def test_readyz_is_503_naming_the_broker_when_redis_is_stopped(redis_server, broker_at):
    broker_at(redis_server.url)
    assert Client().get("/readyz").status_code == 200
    redis_server.stop()

    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}
    # Liveness is not readiness: the process and its database still answer.
    assert Client().get("/healthz").status_code == 200

    redis_server.start()
    assert Client().get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_gives_up_on_a_broker_that_accepts_but_never_answers(broker_at):
    # A listening socket nobody reads: the TCP handshake succeeds, PING never gets a reply.
    # Without socket timeouts the check would wait for ever; with Celery's retries, for long.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        answers = []
        probe = threading.Thread(target=lambda: answers.append(Client().get("/readyz")))
        probe.start()
        probe.join(timeout=60)  # generous: the check itself gives up after about a second
    assert answers, "/readyz did not answer while the broker stayed silent"
    assert answers[0].status_code == 503
    assert answers[0].json()["broker"] == "down"


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_does_not_answer(broker_at):
    broker_at("memory://")
    with mock.patch("fleet.health.connection") as connection:
        connection.cursor.side_effect = OperationalError("connection refused")
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "broker": "ok"}


def test_both_health_endpoints_are_in_the_openapi_document(db):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert paths["/healthz"]["get"]["security"] == []
    readiness = paths["/readyz"]["get"]
    assert readiness["security"] == []
    assert set(readiness["responses"]) == {"200", "503"}
    schema = readiness["responses"]["503"]["content"]["application/json"]["schema"]
    assert {"database", "broker"} <= set(schema["required"])
