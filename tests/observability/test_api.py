"""/healthz, /readyz, /metrics and the request id every response carries."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from critdesk.app import create_app
from critdesk.config import Settings
from critdesk.db import Database, make_engine
from critdesk.migration import alembic_config
from critdesk.observability.service import code_heads
from critdesk.observability.structured_logs import make_handler
from tests.case.test_api import ALICE, report

LOCAL = ("127.0.0.1", 50123)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """``{labels: value}`` of one metric's samples in a Prometheus exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def scrape(app: Any, **headers: str) -> str:
    with TestClient(app, client=LOCAL) as local:
        response = local.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every critdesk log line as JSON, during the test."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    log = logging.getLogger("critdesk")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield stream
    log.removeHandler(handler)
    log.setLevel(level)


def logged(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


# --- health and readiness -----------------------------------------------------------------------


def test_healthz_answers_without_the_database(client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["version"] and isinstance(body["process"], int)


def test_readyz_is_ready_when_the_schema_is_current(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["reason"] is None
    assert body["database_revisions"] == body["code_revisions"] == list(code_heads())


def test_readyz_refuses_while_migrations_are_behind(client, database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "-1")
    try:
        response = client.get("/readyz")
    finally:
        command.upgrade(config, "head")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert "migrations not current" in body["reason"] and "critdesk db upgrade" in body["reason"]
    assert body["database_revisions"] != body["code_revisions"]
    assert client.get("/readyz").status_code == 200


def test_readyz_stays_ready_while_a_newer_release_has_migrated(client, database) -> None:
    """A rolling upgrade: `critdesk db upgrade` of the next release ran; the processes of
    this release keep serving (migrations expand first) until they are replaced."""
    from sqlalchemy import text

    with database.session() as db:
        (current,) = db.execute(text("SELECT version_num FROM alembic_version")).scalars()
        db.execute(text("UPDATE alembic_version SET version_num = 'f00dnext'"))
    try:
        response = client.get("/readyz")
    finally:
        with database.session() as db:
            db.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and "ahead of this code" in body["reason"]
    assert body["database_revisions"] == ["f00dnext"]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-folder/critdesk.sqlite3",
        "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2",
    ],
)
def test_readyz_refuses_when_the_database_is_unreachable(tmp_path, url: str) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=url, embedded_jobs=False, search_warmup=False
    )
    database = Database(make_engine(url, pool_size=1))
    app = create_app(settings, database=database)
    with TestClient(app, raise_server_exceptions=False) as unreachable:
        response = unreachable.get("/readyz")
        assert unreachable.get("/healthz").status_code == 200
    database.dispose()
    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")


# --- the request id -----------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(client) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a"})
    assert kept.headers["x-request-id"] == "edge-7f3a"
    replaced = client.get("/healthz", headers={"X-Request-ID": "evil id\twith\rjunk"})
    assert replaced.headers["x-request-id"] != "evil id\twith\rjunk"
    assert len(replaced.headers["x-request-id"]) == 32
    first = client.get("/healthz").headers["x-request-id"]
    assert first != client.get("/healthz").headers["x-request-id"]


def test_every_line_of_a_request_carries_its_id(app, client, captured) -> None:
    log = logging.getLogger("critdesk.test.inside")

    @app.get("/test-only/logs")
    def logs_something() -> dict[str, str]:
        log.info("inside the route")
        return {}

    response = client.get("/test-only/logs", headers={"X-Request-ID": "req-lines"})
    assert response.status_code == 200
    lines = [line for line in logged(captured) if line.get("request_id") == "req-lines"]
    assert [line["logger"] for line in lines] == ["critdesk.test.inside", "critdesk.access"]
    access = lines[1]
    assert access["method"] == "GET" and access["status"] == 200
    assert access["path"] == "/test-only/logs" and access["route"] == "/test-only/logs"
    assert access["duration_ms"] >= 0


def test_the_access_line_never_holds_the_query_string(client, captured) -> None:
    client.get("/api/v1/bugs/similar?text=secret-customer-words")
    text = captured.getvalue()
    assert "/api/v1/bugs/similar" in text and "secret-customer-words" not in text


def test_an_unexpected_error_answers_500_with_the_id_and_the_headers(app, captured) -> None:
    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/boom", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-boom"
    assert response.headers["x-content-type-options"] == "nosniff"
    error = response.json()["error"]
    assert error["code"] == "internal_error" and "req-boom" in error["message"]
    assert "unexpected" not in response.text
    (access,) = [line for line in logged(captured) if line["logger"] == "critdesk.access"]
    assert access["status"] == 500 and access["level"] == "ERROR"
    assert access["request_id"] == "req-boom"


# --- metrics ------------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_not_raw_path(app, client, login) -> None:
    alice = login(ALICE)
    for ref in ("PCH-000123", "PCH-000999", "PCH-000777"):
        assert client.get(f"/api/v1/cases/{ref}", headers=alice).status_code == 404
    client.get("/no/such/page/abc")
    client.get("/no/such/page/def")
    text = scrape(app)
    counts = samples(text, "critdesk_http_requests_total")
    by_case = (("method", "GET"), ("route", "/api/v1/cases/{ref}"), ("status", "404"))
    assert counts[by_case] == 3
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert counts[unmatched] == 2
    assert not any("PCH-" in value for labels in counts for _k, value in labels)
    latency = samples(text, "critdesk_http_request_duration_seconds_count")
    assert latency[by_case] == 3


def test_metrics_are_open_to_a_direct_local_connection_only(app, client) -> None:
    assert client.get("/metrics").status_code == 403  # the test client is not local
    with TestClient(app, client=LOCAL) as local:
        assert local.get("/metrics").status_code == 200
        relayed = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert relayed.status_code == 403
        assert relayed.json()["error"]["code"] == "metrics_forbidden"
        assert local.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 403


def test_with_a_metrics_token_it_is_always_required(settings, clock, database) -> None:
    app = create_app(
        settings.model_copy(update={"metrics_token": SecretStr("s3cret-scrape")}),
        clock=clock,
        database=database,
    )
    with TestClient(app, client=LOCAL) as local:
        assert local.get("/metrics").status_code == 403
        wrong = local.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 403
        good = local.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert good.status_code == 200
    with TestClient(app) as remote:
        ok = remote.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200


def test_the_desks_figures_come_from_the_database(app, client, login, clock, database) -> None:
    from sqlalchemy import func, select

    from critdesk.case.models import Case
    from critdesk.jobs import periodic
    from critdesk.notification.jobs import fan_out_pending

    waiting_s1 = (("queue_group", "waiting"), ("severity", "S1"))
    before = samples(scrape(app), "critdesk_open_cases").get(waiting_s1, 0)
    alice = login(ALICE)
    for _ in range(3):
        report(client, alice)  # S1 on Enterprise: due in 30 minutes
    text = scrape(app)
    assert samples(text, "critdesk_database_up")[()] == 1
    assert samples(text, "critdesk_open_cases")[waiting_s1] == before + 3
    backlog = samples(text, "critdesk_outbox_backlog")
    assert backlog[(("state", "pending"),)] > 0 and backlog[(("state", "dead"),)] == 0

    clock.advance(minutes=40)  # past every due time; no runner has swept yet
    lags = samples(scrape(app), "critdesk_job_lag_seconds")
    assert lags[(("job", "sla_breach"),)] >= 10 * 60
    assert lags[(("job", "outbox"),)] >= 40 * 60
    # The reports' notifications wait for the drain to fan them out.
    assert lags[(("job", "notification_fan_out"),)] >= 40 * 60
    fan_out_pending(database)
    lags = samples(scrape(app), "critdesk_job_lag_seconds")
    assert lags[(("job", "notification_fan_out"),)] == 0

    periodic.run_sla_sweeps(database, app.state.settings, clock())
    text = scrape(app)
    with database.session(read_only=True) as db:
        breached = db.scalar(select(func.count()).where(Case.sla_breached.is_(True)))
    assert breached >= 3
    assert samples(text, "critdesk_sla_breaches_total")[()] == breached
    assert samples(text, "critdesk_sla_breached_waiting_cases")[()] >= 3
    assert samples(text, "critdesk_job_lag_seconds")[(("job", "sla_breach"),)] == 0


def test_dead_letters_are_counted(app, client, login, database) -> None:
    from sqlalchemy import update

    from critdesk.notification.models import Notification

    report(client, login(ALICE))
    with database.session() as db:
        db.execute(update(Notification).where(Notification.channel == "email").values(state="dead"))
    text = scrape(app)
    dead = samples(text, "critdesk_outbox_dead_letters")[()]
    assert dead > 0
    assert samples(text, "critdesk_outbox_backlog")[(("state", "dead"),)] == dead


def test_an_unreachable_database_reads_as_down_not_as_an_error(tmp_path) -> None:
    url = "sqlite:////nonexistent-folder/critdesk.sqlite3"
    database = Database(make_engine(url, pool_size=1))
    app = create_app(
        Settings(data_dir=tmp_path, database_url=url, embedded_jobs=False, search_warmup=False),
        database=database,
    )
    text = scrape(app)
    database.dispose()
    assert samples(text, "critdesk_database_up")[()] == 0
    assert "critdesk_open_cases" not in text
