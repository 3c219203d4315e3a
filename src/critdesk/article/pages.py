"""Article pages: the knowledge base every signed-in user reads (``/kb``: search, results, an
article as published), and the staff's authoring and review pages (``/articles``: the list and
review queue, one article with its edit form, the redaction preview with every replacement
highlighted, the decisions to adjust it, and the review actions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from critdesk.article import kb, rules, schemas, service
from critdesk.article.api import post_article
from critdesk.article.models import Article
from critdesk.auth.models import User
from critdesk.auth.pages import Form, PageUser, field
from critdesk.case import service as cases
from critdesk.case.pages import checked, run_form
from critdesk.config import Settings
from critdesk.errors import DomainError, Forbidden, NotFound
from critdesk.execution import run_sync
from critdesk.redaction.rules import KnownTerms
from critdesk.templating import render, sentence, set_flash
from critdesk.web import AppSettings, DbSession, Now, Pagination, encode_cursor

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
STATE_TABS = (
    ("", "All"),
    ("draft", "Drafts"),
    ("in_review", "Review queue"),
    ("approved", "Approved"),
    ("published", "Published"),
    ("withdrawn", "Withdrawn"),
)


def _require_staff(user: User) -> None:
    if user.is_customer:
        raise Forbidden("staff_only", "articles are written and reviewed by the vendor's staff")


# --- the knowledge base -----------------------------------------------------------------------


def kb_context(
    *, db: Session, request: Request, viewer: User, q: str, cursor: str | None
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    offset = Pagination(limit=PAGE_SIZE, cursor=cursor).cursor_int()
    if q:
        similar = request.app.state.similar
        found, more = kb.search(
            db=db,
            engine=similar.engine,
            sync=similar.sync,
            text=q,
            limit=PAGE_SIZE,
            offset=offset or 0,
        )
        rows = [f.article for f in found]
        next_cursor = encode_cursor((offset or 0) + PAGE_SIZE) if more else None
    else:
        filters = service.ArticleFilters(state="published")
        rows, next_id = service.list_articles(
            db=db, viewer=viewer, filters=filters, limit=PAGE_SIZE, before_id=offset
        )
        next_cursor = encode_cursor(next_id)
    return {
        "page_title": "Knowledge base",
        "q": q,
        "results": [schemas.public_view(a, base_url=settings.base_url) for a in rows],
        "next_cursor": next_cursor,
        "can_author": viewer.role in cases.HANDLER_ROLES,
        "category_labels": rules.ROOT_CAUSE_LABELS,
    }


@router.get("/kb")
def kb_search(
    request: Request,
    db: DbSession,
    user: PageUser,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    context = kb_context(db=db, request=request, viewer=user, q=(q or "").strip(), cursor=cursor)
    return render(request, "article/kb.html", context)


@router.get("/kb/{article_id}")
def kb_article(
    request: Request, article_id: str, db: DbSession, user: PageUser, settings: AppSettings
) -> HTMLResponse:
    """A published article, as published — for everyone, staff included."""
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    if article.state != "published":
        raise NotFound("article")
    context = {
        "page_title": article.published_title,
        "article": schemas.public_view(article, base_url=settings.base_url),
        "sections": [
            (rules.SECTION_LABELS[name], name)
            for name in ("symptoms", "affected_versions", "root_cause", "resolution")
        ],
        "category_labels": rules.ROOT_CAUSE_LABELS,
        "can_author": user.role in cases.HANDLER_ROLES,
    }
    return render(request, "article/kb_article.html", context)


# --- authoring and review ---------------------------------------------------------------------


@router.get("/articles")
def article_list(
    request: Request,
    db: DbSession,
    user: PageUser,
    state: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    _require_staff(user)
    chosen = state if state in rules.STATES else None
    rows, next_id = service.list_articles(
        db=db,
        viewer=user,
        filters=service.ArticleFilters(state=chosen),
        limit=PAGE_SIZE,
        before_id=Pagination(limit=PAGE_SIZE, cursor=cursor).cursor_int(),
    )
    counts = service.counts_by_state(db=db, viewer=user)
    context = {
        "page_title": "Review queue" if chosen == "in_review" else "Articles",
        "rows": [_row(a) for a in rows],
        "state": chosen or "",
        "tabs": [
            (value, name, counts.get(value, 0) if value else sum(counts.values()))
            for value, name in STATE_TABS
        ],
        "next_cursor": encode_cursor(next_id),
        "can_author": user.role in cases.HANDLER_ROLES,
        "case_ref": request.query_params.get("case", "")[:20],
    }
    return render(request, "article/list.html", context)


def _row(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "key": article.key,
        "title": article.title,
        "state": article.state,
        "case": service.case_ref(article),
        "author": article.author.name,
        "updated_at": article.updated_at,
    }


@router.post("/articles/new")
def new_article(
    db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    """A draft from the case named in the form; back to the list with the refusal if not."""
    ref = field(form, "case", 20).strip()
    try:
        case = cases.get_case(db=db, viewer=user, ref=ref)
        article = service.create_from_case(db=db, case=case, actor=user, changes={}, now=now)
        db.flush()
    except DomainError as refusal:
        db.rollback()
        return _flashed("/articles", "error", sentence(refusal.message), settings)
    message = f"{article.key} drafted from {case.ref}: anonymise it, then submit it for review."
    return _flashed(f"/articles/{article.id}", "success", message, settings)


def _flashed(to: str, kind: str, message: str, settings: Settings) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    set_flash(response, kind, message, secure=settings.secure_cookies)
    return response


def editor_context(
    *, db: Session, viewer: User, article: Article, settings: Settings
) -> dict[str, Any]:
    view = schemas.full_view(
        article,
        case_ref=service.case_ref(article),
        organisation=service.organisation_name(article),
        bug_key=service.bug_key(article),
        base_url=settings.base_url,
    )
    handler = viewer.role in cases.HANDLER_ROLES
    preview, refusal = None, None
    if handler:
        try:
            terms = service.known(db, article)
            result, publication = service.preview(
                db=db, article=article, viewer=viewer, base_url=settings.base_url, terms=terms
            )
            preview = _preview(terms, result, publication)
        except DomainError as refused:
            refusal = sentence(refused.message)
    is_reviewer = handler and rules.may_approve(
        reviewer_id=viewer.id,
        author_id=article.author_id,
        last_editor_id=article.last_edited_by_id,
    )
    return {
        "page_title": f"{article.key} · {article.title}",
        "a": view,
        "editable": handler and article.state in rules.AFTER_EDIT,
        # The review actions this state allows (rules.TRANSITIONS decides, not the template).
        "actions": {n for n, (sources, _) in rules.TRANSITIONS.items() if article.state in sources},
        "is_handler": handler,
        "is_reviewer": is_reviewer,
        "is_lead": viewer.role in service.LEAD_ROLES,
        "preview": preview,
        "preview_refusal": refusal,
        "categories": list(rules.ROOT_CAUSE_LABELS.items()),
        "forum_configured": forum_of_settings(settings),
    }


def forum_of_settings(settings: Settings) -> bool:
    return bool(settings.forum_url and settings.forum_api_key is not None)


def _preview(
    terms: KnownTerms, result: rules.RedactedArticle, publication: rules.Publication
) -> dict[str, Any]:
    """Sections as highlighted pieces, and each distinct replacement once, with whether its
    original may be kept (names of organisations and e-mail addresses may not)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for section in result.sections:
        for mark in section.marks:
            seen.setdefault(
                (mark.placeholder, mark.original),
                {
                    "placeholder": mark.placeholder,
                    "original": mark.original,
                    "category": mark.category,
                    "reason": mark.reason,
                    "may_keep": not rules.refused_allowances(
                        [mark.original], terms.organisations, terms.emails
                    ),
                },
            )
    return {
        "sections": [
            {
                "label": rules.SECTION_LABELS[s.name],
                "name": s.name,
                "segments": rules.segments(s),
            }
            for s in result.sections
        ],
        "replacements": list(seen.values()),
        "forced": list(result.forced),
        "body": publication.body,
    }


@router.get("/articles/{article_id}")
def article_editor(
    request: Request, article_id: str, db: DbSession, user: PageUser, settings: AppSettings
) -> HTMLResponse:
    _require_staff(user)
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    context = editor_context(db=db, viewer=user, article=article, settings=settings)
    return render(request, "article/edit.html", context)


def _act(
    article_id: str, db: Session, user: User, settings: Settings, act: Callable[[Article], str]
) -> RedirectResponse:
    _require_staff(user)
    article = service.get_article(db=db, viewer=user, article_id=article_id)
    return run_form(
        db=db, settings=settings, to=f"/articles/{article.id}", run=lambda: act(article)
    )


@router.post("/articles/{article_id}")
def save_article(
    article_id: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    def act(article: Article) -> str:
        versions = [v.strip() for v in field(form, "affected_versions", 2000).split(",")]
        body = checked(
            schemas.ArticleChanges,
            {
                "title": field(form, "title", 400),
                "symptoms": field(form, "symptoms"),
                "affected_versions": [v for v in versions if v],
                "root_cause_category": field(form, "root_cause_category", 30) or None,
                "root_cause": field(form, "root_cause"),
                "resolution": field(form, "resolution"),
                "bug": field(form, "bug", 20).strip() or None,
            },
        )
        before = article.state
        service.update(db=db, article=article, actor=user, changes=body.model_dump(), now=now)
        if before == "approved" and article.state == "in_review":
            return f"{article.key} saved; it changed after approval, so it is back in review."
        return f"{article.key} saved."

    return _act(article_id, db, user, settings, act)


@router.post("/articles/{article_id}/redaction")
def adjust_redaction(
    article_id: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    """One decision: redact a further term, keep an original, or undo either."""

    def act(article: Article) -> str:
        term = " ".join(field(form, "term", 200).split())
        choice = field(form, "decision", 10)
        extra, allow = list(article.redact_extra), list(article.redact_allow)
        if choice == "extra":
            extra.append(term)
        elif choice == "allow":
            allow.append(term)
        elif choice == "unextra":
            extra = [t for t in extra if t != term]
        elif choice == "unallow":
            allow = [t for t in allow if t != term]
        body = checked(schemas.ArticleChanges, {"redact_extra": extra, "redact_allow": allow})
        changes = body.model_dump(exclude_unset=True)
        service.update(db=db, article=article, actor=user, changes=changes, now=now)
        return {
            "extra": f"“{term}” will be redacted.",
            "allow": f"“{term}” will be kept as written.",
            "unextra": f"“{term}” is no longer redacted on request.",
            "unallow": f"“{term}” is redacted again.",
        }.get(choice, "Nothing changed.")

    return _act(article_id, db, user, settings, act)


def _transition(name: str, done: str) -> Callable[..., RedirectResponse]:
    def handler(
        article_id: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings
    ) -> RedirectResponse:
        def act(article: Article) -> str:
            getattr(service, name)(db=db, article=article, actor=user, now=now)
            return done.format(key=article.key)

        return _act(article_id, db, user, settings, act)

    handler.__name__ = f"{name}_article"
    return handler


router.post("/articles/{article_id}/submit")(
    _transition("submit", "{key} is in the review queue; another engineer or lead approves it.")
)
router.post("/articles/{article_id}/approve")(
    _transition("approve", "{key} approved; it may now be published.")
)


@router.post("/articles/{article_id}/reject")
def reject_article(
    article_id: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    def act(article: Article) -> str:
        body = checked(schemas.RejectIn, {"comment": field(form, "comment", 5000)})
        service.reject(db=db, article=article, actor=user, comment=body.comment, now=now)
        return f"{article.key} sent back to its author with your comment."

    return _act(article_id, db, user, settings, act)


@router.post("/articles/{article_id}/publish")
def publish_article(
    article_id: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings
) -> RedirectResponse:
    def act(article: Article) -> str:
        service.publish(db=db, article=article, actor=user, now=now, base_url=settings.base_url)
        return f"{article.key} is published in the knowledge base, redacted as previewed."

    return _act(article_id, db, user, settings, act)


@router.post("/articles/{article_id}/unpublish")
def unpublish_article(
    article_id: str, db: DbSession, user: PageUser, now: Now, settings: AppSettings, form: Form
) -> RedirectResponse:
    def act(article: Article) -> str:
        body = checked(schemas.UnpublishIn, {"reason": field(form, "reason", 2000)})
        service.unpublish(db=db, article=article, actor=user, reason=body.reason, now=now)
        return f"{article.key} withdrawn from the knowledge base."

    return _act(article_id, db, user, settings, act)


@router.post("/articles/{article_id}/forum")
async def forum_article(
    request: Request,
    article_id: str,
    db: DbSession,
    user: PageUser,
    now: Now,
    settings: AppSettings,
) -> RedirectResponse:
    """Posts to the forum; a forum failure is kept on the article (committed) and shown."""
    _require_staff(user)
    article = await run_sync(service.get_article, db=db, viewer=user, article_id=article_id)
    to = f"/articles/{article.id}"
    try:
        outcome = await post_article(request, db, user, article, now, settings)
    except DomainError as refusal:
        await run_sync(db.rollback)
        return _flashed(to, "error", sentence(refusal.message), settings)
    if outcome.error is not None:
        return _flashed(
            to, "error", f"The forum did not take {article.key}: {outcome.error}", settings
        )
    return _flashed(to, "success", f"{article.key} is on the community forum.", settings)
