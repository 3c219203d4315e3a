"""The ASGI application: routers, middleware, templates and error mapping in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from critdesk import __version__, execution
from critdesk.adapters.storage import storage_from_settings
from critdesk.article.api import router as article_router
from critdesk.article.pages import router as article_pages
from critdesk.attachment.api import router as attachment_router
from critdesk.audit.api import router as audit_router
from critdesk.audit.pages import router as audit_pages
from critdesk.aup.api import router as aup_router
from critdesk.auth.api import router as auth_router
from critdesk.availability.api import router as availability_router
from critdesk.bug.api import router as bug_router
from critdesk.bug.similar import SimilarBugs
from critdesk.case.api import router as case_router
from critdesk.cloudaccess.api import router as cloudaccess_router
from critdesk.comment.api import router as comment_router
from critdesk.config import Settings
from critdesk.db import Database, make_engine
from critdesk.db import checkpointer as sqlite_checkpointer
from critdesk.errors import ERROR_RESPONSES
from critdesk.jobs.periodic import EmbeddedRunner
from critdesk.logs.api import router as logs_router
from critdesk.logs.pages import router as logs_pages
from critdesk.notification.api import router as notification_router
from critdesk.observability.health import router as health_router
from critdesk.observability.metrics import HttpMetrics
from critdesk.observability.middleware import RequestObserver
from critdesk.organisation.api import router as organisation_router
from critdesk.package.api import router as package_router
from critdesk.pages import router as pages_router
from critdesk.phone.api import router as phone_router
from critdesk.queue.api import router as queue_router
from critdesk.redaction.api import router as redaction_router
from critdesk.report.api import router as report_router
from critdesk.report.pages import router as report_pages
from critdesk.request.api import router as request_router
from critdesk.screenshare.api import router as screenshare_router
from critdesk.web import BodyLimit, Clock, SecurityHeaders, install_error_handlers, system_clock

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = system_clock,
    database: Database | None = None,
) -> FastAPI:
    settings = settings or Settings()
    execution.use(settings.request_handlers)
    db = database or Database(
        make_engine(
            settings.effective_database_url, pool_size=settings.db_pool_size, echo=settings.log_sql
        )
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner = None
        # The SQLite log is checkpointed off the requests' path (one server process at a time:
        # the others' checkpointers stand by, db.Checkpointer).
        checkpointer = sqlite_checkpointer(db.engine)
        if checkpointer is not None:
            checkpointer.start()
        if settings.search_warmup:
            # Build the similar-bug index in the background: the first searches need not wait.
            app.state.similar.start()
        if settings.embedded_jobs:
            runner = EmbeddedRunner(db, settings, clock, settings.sweep_interval_seconds)
            runner.start()
        # What start-up built lives as long as the process: out of the collector's sight.
        execution.settle_heap()
        yield
        if runner is not None:
            runner.stop()
        if checkpointer is not None:
            checkpointer.stop()
        if database is None:
            db.dispose()

    app = FastAPI(
        title="critdesk",
        version=__version__,
        description="A helpdesk for production-critical issues.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock
    app.state.storage = storage_from_settings(settings)
    app.state.similar = SimilarBugs(
        db, semantic=settings.semantic_search, refresh_seconds=settings.search_refresh_seconds
    )
    install_error_handlers(app)
    # FastAPI tries each router's routes in turn, in this order (about 1 µs a route): the
    # busiest, reporting and the queue, come first.
    for router in (
        case_router,
        queue_router,
        auth_router,
        package_router,
        organisation_router,
        request_router,
        comment_router,
        screenshare_router,
        cloudaccess_router,
        bug_router,
        attachment_router,
        aup_router,
        availability_router,
        phone_router,
        notification_router,
        logs_router,
        logs_pages,
        audit_router,
        audit_pages,
        article_router,
        article_pages,
        report_router,
        report_pages,
        redaction_router,
    ):
        app.include_router(router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.include_router(health_router)

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_json_body_bytes,
        upload_max_bytes=settings.max_upload_bytes,
    )
    # The request id and the timing cover everything inside, refusals and errors included;
    # outermost, the security headers go on every response, our own 500 included.
    app.state.metrics = HttpMetrics(db, clock)
    app.add_middleware(
        RequestObserver,
        metrics=app.state.metrics,
        fastapi_app=app,
    )
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)
    return app
