"""Article routes: thin. Customers get published articles only, as published (redacted); staff
get the whole article, its redaction preview and the review actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from critdesk.adapters.forum import Forum, ForumError, forum_from_settings
from critdesk.article import kb, rules, schemas, service
from critdesk.article.models import Article
from critdesk.auth.deps import CurrentUser
from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.config import Settings
from critdesk.errors import error_body
from critdesk.execution import offload, run_sync
from critdesk.web import AppSettings, DbSession, Now, Page, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["articles"])

Term = Annotated[str, Query(min_length=2, max_length=200)]


def article_view(db: Session, viewer: User, article: Article, settings: Settings) -> dict[str, Any]:
    if not service.sees_drafts(db, viewer, article):
        return schemas.public_view(article, base_url=settings.base_url)
    return schemas.full_view(
        article,
        case_ref=service.case_ref(article),
        organisation=service.organisation_name(article),
        bug_key=service.bug_key(article),
        base_url=settings.base_url,
    )


def _offset(page: Any) -> int:
    return page.cursor_int() or 0


@router.get("/articles", response_model=schemas.ArticlePage)
def list_articles(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    settings: AppSettings,
    page: Page,
    state: schemas.State | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Newest first; with ``q``, published articles ranked by the knowledge base search
    (staff looking for drafts by title: ``q`` with a ``state`` other than published)."""
    text = (q or "").strip()
    ranked = text and (user.is_customer or state in (None, "published"))
    if ranked:
        if state not in (None, "published"):
            return {"items": [], "next_cursor": None}
        offset = _offset(page)
        similar = request.app.state.similar
        found, more = kb.search(
            db=db,
            engine=similar.engine,
            sync=similar.sync,
            text=text,
            limit=page.limit,
            offset=offset,
        )
        items = [article_view(db, user, f.article, settings) for f in found]
        return {"items": items, "next_cursor": encode_cursor(offset + page.limit) if more else None}
    filters = service.ArticleFilters(state=state, text=text or None)
    rows, next_id = service.list_articles(
        db=db, viewer=user, filters=filters, limit=page.limit, before_id=page.cursor_int()
    )
    return {
        "items": [article_view(db, user, a, settings) for a in rows],
        "next_cursor": encode_cursor(next_id),
    }


@router.post("/articles", response_model=schemas.ArticleOut, status_code=201)
def create_article(
    body: schemas.ArticleCreate, db: DbSession, user: CurrentUser, now: Now, settings: AppSettings
) -> dict[str, Any]:
    """A draft from a resolved case (``case``: its ref), pre-filled from what the case knows."""
    case = cases.get_case(db=db, viewer=user, ref=body.case)
    changes = body.model_dump(exclude_unset=True, exclude={"case"})
    article = service.create_from_case(db=db, case=case, actor=user, changes=changes, now=now)
    return article_view(db, user, article, settings)


@router.post("/cases/{ref}/article", response_model=schemas.ArticleOut, status_code=201)
def create_from_case(
    ref: str,
    body: schemas.ArticleChanges,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
) -> dict[str, Any]:
    case = cases.get_case(db=db, viewer=user, ref=ref)
    changes = body.model_dump(exclude_unset=True)
    article = service.create_from_case(db=db, case=case, actor=user, changes=changes, now=now)
    return article_view(db, user, article, settings)


@router.get("/articles/{article_id}", response_model=schemas.ArticleOut | schemas.ArticlePublicOut)
def get_article(
    article_id: str, db: DbSession, user: CurrentUser, settings: AppSettings
) -> dict[str, Any]:
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    return article_view(db, user, article, settings)


@router.put("/articles/{article_id}", response_model=schemas.ArticleOut)
def update_article(
    article_id: str,
    body: schemas.ArticleChanges,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
) -> dict[str, Any]:
    """Changes the fields sent; an approved article goes back to review."""
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    changes = body.model_dump(exclude_unset=True)
    service.update(db=db, article=article, actor=user, changes=changes, now=now)
    return article_view(db, user, article, settings)


@router.get("/articles/{article_id}/preview", response_model=schemas.PreviewOut)
def preview_article(
    article_id: str,
    db: DbSession,
    user: CurrentUser,
    settings: AppSettings,
    extra: Annotated[list[str] | None, Query(max_length=200)] = None,
    allow: Annotated[list[str] | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The text as it would be published now, every replacement with its category, reason
    and original; ``extra``/``allow`` try other decisions without saving them."""
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    result, publication = service.preview(
        db=db,
        article=article,
        viewer=user,
        base_url=settings.base_url,
        extra=_terms(extra),
        allow=_terms(allow),
    )
    return preview_view(article, result, publication, extra=extra, allow=allow)


def _terms(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip()[:200] for v in values if len(v.strip()) >= 2]


def preview_view(
    article: Article,
    result: rules.RedactedArticle,
    publication: rules.Publication,
    *,
    extra: list[str] | None = None,
    allow: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "id": article.id,
        "state": article.state,
        "sections": [
            {
                "name": section.name,
                "label": rules.SECTION_LABELS[section.name],
                "text": section.text,
                "replacements": [
                    {
                        "category": m.category,
                        "placeholder": m.placeholder,
                        "reason": m.reason,
                        "original": m.original,
                        "start": m.start,
                        "end": m.end,
                    }
                    for m in section.marks
                ],
            }
            for section in result.sections
        ],
        "body": publication.body,
        "forced": list(result.forced),
        "redact_extra": _terms(extra) if extra is not None else list(article.redact_extra),
        "redact_allow": _terms(allow) if allow is not None else list(article.redact_allow),
    }


@router.post("/articles/{article_id}/submit", response_model=schemas.ArticleOut)
def submit_article(
    article_id: str, db: DbSession, user: CurrentUser, now: Now, settings: AppSettings
) -> dict[str, Any]:
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    service.submit(db=db, article=article, actor=user, now=now)
    return article_view(db, user, article, settings)


@router.post("/articles/{article_id}/approve", response_model=schemas.ArticleOut)
def approve_article(
    article_id: str, db: DbSession, user: CurrentUser, now: Now, settings: AppSettings
) -> dict[str, Any]:
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    service.approve(db=db, article=article, actor=user, now=now)
    return article_view(db, user, article, settings)


@router.post("/articles/{article_id}/reject", response_model=schemas.ArticleOut)
def reject_article(
    article_id: str,
    body: schemas.RejectIn,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
) -> dict[str, Any]:
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    service.reject(db=db, article=article, actor=user, comment=body.comment, now=now)
    return article_view(db, user, article, settings)


@router.post("/articles/{article_id}/publish", response_model=schemas.ArticleOut)
def publish_article(
    article_id: str, db: DbSession, user: CurrentUser, now: Now, settings: AppSettings
) -> dict[str, Any]:
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    service.publish(db=db, article=article, actor=user, now=now, base_url=settings.base_url)
    return article_view(db, user, article, settings)


@router.post("/articles/{article_id}/unpublish", response_model=schemas.ArticleOut)
def unpublish_article(
    article_id: str,
    body: schemas.UnpublishIn,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
) -> dict[str, Any]:
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    service.unpublish(db=db, article=article, actor=user, reason=body.reason, now=now)
    return article_view(db, user, article, settings)


def forum_of(request: Request, settings: Settings) -> Forum | None:
    """The forum the app was given (tests), or the one configured."""
    given = getattr(request.app.state, "forum", None)
    return given if given is not None else forum_from_settings(settings)


async def post_article(
    request: Request, db: Session, user: User, article: Article, now: datetime, settings: Settings
) -> service.ForumOutcome:
    """Posts a published article to the forum (both the API and the page call this).

    The checks read in the request's transaction, which then ends: nothing is held, on SQLite
    not the database's write lock, while the forum answers (up to its timeout), and the call
    waits on a thread, so the worker's loop goes on serving. The outcome is written after."""
    forum = forum_of(request, settings)
    try:
        title, body = await run_sync(
            service.forum_post, db=db, article=article, actor=user, forum=forum
        )
        await run_sync(db.commit)
        assert forum is not None  # forum_post refuses without one
        try:
            topic = await offload(forum.create_topic, title=title, raw=body)
        except ForumError as failure:
            return await run_sync(
                service.forum_failed, db=db, article=article, actor=user, now=now, failure=failure
            )
        return await run_sync(
            service.forum_posted, db=db, article=article, actor=user, now=now, topic=topic
        )
    finally:
        if forum is not None and forum is not getattr(request.app.state, "forum", None):
            forum.close()


@router.post(
    "/articles/{article_id}/forum",
    response_model=schemas.ArticleOut,
    responses={502: {"description": "The forum refused the post or could not be reached"}},
)
async def post_to_forum(
    article_id: str,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    settings: AppSettings,
) -> Any:
    """Opens a forum topic with the published article. A forum failure answers 502
    ``forum_failed``; the article is unchanged but for the failure, which it keeps."""
    article = await run_sync(service.get_article, db=db, viewer=user, article_id=article_id)
    outcome = await post_article(request, db, user, article, now, settings)
    if outcome.error is not None:
        # Returned, not raised: the unit of work commits the recorded failure.
        return JSONResponse(
            error_body("forum_failed", f"the forum did not take {article.key}: {outcome.error}"),
            status_code=502,
        )
    return await run_sync(article_view, db, user, article, settings)
