"""Bug report routes: thin; customers get public fields, staff the whole report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from critdesk.auth.deps import CurrentUser
from critdesk.auth.models import User
from critdesk.bug import rules, schemas, service
from critdesk.bug.models import Bug, format_key
from critdesk.case import service as cases
from critdesk.web import DbSession, Now, Page, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["bugs"])


def bug_view(db: Session, viewer: User, bug: Bug, now: Any) -> dict[str, Any]:
    target = service.active_target(db, bug, now)
    linked = service.linked_cases(db=db, bug=bug, viewer=viewer)
    if viewer.is_customer:
        return schemas.public_view(bug, target, linked)
    missing = rules.missing_fields(service.report_fields(bug))
    duplicate = format_key(bug.duplicate_of_id) if bug.duplicate_of_id else None
    return schemas.full_view(bug, target, linked, missing, duplicate)


@router.get("/bugs", response_model=schemas.BugPage)
def list_bugs(
    db: DbSession,
    user: CurrentUser,
    now: Now,
    page: Page,
    state: schemas.State | None = None,
    severity: schemas.Severity | None = None,
    product: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    filters = service.BugFilters(state=state, severity=severity, product=product, text=q)
    rows, next_id = service.list_bugs(
        db=db, viewer=user, filters=filters, limit=page.limit, before_id=page.cursor_int()
    )
    return {
        "items": [bug_view(db, user, b, now) for b in rows],
        "next_cursor": encode_cursor(next_id),
    }


@router.get("/bugs/similar", response_model=schemas.SimilarOut)
def similar_bugs(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    text: Annotated[str, Query(min_length=1, max_length=20_000)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    finder = request.app.state.similar
    return {"items": finder.similar(db=db, viewer=user, text=text, limit=limit)}


@router.post("/bugs", response_model=schemas.BugOut, status_code=201)
def create_bug(body: schemas.BugIn, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    fields = body.model_dump(exclude={"submit"})
    bug = service.create_bug(db=db, actor=user, fields=fields, submit=body.submit, now=now)
    return bug_view(db, user, bug, now)


@router.get("/bugs/{key}", response_model=schemas.BugOut | schemas.BugPublicOut)
def get_bug(key: str, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    return bug_view(db, user, service.get_bug(db=db, viewer=user, key=key), now)


@router.patch("/bugs/{key}", response_model=schemas.BugOut)
def update_bug(
    key: str, body: schemas.BugUpdate, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    bug = service.get_bug(db=db, viewer=user, key=key)
    changes = body.model_dump(exclude_unset=True)
    return bug_view(
        db, user, service.update_bug(db=db, bug=bug, actor=user, changes=changes, now=now), now
    )


@router.post("/bugs/{key}/submit", response_model=schemas.BugOut)
def submit_bug(key: str, db: DbSession, user: CurrentUser, now: Now) -> dict[str, Any]:
    bug = service.get_bug(db=db, viewer=user, key=key)
    return bug_view(db, user, service.submit_bug(db=db, bug=bug, actor=user, now=now), now)


@router.post("/bugs/{key}/state", response_model=schemas.BugOut)
def change_state(
    key: str, body: schemas.StateIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    bug = service.get_bug(db=db, viewer=user, key=key)
    service.change_state(
        db=db,
        bug=bug,
        actor=user,
        state=body.state,
        now=now,
        fix_version=body.fix_version,
        duplicate_of=body.duplicate_of,
    )
    return bug_view(db, user, bug, now)


@router.get("/bug-fix-policy", response_model=list[schemas.PolicyEntry])
def get_policy(db: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    return [service.policy_dict(p) for p in service.policy(db=db)]


@router.put("/bug-fix-policy", response_model=list[schemas.PolicyEntry])
def set_policy(
    body: list[schemas.PolicyEntry], db: DbSession, user: CurrentUser, now: Now
) -> list[dict[str, Any]]:
    entries = [rules.FixPolicy(e.severity, e.target, e.days, e.description) for e in body]
    service.set_policy(db=db, actor=user, entries=entries, now=now)
    return [service.policy_dict(p) for p in entries]


@router.get("/cases/{ref}/bugs", response_model=list[schemas.BugOut | schemas.BugPublicOut])
def case_bugs(ref: str, db: DbSession, user: CurrentUser, now: Now) -> list[dict[str, Any]]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    return [bug_view(db, user, b, now) for b in service.bugs_of_case(db=db, case=case, viewer=user)]


@router.get("/cases/{ref}/bugs/draft", response_model=dict[str, Any])
def draft_from_case(ref: str, db: DbSession, user: CurrentUser) -> dict[str, Any]:
    """A bug report pre-filled with everything the case knows, to complete and submit."""
    case = cases.get_case(db=db, viewer=user, ref=ref)
    return service.draft_from_case(db=db, case=case, viewer=user)


@router.post(
    "/cases/{ref}/bugs", response_model=schemas.BugOut | schemas.BugPublicOut, status_code=201
)
def link_bug(
    ref: str, body: schemas.LinkIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    bug = service.get_bug(db=db, viewer=user, key=body.bug)
    service.link_case(db=db, bug=bug, case=case, actor=user, now=now)
    return bug_view(db, user, bug, now)


@router.post("/cases/{ref}/bugs/new", response_model=schemas.BugOut, status_code=201)
def create_from_case(
    ref: str, body: schemas.BugFromCaseIn, db: DbSession, user: CurrentUser, now: Now
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    fields = service.draft_from_case(db=db, case=case, viewer=user)
    fields.pop("case")
    fields |= body.model_dump(exclude_unset=True, exclude={"submit"})
    if body.environment is not None:
        fields["environment"] = body.environment.model_dump(exclude_none=True)
    bug = service.create_bug(db=db, actor=user, fields=fields, submit=body.submit, now=now)
    service.link_case(db=db, bug=bug, case=case, actor=user, now=now)
    return bug_view(db, user, bug, now)


@router.delete("/cases/{ref}/bugs/{key}", status_code=204)
def unlink_bug(ref: str, key: str, db: DbSession, user: CurrentUser, now: Now) -> None:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    bug = service.get_bug(db=db, viewer=user, key=key)
    service.unlink_case(db=db, bug=bug, case=case, actor=user, now=now)
