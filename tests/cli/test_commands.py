"""The command line, against the test database."""

from __future__ import annotations

import os
import signal

import pytest
from click.testing import CliRunner

from critdesk.cli.main import cli


@pytest.fixture
def run(database_url, tmp_path):  # type: ignore[no-untyped-def]
    def _run(*args: str, **env: str):  # type: ignore[no-untyped-def]
        environment = {
            "CRITDESK_DATABASE_URL": database_url,
            "CRITDESK_DATA_DIR": str(tmp_path / "data"),
        } | env
        return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)

    return _run


def test_demo_loads_once_and_prints_the_logins(run) -> None:
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output
    assert "alice@northwind.example" in first.output and "demo-password-123" in first.output
    second = run("demo")
    assert second.exit_code == 0
    assert "already present" in second.output


def test_demo_refuses_a_database_with_real_users(run) -> None:
    created = run(
        "user",
        "create",
        "--email",
        "ops@vendor.example",
        "--name",
        "Ops",
        "--role",
        "admin",
        CRITDESK_NEW_USER_PASSWORD="a-long-enough-password",
    )
    assert created.exit_code == 0, created.output
    refused = run("demo")
    assert refused.exit_code != 0
    assert "not_a_demo_database" in refused.output


def test_token_create_prints_a_working_token(run, client) -> None:
    run("demo")
    result = run("token", "create", "--email", "eng1@vendor.example")
    assert result.exit_code == 0
    token = result.output.strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == "eng1@vendor.example"
    assert run("token", "create", "--email", "ghost@x.example").exit_code != 0


def test_user_create_for_a_customer_needs_a_known_organisation(run) -> None:
    run("demo")
    ok = run(
        "user",
        "create",
        "--email",
        "frank@contoso.example",
        "--name",
        "Frank",
        "--role",
        "customer",
        "--organisation",
        "Contoso Health",
        CRITDESK_NEW_USER_PASSWORD="a-long-enough-password",
    )
    assert ok.exit_code == 0, ok.output
    bad = run(
        "user",
        "create",
        "--email",
        "gina@x.example",
        "--name",
        "Gina",
        "--role",
        "customer",
        "--organisation",
        "Nowhere Ltd",
        CRITDESK_NEW_USER_PASSWORD="a-long-enough-password",
    )
    assert bad.exit_code != 0 and "Nowhere Ltd" in bad.output


def test_package_list_and_set(run) -> None:
    run("demo")
    listed = run("package", "list")
    assert "Mon–Fri 09:00–17:30 Europe/London" in listed.output
    assert "30m / 2h / 4h / 8h" in listed.output
    changed = run("package", "set", "enterprise", "--sla", "S1=15m", "--weight", "4")
    assert changed.exit_code == 0, changed.output
    assert "15m / 2h / 4h / 8h" in run("package", "list").output
    refused = run("package", "set", "business", "--channels", "web,fax")
    assert refused.exit_code != 0 and "invalid_channel" in refused.output


def test_db_upgrade_is_idempotent(run) -> None:
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "upgrade").exit_code == 0


def test_the_job_runner_freezes_what_its_start_up_built(run, monkeypatch) -> None:
    from critdesk import execution
    from critdesk.jobs.periodic import EmbeddedRunner

    happened: list[str] = []
    monkeypatch.setattr(EmbeddedRunner, "start", lambda _self: happened.append("started"))
    monkeypatch.setattr(EmbeddedRunner, "stop", lambda _self: happened.append("stopped"))
    monkeypatch.setattr(execution, "settle_heap", lambda: happened.append("settled") or True)
    # Process-wide state the command would change for the rest of the test run: pytest keeps
    # its signal handlers and its logging.
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    monkeypatch.setattr("critdesk.cli.worker.configure_logging", lambda *_args, **_kw: None)
    # A parent that is not this process's: the runner stops after its first check.
    result = run("worker", "embedded", "--parent-pid", str(os.getppid() + 1))
    assert result.exit_code == 0, result.output
    assert happened == ["started", "settled", "stopped"]
