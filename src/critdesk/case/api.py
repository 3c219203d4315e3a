"""Case routes: thin — parse, call one service function, shape the answer."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.orm import Session

from critdesk.audit.deps import AccessLog
from critdesk.aup import service as aup
from critdesk.auth.deps import CurrentUser
from critdesk.auth.models import User
from critdesk.case import schemas, service
from critdesk.case.models import Case
from critdesk.db import commit_then_read
from critdesk.errors import Invalid
from critdesk.web import AppSettings, DbSession, Id, Now, Page, encode_cursor, view_response

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _new_case(body: schemas.CaseCreate | schemas.CasePreviewIn, channel: str) -> service.NewCase:
    return service.NewCase(
        title=getattr(body, "title", ""),
        description=getattr(body, "description", ""),
        environment_id=body.environment_id,
        impact=body.impact.to_rule(),
        breadth=body.breadth,
        end_users_blocked=body.end_users_blocked,
        channel=channel,
    )


def _detail(db: DbSession, user: User, case: Case, now: Any) -> dict[str, Any]:
    return schemas.detail_view(case, service.timeline(db=db, viewer=user, case=case), now)


@router.post("", response_model=schemas.CaseCreated, status_code=201)
def report_case(
    body: schemas.CaseCreate,
    request: Request,
    response: Response,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any] | Response:
    case, created, events = service.report_case(
        db=db,
        reporter=user,
        new=_new_case(body, body.channel or "web"),
        now=now,
        idempotency_key=idempotency_key,
        rate_limits=aup.case_limits(settings),
    )
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    # The case is committed before anything else is read: on SQLite the write lock is held
    # only for the report itself, not for the search and the rendering below.
    commit_then_read(db)
    if not created:
        # A replay answers with the case as it is now, through the response model.
        detail = schemas.detail_view(case, service.timeline(db=db, viewer=user, case=case), now)
        return detail | {"suggestions": _suggestions(request, db, user, case)}
    return view_response(
        schemas.created_view(case, events, now, _suggestions(request, db, user, case)), 201
    )


def _suggestions(request: Request, db: Session, user: User, case: Case) -> list[dict[str, Any]]:
    """Known issues first: the customer sees public bugs and published knowledge base articles
    like theirs, ranked together by the one search engine. The case is reported whatever
    happens here: a failing search gives no suggestions, not an error."""
    try:
        found = request.app.state.similar.suggestions(
            db=db, viewer=user, text=f"{case.title}\n{case.description}", limit=5
        )
    except Exception:
        log.exception("known-issue suggestions failed for case %s", case.ref)
        db.rollback()
        return []
    # The response model (schemas.Suggestion) keeps the fields a suggestion shows.
    hits: list[dict[str, Any]] = found
    return hits


@router.post("/preview", response_model=schemas.CasePreviewOut)
def preview_case(
    body: schemas.CasePreviewIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    """What intake would decide for these answers, without reporting anything."""
    if user.organisation is None:
        raise Invalid("customers_only", "previews are for a customer's own environments")
    environment = service.own_environment(db, user, body.environment_id)
    return service.preview(
        package=user.organisation.package,
        environment=environment,
        new=_new_case(body, "web"),
        now=now,
    )


@router.get("", response_model=schemas.CasePage)
def list_cases(
    db: DbSession,
    user: CurrentUser,
    now: Now,
    page: Page,
    state: Annotated[
        Literal["new", "investigating", "awaiting_customer", "resolved", "redirected", "closed"]
        | None,
        Query(),
    ] = None,
    severity: schemas.Severity | None = None,
    organisation_id: Id | None = None,
    environment_id: Id | None = None,
    channel: schemas.Channel | None = None,
    qualification: Literal["critical", "not_critical"] | None = None,
    owner: Annotated[str | None, Query(max_length=254, description="an e-mail or 'me'")] = None,
    unassigned: bool = False,
    open: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    owner_id = service.owner_filter(db=db, viewer=user, owner=owner)
    filters = service.CaseFilters(
        state=state,
        severity=severity,
        organisation_id=organisation_id,
        environment_id=environment_id,
        channel=channel,
        qualification=qualification,
        owner_id=owner_id,
        unassigned=unassigned,
        open_only=open,
        text=q,
    )
    cases, next_id = service.list_cases(
        db=db, viewer=user, filters=filters, limit=page.limit, before_id=page.cursor_int()
    )
    return {
        "items": [schemas.summary_view(c, now) for c in cases],
        "next_cursor": encode_cursor(next_id),
    }


@router.get("/{ref}", response_model=schemas.CaseDetail)
def get_case(
    ref: str, db: DbSession, user: CurrentUser, now: Now, access: AccessLog
) -> dict[str, Any]:
    case = service.get_case(db=db, viewer=user, ref=ref)
    detail = _detail(db, user, case, now)
    access.viewed(user, case)  # staff reads go on the organisation's access log
    return detail


def _act(db: DbSession, user: User, ref: str, now: Any, run: Any) -> dict[str, Any]:
    case = service.get_case(db=db, viewer=user, ref=ref)
    run(case)
    db.flush()
    return _detail(db, user, case, now)


@router.post("/{ref}/actions/assign", response_model=schemas.CaseDetail)
def assign(
    ref: str, body: schemas.AssignIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.assign(db=db, case=c, engineer_email=body.engineer, actor=user, now=now),
    )


@router.post("/{ref}/actions/start_investigation", response_model=schemas.CaseDetail)
def start_investigation(
    ref: str, db: DbSession, user: CurrentUser, now: Now, body: schemas.EmptyIn | None = None
) -> dict[str, Any]:
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.start_investigation(db=db, case=c, actor=user, now=now),
    )


@router.post("/{ref}/actions/assess", response_model=schemas.CaseDetail)
def assess(
    ref: str, body: schemas.AssessIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.assess(
            db=db, case=c, severity=body.severity, reason=body.reason, actor=user, now=now
        ),
    )


@router.post("/{ref}/actions/redirect", response_model=schemas.CaseDetail)
def redirect(
    ref: str, body: schemas.RedirectIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.redirect(
            db=db,
            case=c,
            target=body.target,
            message=body.message,
            actor=user,
            now=now,
            links=[str(link) for link in body.links],
            third_party=body.third_party,
        ),
    )


@router.post("/{ref}/actions/resolve", response_model=schemas.CaseDetail)
def resolve(
    ref: str, body: schemas.ResolveIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    outcomes = [o.model_dump() for o in body.outcomes]
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.resolve(db=db, case=c, outcomes=outcomes, actor=user, now=now),
    )


@router.post("/{ref}/actions/close", response_model=schemas.CaseDetail)
def close(
    ref: str, db: DbSession, user: CurrentUser, now: Now, body: schemas.EmptyIn | None = None
) -> dict[str, Any]:
    return _act(db, user, ref, now, lambda c: service.close(db=db, case=c, actor=user, now=now))


@router.post("/{ref}/actions/reopen", response_model=schemas.CaseDetail)
def reopen(
    ref: str,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
    body: schemas.ReopenIn | None = None,
) -> dict[str, Any]:
    reason = body.reason if body else ""
    window = timedelta(days=settings.reopen_window_days)
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.reopen(db=db, case=c, actor=user, now=now, reason=reason, window=window),
    )


@router.post("/{ref}/actions/confirm", response_model=schemas.CaseDetail)
def confirm(
    ref: str, db: DbSession, user: CurrentUser, now: Now, body: schemas.EmptyIn | None = None
) -> dict[str, Any]:
    """The customer confirms that the resolution works; the case closes."""
    return _act(db, user, ref, now, lambda c: service.confirm(db=db, case=c, actor=user, now=now))


@router.put("/{ref}/root-cause", response_model=schemas.CaseDetail)
def record_root_cause(
    ref: str, body: schemas.RootCauseIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    evidence = [e.model_dump() for e in body.evidence]
    return _act(
        db,
        user,
        ref,
        now,
        lambda c: service.record_root_cause(
            db=db,
            case=c,
            actor=user,
            category=body.category,
            summary=body.summary,
            product_defect=body.product_defect,
            evidence=evidence,
            now=now,
        ),
    )
