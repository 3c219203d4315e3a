"""The request id travels with the work a request leaves behind: outbox rows and queued log
analyses keep it, and the job that does the work runs under it."""

from __future__ import annotations

from email.message import Message

from sqlalchemy import select

from critdesk.adapters.smtp import RecordingMailer
from critdesk.adapters.webhook import RecordingWebhookSender
from critdesk.jobs import periodic
from critdesk.logs import jobs as log_jobs
from critdesk.logs.models import LogAnalysis
from critdesk.notification import outbox
from critdesk.notification.jobs import Transports, fan_out_pending
from critdesk.notification.models import Notification
from critdesk.observability.context import bound_request_id, current_request_id
from tests.attachment.conftest import upload
from tests.case.test_api import ALICE, report
from tests.logs import samples


class IdRecordingMailer(RecordingMailer):
    """Notes the request id bound while each message goes out."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str | None] = []

    def send(self, message: Message) -> None:
        self.ids.append(current_request_id())
        super().send(message)


def report_with_id(client, login, request_id: str) -> str:
    headers = login(ALICE) | {"X-Request-ID": request_id}
    return str(report(client, headers)["ref"])


def case_id(ref: str) -> int:
    return int(ref.removeprefix("PCH-"))


def test_a_reports_notifications_keep_its_request_id(client, login, database) -> None:
    ref = report_with_id(client, login, "req-report-1")
    fan_out_pending(database)  # later, in the drain's own context
    with database.session(read_only=True) as db:
        rows = db.scalars(select(Notification).where(Notification.case_id == case_id(ref))).all()
    assert rows and {row.request_id for row in rows} == {"req-report-1"}


def test_delivery_sends_each_message_under_its_requests_id(app, client, login, database, clock):
    ref = report_with_id(client, login, "req-report-2")
    mailer = IdRecordingMailer()
    transports = Transports(mailer, RecordingWebhookSender())
    delivered = periodic.deliver(database, app.state.settings, transports, clock)
    assert delivered.sent == len(mailer.sent) > 0
    with database.session(read_only=True) as db:
        ours = db.scalars(
            select(Notification.id).where(
                Notification.case_id == case_id(ref), Notification.channel == "email"
            )
        ).all()
    assert ours and mailer.ids.count("req-report-2") == len(ours)
    # The demo's notifications came from no request: they go out under the drain's own id.
    others = [i for i in mailer.ids if i != "req-report-2"]
    assert all(i is not None and i.startswith("job-") for i in others)


def test_a_sweeps_notifications_carry_the_sweeps_own_id(app, client, login, database, clock):
    report_with_id(client, login, "req-report-3")
    clock.advance(minutes=40)
    periodic.run_sla_sweeps(database, app.state.settings, clock())
    fan_out_pending(database)
    with database.session(read_only=True) as db:
        ids = set(
            db.scalars(select(Notification.request_id).where(Notification.kind == "sla_breach"))
        )
    assert len(ids) == 1
    (sweep_id,) = ids
    assert sweep_id is not None and sweep_id.startswith("job-")


def test_a_large_batch_keeps_the_id_on_every_row(database, backend) -> None:
    """PostgreSQL takes batches of COPY_FROM rows or more by COPY: the id goes along."""
    from datetime import UTC, datetime

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with bound_request_id("req-batch"):
        rows = [
            outbox.row(key=f"batch-{i}", channel="email", kind="email", recipient="x@y", at=at)
            for i in range(outbox.COPY_FROM + 5)
        ]
    with database.session() as db:
        outbox.insert_ignoring_duplicates(db.connection(), rows)
    with database.session(read_only=True) as db:
        ids = db.scalars(select(Notification.request_id).where(Notification.key.like("batch-%")))
        assert set(ids) == {"req-batch"}


def test_a_log_analysis_runs_under_its_uploads_request_id(
    app, client, login, database, clock, monkeypatch
) -> None:
    ref = report_with_id(client, login, "req-report-4")
    headers = login(ALICE) | {"X-Request-ID": "req-upload-1"}
    response = upload(client, headers, ref, samples.TOMCAT_APP.encode())
    assert response.status_code == 201, response.text
    with database.session(read_only=True) as db:
        (analysis,) = db.scalars(select(LogAnalysis)).all()
        assert analysis.request_id == "req-upload-1"

    seen: list[str | None] = []
    original = log_jobs._run

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(current_request_id())
        return original(*args, **kwargs)

    monkeypatch.setattr(log_jobs, "_run", watched)
    clock.advance(seconds=5)
    assert log_jobs.analyse_pending(database, clock.now, app.state.storage, clock=clock) == 1
    assert seen == ["req-upload-1"]
    assert current_request_id() is None
