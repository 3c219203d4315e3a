"""The property the knowledge base rests on: whatever a case says — in its description, its
outcomes, its root cause, or the comments an author pastes into the write-up — no known
organisation name and no e-mail address survives into the article that is published."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from critdesk.article import service
from critdesk.auth.models import User
from critdesk.case import service as cases
from critdesk.case.rules import Impact
from critdesk.comment import service as comments
from critdesk.organisation.models import Environment, Organisation

ORGANISATIONS = ("Northwind Insurance", "Contoso Health", "Fabrikam Retail", "Tailspin Travel")
EMAILS = (
    "alice@northwind.example",
    "bob@northwind.example",
    "carol@contoso.example",
    "dan@fabrikam.example",
    "erin@tailspin.example",
)
FILLER = ("the pool", "HTTP 503", "after the deployment", "see", "and", "10.4.2", "nw-prod", ":")
SEPARATORS = (" ", " ", ", ", "\n", "\n\n", " (", ") ", ": ", "'s ", "/", "")

cased = st.sampled_from((str, str.upper, str.lower, str.title))
organisation = st.builds(lambda name, case: case(name), st.sampled_from(ORGANISATIONS), cased)
address = st.builds(lambda email, case: case(email), st.sampled_from(EMAILS), cased)
unknown_address = st.builds(
    "{}@{}.example".format,
    st.text("abcdefghijklmnopqrstuvwxyz.", min_size=1, max_size=8).filter(
        lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
    ),
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
)
fragment = st.one_of(organisation, address, unknown_address, st.sampled_from(FILLER))


@st.composite
def texts(draw: Any, min_size: int = 1) -> str:
    parts = draw(st.lists(fragment, min_size=min_size, max_size=10))
    out = []
    for part in parts:
        out.append(part)
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out).strip() or "the pool"


def _user(db: Any, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


def _write_up(database: Any, clock: Any, case_text: dict[str, str], pasted: str) -> int:
    """A Northwind case with these texts, resolved, written up, approved by a second
    engineer and published; returns the article's id."""
    now = clock.advance(minutes=1)
    with database.session() as db:
        alice, eng1, eng2 = (
            _user(db, e) for e in (EMAILS[0], "eng1@vendor.example", "eng2@vendor.example")
        )
        environment = db.scalar(select(Environment).where(Environment.name == "nw-prod"))
        new = cases.NewCase(
            title=f"Outage at {case_text['title']}"[:200],
            description=case_text["description"],
            environment_id=environment.id,
            impact=Impact(app_unavailable=True),
            breadth="all_users",
            end_users_blocked=True,
        )
        case = cases.report_case(db=db, reporter=alice, new=new, now=now).case
        cases.start_investigation(db=db, case=case, actor=eng1, now=now)
        comment = comments.add_comment(
            db=db, case=case, actor=alice, body=pasted, internal=False, now=now
        )
        cases.record_root_cause(
            db=db,
            case=case,
            actor=eng1,
            category="configuration",
            summary=case_text["root_cause"],
            product_defect=False,
            evidence=[],
            now=now,
        )
        cases.resolve(
            db=db,
            case=case,
            actor=eng1,
            outcomes=[{"type": "workaround_provided", "text": case_text["outcome"]}],
            now=now,
        )
        article = service.create_from_case(db=db, case=case, actor=eng1, changes={}, now=now)
        # The author pastes what the customer wrote in a comment into the write-up.
        service.update(
            db=db,
            article=article,
            actor=eng1,
            changes={"resolution": f"{article.resolution}\n\n{comment.message}"},
            now=now + timedelta(seconds=1),
        )
        service.submit(db=db, article=article, actor=eng1, now=now)
        service.approve(db=db, article=article, actor=eng2, now=now)
        service.publish(db=db, article=article, actor=eng1, now=now, base_url="http://desk")
        return article.id


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case_text=st.fixed_dictionaries(
        {
            "title": organisation,
            "description": texts(),
            "root_cause": texts(),
            "outcome": texts(),
        }
    ),
    pasted=texts(),
)
def test_no_known_name_or_address_survives_publication(
    database, clock, demo, case_text: dict[str, str], pasted: str
) -> None:
    article_id = _write_up(database, clock, case_text, pasted)
    with database.session(read_only=True) as db:
        article = db.get(service.Article, article_id)
        names = [n.casefold() for n in db.scalars(select(Organisation.name))]
        emails = [e.casefold() for e in db.scalars(select(User.email))]
        published = "\n".join(
            [
                article.published_title or "",
                article.published_body or "",
                *(str(v) for v in (article.published_sections or {}).values()),
            ]
        ).casefold()
    assert article.state == "published"
    assert [n for n in names if n in published] == []
    assert [e for e in emails if e in published] == []
    assert "@" not in published.replace("[email", "")
