"""From an upload over the API to its analysis, known bugs matched, on every database."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from critdesk.adapters.storage import LocalStorage
from critdesk.case.models import Case, CaseEvent
from critdesk.jobs.periodic import run_sweeps
from critdesk.logs import jobs, service
from critdesk.logs.models import LogAnalysis
from tests.attachment.conftest import PNG, upload, zip_bytes
from tests.auth.test_pages import open_web_session
from tests.bug.test_api import COMPLETE
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, report
from tests.logs import samples

FINGERPRINT = (
    "stack:SQLSyntaxErrorException@com.acme.platform.db.Gateway.query"
    ">com.acme.platform.db.Gateway.load"
)


@pytest.fixture
def ref(client, login) -> str:
    return str(report(client, login(ALICE))["ref"])


def analysis_of(client: Any, headers: dict[str, str], ref: str, attachment_id: int) -> Any:
    return client.get(f"/api/v1/cases/{ref}/attachments/{attachment_id}/analysis", headers=headers)


def run_jobs(app: Any, database: Any, clock: Any) -> int:
    return jobs.analyse_pending(database, clock.now, app.state.storage, clock=clock)


def uploaded(client: Any, headers: dict[str, str], ref: str, content: bytes, **kw: Any) -> int:
    response = upload(client, headers, ref, content, **kw)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_an_uploaded_log_is_analysed_in_the_background(app, client, login, ref, database, clock):
    alice = login(ALICE)
    attachment_id = uploaded(client, alice, ref, samples.TOMCAT_APP.encode())
    pending = analysis_of(client, alice, ref, attachment_id).json()
    assert pending["state"] == "pending" and pending["summary"] is None
    assert pending["progress"] == {"bytes": 0, "total": len(samples.TOMCAT_APP), "percent": 0.0}

    clock.advance(seconds=5)
    assert run_jobs(app, database, clock) == 1
    done = analysis_of(client, alice, ref, attachment_id).json()
    assert done["state"] == "done" and done["progress"]["percent"] == 100.0
    summary = done["summary"]
    assert summary["format"].startswith("log4j") and summary["lines"] == len(
        samples.TOMCAT_APP.splitlines()
    )
    top = summary["signatures"][0]
    assert top["fingerprint"] == FINGERPRINT and top["count"] == 2
    # The case was reported at 10:00; the errors came at 09:12–09:13, within the window.
    assert summary["reported_at"] == "2026-11-25T10:00:00Z"
    assert run_jobs(app, database, clock) == 0  # nothing left to claim


def test_the_analysis_has_the_file_s_permissions(app, client, login, ref, database, clock):
    engineer, customer = login(ENG1), login(BOB)
    internal = uploaded(client, engineer, ref, samples.TOMCAT_APP.encode(), internal=True)
    shared = uploaded(client, login(ALICE), ref, samples.CATALINA.encode())
    run_jobs(app, database, clock)
    assert analysis_of(client, engineer, ref, internal).json()["state"] == "done"
    assert analysis_of(client, customer, ref, internal).status_code == 404
    assert analysis_of(client, customer, ref, shared).status_code == 200
    other_org = analysis_of(client, login(CAROL), ref, shared)
    assert other_org.status_code == 404 and other_org.json()["error"]["code"] == "not_found"
    assert (
        analysis_of(
            client,
            customer,
            ref,
            shared,
        ).status_code
        == 200
    )
    assert client.get(f"/api/v1/cases/{ref}/attachments/{shared}/analysis").status_code == 401


def test_only_logs_and_archives_are_analysed(client, login, ref):
    png = uploaded(client, login(ALICE), ref, PNG, name="screen.png", media_type="image/png")
    assert analysis_of(client, login(ALICE), ref, png).status_code == 404


def test_an_archive_without_logs_fails_with_a_reason(app, client, login, ref, database, clock):
    attachment_id = uploaded(client, login(ALICE), ref, zip_bytes({"pic.png": PNG}), name="x.zip")
    run_jobs(app, database, clock)
    failed = analysis_of(client, login(ALICE), ref, attachment_id).json()
    assert failed["state"] == "failed" and "no log lines" in failed["reason"]


def test_progress_is_visible_while_a_large_file_is_read(
    app, client, login, ref, database, clock, monkeypatch
):
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0.0)
    line = "2026-11-25 09:12:03,114 WARN  [exec-1] c.v.runtime.Pool - pool exhausted after 30 ms\n"
    content = (line * (3 * 1024**2 // len(line))).encode()
    alice = login(ALICE)
    attachment_id = uploaded(client, alice, ref, content)
    seen: list[dict[str, Any]] = []
    storage = app.state.storage

    class Watching(LocalStorage):
        def open_read(self, key: str) -> Any:
            inner = storage.open_read(key)

            class Stream(io.RawIOBase):
                def readable(self) -> bool:
                    return True

                def readinto(self, buffer: Any) -> int:
                    data = inner.read(len(buffer))
                    if len(seen) < 3 and data:
                        seen.append(analysis_of(client, alice, ref, attachment_id).json())
                    buffer[: len(data)] = data
                    return len(data)

                def close(self) -> None:
                    inner.close()
                    super().close()

            return Stream()

    jobs.analyse_pending(database, clock.now, Watching(storage.root), clock=clock)
    running = [s for s in seen if s["state"] == "running"]
    assert running and any(0 < s["progress"]["percent"] < 100 for s in running)
    assert analysis_of(client, alice, ref, attachment_id).json()["state"] == "done"


def test_a_log_matching_a_known_bug_shows_it_once_on_the_timeline(
    app, client, login, ref, database, clock
):
    engineer = login(ENG1)
    bug = client.post(
        "/api/v1/bugs",
        headers=engineer,
        json=COMPLETE
        | {
            "title": "Publishing fails with ORA-00942 on Oracle gateways",
            "signatures": [FINGERPRINT],
            "workaround": "Grant SELECT on the audit table to the runtime user",
        },
    ).json()
    first = uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    run_jobs(app, database, clock)
    matches = analysis_of(client, engineer, ref, first).json()["matches"]
    assert [(m["key"], m["how"]) for m in matches] == [(bug["key"], "exact")]
    assert matches[0]["workaround"].startswith("Grant SELECT")
    assert matches[0]["state"] == bug["state"] and matches[0]["fix_version"] is None
    # The bug is not public: the customer does not see the match.
    assert analysis_of(client, login(ALICE), ref, first).json()["matches"] == []

    second = uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode(), name="again.log")
    run_jobs(app, database, clock)
    assert analysis_of(client, engineer, ref, second).json()["matches"][0]["key"] == bug["key"]
    timeline = client.get(f"/api/v1/cases/{ref}", headers=engineer).json()["timeline"]
    matched = [e for e in timeline if e["kind"] == "known_issue_matched"]
    assert len(matched) == 1
    customer_view = client.get(f"/api/v1/cases/{ref}", headers=login(ALICE)).json()["timeline"]
    assert "known_issue_matched" not in [e["kind"] for e in customer_view]


def test_a_bug_whose_text_holds_the_trace_is_found_by_the_similar_bug_engine(
    app, client, login, ref, database, clock
):
    bug = client.post(
        "/api/v1/bugs",
        headers=login(ENG1),
        json=COMPLETE
        | {"title": "Gateway query fails on Oracle", "actual": samples.TRACE_IN_A_BUG},
    ).json()
    attachment_id = uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    run_jobs(app, database, clock)
    matches = analysis_of(client, login(ENG1), ref, attachment_id).json()["matches"]
    assert bug["key"] in [m["key"] for m in matches]


def test_a_bug_created_from_the_case_can_carry_its_top_signatures(
    app, client, login, ref, database, clock
):
    uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    run_jobs(app, database, clock)
    with database.session(read_only=True) as db:
        case = db.scalar(select(Case).where(Case.id == int(ref.split("-")[1])))
        top = service.top_signatures(db, case)
    assert top[0] == FINGERPRINT
    assert all(not s.startswith("log:") or "<*>" in s or s for s in top)


def test_a_crashed_runner_s_file_is_claimed_again_then_given_up(
    app, client, login, ref, database, clock
):
    attachment_id = uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    with database.session() as db:
        db.execute(
            update(LogAnalysis).values(
                state="running",
                claimed_by="dead",
                lease_until=clock.now - timedelta(seconds=1),
                attempts=1,
            )
        )
    assert run_jobs(app, database, clock) == 1
    assert analysis_of(client, login(ALICE), ref, attachment_id).json()["attempts"] == 2
    with database.session() as db:
        db.execute(
            update(LogAnalysis).values(
                state="running",
                claimed_by="dead",
                lease_until=clock.now - timedelta(seconds=1),
                attempts=jobs.MAX_ATTEMPTS,
            )
        )
    run_jobs(app, database, clock)
    gave_up = analysis_of(client, login(ALICE), ref, attachment_id).json()
    assert gave_up["state"] == "failed" and "stopped 3 times" in gave_up["reason"]


def test_a_runner_that_lost_its_claim_writes_nothing(app, client, login, ref, database, clock):
    uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    work = jobs._claim(database, clock.now, "runner-a")
    assert work is not None
    assert jobs._claim(database, clock.now, "runner-b") is None  # leased
    with database.session() as db:
        db.execute(update(LogAnalysis).values(claimed_by="runner-b"))
    with pytest.raises(jobs._LostClaim):
        jobs._finish(
            database,
            work,
            "runner-a",
            clock.now,
            {"signatures": [], "warnings": []},
            jobs.KnownIssues(None),
        )


def test_the_periodic_runner_analyses_pending_logs(
    app, client, login, ref, database, clock, settings
):
    attachment_id = uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    done = run_sweeps(database, settings, clock.now)
    assert done["log_analysis"] == 1
    assert analysis_of(client, login(ALICE), ref, attachment_id).json()["state"] == "done"


def test_the_case_page_shows_signatures_with_their_samples(
    app, client, login, ref, database, clock
):
    uploaded(client, login(ALICE), ref, samples.TOMCAT_APP.encode())
    run_jobs(app, database, clock)
    open_web_session(client, database, clock, ENG1)
    page = client.get(f"/cases/{ref}/log-analyses")
    assert page.status_code == 200
    assert "SQLSyntaxErrorException" in page.text and "<details>" in page.text
    assert "ORA-00942: table or view does not exist" in page.text  # a sample, one click away
    fragment = client.get(f"/cases/{ref}/log-analyses?fragment=1")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    detail = client.get(f"/cases/{ref}")
    assert detail.status_code == 200 and "log-analyses" in detail.text
    with database.session(read_only=True) as db:
        events = db.scalars(select(CaseEvent.kind).where(CaseEvent.kind == "known_issue_matched"))
        assert list(events) == []
