"""Articles over the API: drafted from a resolved case, reviewed by a second person, published
redacted; customers read published articles only, and never another organisation's case."""

from __future__ import annotations

from sqlalchemy import select

from critdesk.audit.models import AuditEvent
from critdesk.case.schemas import CaseCreated
from tests.article.conftest import ENG2, LEAKY_DESCRIPTION, draft, published, step
from tests.bug.test_api import file_bug
from tests.case.test_api import ALICE, AM, BOB, CAROL, ENG1, LEAD, report

NAMES = ("northwind insurance", "alice@northwind.example", "bob@northwind.example")


def _leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [name for name in NAMES if name in folded]


def test_a_draft_is_prefilled_from_the_resolved_case(client, login, case_ref) -> None:
    bug = file_bug(client, login(ENG1), public=True, title="Pool sizing known issue")
    private = file_bug(client, login(ENG1), title="Internal pool defect")
    for key in (private["key"], bug["key"]):
        linked = client.post(
            f"/api/v1/cases/{case_ref}/bugs", headers=login(ENG1), json={"bug": key}
        )
        assert linked.status_code == 201
    article = draft(client, login, case_ref)
    assert article["state"] == "draft"
    assert article["case"] == case_ref
    assert article["organisation"] == "Northwind Insurance"
    assert article["title"] == "Checkout fails for everyone"
    assert article["symptoms"] == LEAKY_DESCRIPTION
    assert article["affected_versions"] == ["10.4.2"]
    assert article["root_cause_category"] == "configuration"
    assert article["root_cause"].startswith("The connection pool")
    assert "Workaround: Raise the pool size to 50." in article["resolution"]
    assert "Resolution: Write to bob@northwind.example." in article["resolution"]
    # Only a public bug is linked, never the internal one.
    assert article["bug"]["key"] == bug["key"]
    assert article["author"] == ENG1 and article["published"] is None


def test_only_a_resolved_case_is_written_up(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    response = client.post(f"/api/v1/cases/{ref}/article", headers=login(ENG1), json={})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "case_not_resolved"


def test_customers_may_neither_write_nor_review(client, login, case_ref) -> None:
    own = client.post(f"/api/v1/cases/{case_ref}/article", headers=login(ALICE), json={})
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "engineers_only"
    other = client.post(f"/api/v1/cases/{case_ref}/article", headers=login(CAROL), json={})
    assert other.status_code == 404
    created = client.post("/api/v1/articles", headers=login(ALICE), json={"case": case_ref})
    assert created.status_code == 403
    article = draft(client, login, case_ref)
    step(client, login, article["id"], "submit", ENG1)
    for who in (ALICE, BOB):
        refused = step(client, login, article["id"], "approve", who)
        assert refused.status_code == 404  # an unpublished article does not exist for them
    assert step(client, login, article["id"], "approve", AM).status_code == 403


def test_self_approval_is_refused(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    assert step(client, login, article["id"], "submit", ENG1).status_code == 200
    refused = step(client, login, article["id"], "approve", ENG1)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "self_approval"
    # Whoever last changed the text does not approve it either.
    edited = client.put(
        f"/api/v1/articles/{article['id']}", headers=login(ENG2), json={"title": "Pool too small"}
    )
    assert edited.json()["state"] == "in_review"
    assert step(client, login, article["id"], "approve", ENG2).status_code == 403
    approved = step(client, login, article["id"], "approve", LEAD)
    assert approved.status_code == 200, approved.text
    assert approved.json()["reviewer"] == LEAD


def test_unapproved_articles_are_never_published(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    for state_action in (None, "submit"):
        if state_action:
            assert step(client, login, article["id"], state_action, ENG1).status_code == 200
        refused = step(client, login, article["id"], "publish", ENG2)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "not_approved"
    seen = client.get(f"/api/v1/articles/{article['id']}", headers=login(ENG1)).json()
    assert seen["published"] is None and seen["state"] == "in_review"


def test_editing_an_approved_article_sends_it_back_to_review(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    step(client, login, article["id"], "submit", ENG1)
    step(client, login, article["id"], "approve", ENG2)
    changed = client.put(
        f"/api/v1/articles/{article['id']}",
        headers=login(ENG1),
        json={"resolution": "Raise the pool size to 50 connections."},
    )
    assert changed.status_code == 200
    assert changed.json()["state"] == "in_review"
    assert changed.json()["approved_at"] is None
    refused = step(client, login, article["id"], "publish", ENG1)
    assert refused.status_code == 409


def test_published_text_is_redacted_at_publication(client, login, case_ref) -> None:
    article = published(client, login, case_ref)
    assert article["state"] == "published"
    public = article["published"]
    text = " ".join([public["title"], public["body"], *public["sections"].values()])
    assert _leaks(text) == []
    assert "nw-prod" not in text
    assert "Raise the pool size to 50." in public["sections"]["resolution"]
    assert "10.4.2" in public["sections"]["affected_versions"]
    # The author's text is kept as written, for staff.
    assert "alice@northwind.example" in article["symptoms"]
    # A published article is not edited; it is withdrawn first.
    refused = client.put(
        f"/api/v1/articles/{article['id']}", headers=login(ENG1), json={"title": "Other title"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "invalid_transition"


def test_customers_read_published_articles_only(client, login, case_ref) -> None:
    hidden = draft(client, login, case_ref)
    article = published(client, login, case_ref)
    for who in (ALICE, CAROL):
        headers = login(who)
        assert client.get(f"/api/v1/articles/{hidden['id']}", headers=headers).status_code == 404
        listed = client.get("/api/v1/articles", headers=headers).json()
        assert [a["id"] for a in listed["items"]] == [article["id"]]
        drafts = client.get("/api/v1/articles?state=draft", headers=headers).json()
        assert drafts["items"] == []
        seen = client.get(f"/api/v1/articles/{article['id']}", headers=headers).json()
        assert "case" not in seen and "organisation" not in seen and "symptoms" not in seen
        assert _leaks(str(seen)) == []
    staff = client.get("/api/v1/articles?state=draft", headers=login(ENG1)).json()
    assert [a["id"] for a in staff["items"]] == [hidden["id"]]


def test_knowledge_base_search_finds_published_articles_only(client, login, case_ref) -> None:
    draft(client, login, case_ref, title="Pool exhausted draft nobody published")
    article = published(client, login, case_ref)
    for who in (CAROL, ENG1):
        found = client.get("/api/v1/articles?q=pool exhausted", headers=login(who)).json()
        assert [a["id"] for a in found["items"]] == [article["id"]], who
        private = client.get("/api/v1/articles?q=northwind insurance", headers=login(who))
        assert _leaks(str(private.json())) == []
    drafts = client.get("/api/v1/articles?q=nobody&state=draft", headers=login(ENG1)).json()
    assert len(drafts["items"]) == 1
    assert client.get("/api/v1/articles?q=nobody", headers=login(CAROL)).json()["items"] == []


def test_search_pages_with_a_cursor(client, login) -> None:
    from tests.article.conftest import resolved_case

    ids = {published(client, login, resolved_case(client, login))["id"] for _ in range(3)}
    first = client.get("/api/v1/articles?q=pool&limit=2", headers=login(CAROL)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/api/v1/articles?q=pool&limit=2&cursor={first['next_cursor']}", headers=login(CAROL)
    ).json()
    assert rest["next_cursor"] is None
    assert {a["id"] for a in first["items"] + rest["items"]} == ids


def test_a_withdrawn_article_leaves_the_knowledge_base(client, login, case_ref) -> None:
    article = published(client, login, case_ref)
    path = f"/api/v1/articles/{article['id']}/unpublish"
    refused = client.post(path, headers=login(ENG2), json={"reason": "outdated"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "leads_only"
    withdrawn = client.post(path, headers=login(LEAD), json={"reason": "outdated"})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn" and withdrawn.json()["published"] is None
    assert client.get(f"/api/v1/articles/{article['id']}", headers=login(CAROL)).status_code == 404
    assert client.get("/api/v1/articles?q=pool", headers=login(CAROL)).json()["items"] == []


def test_rejection_returns_a_draft_with_the_comment(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    step(client, login, article["id"], "submit", ENG1)
    empty = step(client, login, article["id"], "reject", ENG2, comment=" ")
    assert empty.status_code == 422
    sent_back = step(client, login, article["id"], "reject", ENG2, comment="Name the version.")
    assert sent_back.status_code == 200
    assert sent_back.json()["state"] == "draft"
    assert sent_back.json()["review_comment"] == "Name the version."


def test_the_preview_locates_every_replacement(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    preview = client.get(f"/api/v1/articles/{article['id']}/preview", headers=login(ENG1))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    symptoms = next(s for s in body["sections"] if s["name"] == "symptoms")
    assert symptoms["replacements"]
    for replacement in symptoms["replacements"]:
        spot = symptoms["text"][replacement["start"] : replacement["end"]]
        assert spot == replacement["placeholder"]
        assert replacement["category"] and replacement["reason"]
    originals = {r["original"] for s in body["sections"] for r in s["replacements"]}
    assert "alice@northwind.example" in originals
    assert _leaks(body["body"]) == []
    tried = client.get(
        f"/api/v1/articles/{article['id']}/preview?extra=claims portal", headers=login(ENG1)
    ).json()
    assert "claims portal" not in str([s["text"] for s in tried["sections"]]).lower()
    assert (
        client.get(f"/api/v1/articles/{article['id']}/preview", headers=login(ALICE)).status_code
        == 404
    )


def test_known_names_and_addresses_cannot_be_kept(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    path = f"/api/v1/articles/{article['id']}"
    for term in ("Northwind Insurance", "alice@northwind.example", "mail someone@else.example"):
        refused = client.put(path, headers=login(ENG1), json={"redact_allow": [term]})
        assert refused.status_code == 422, term
        assert refused.json()["error"]["code"] == "always_redacted"
    tried = client.get(f"{path}/preview?allow=Northwind Insurance", headers=login(ENG1))
    assert tried.status_code == 422
    kept = client.put(
        path, headers=login(ENG1), json={"redact_allow": ["nw-prod"], "redact_extra": ["claims"]}
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["redact_allow"] == ["nw-prod"]
    preview = client.get(f"{path}/preview", headers=login(ENG1)).json()
    symptoms = next(s for s in preview["sections"] if s["name"] == "symptoms")
    assert "nw-prod" in symptoms["text"]
    assert "claims" not in symptoms["text"]


def test_a_linked_bug_must_be_public(client, login, case_ref) -> None:
    article = draft(client, login, case_ref)
    private = file_bug(client, login(ENG1))
    refused = client.put(
        f"/api/v1/articles/{article['id']}", headers=login(ENG1), json={"bug": private["key"]}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "bug_not_public"


def test_every_state_change_is_audited_and_on_the_timeline(
    client, login, case_ref, database
) -> None:
    article = published(client, login, case_ref)
    with database.session() as db:
        actions = list(
            db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "article")
                .order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "article.created",
        "article.submitted",
        "article.approved",
        "article.published",
    ]
    staff = client.get(f"/api/v1/cases/{case_ref}", headers=login(ENG1)).json()["timeline"]
    assert [e["kind"] for e in staff][-2:] == ["article_drafted", "article_published"]
    customer = client.get(f"/api/v1/cases/{case_ref}", headers=login(ALICE)).json()["timeline"]
    kinds = [e["kind"] for e in customer]
    assert "article_drafted" not in kinds and kinds[-1] == "article_published"
    assert article["published"]["title"] in str(customer[-1])


def test_published_articles_join_the_intake_suggestions(client, login, case_ref) -> None:
    draft(client, login, case_ref)
    article = published(client, login, case_ref)
    case = report(
        client,
        login(CAROL),
        env="ch-prod",
        title="Checkout fails for everyone, pool exhausted",
        description="Every checkout answers HTTP 503; the pool is exhausted.",
    )
    articles = [s for s in case["suggestions"] if s["kind"] == "article"]
    assert [s["key"] for s in articles] == [article["key"]]
    assert articles[0]["url"] == f"/kb/{article['id']}"
    assert _leaks(str(case["suggestions"])) == []


def test_a_new_case_answers_every_field_of_its_model_and_nothing_else(
    client, login, case_ref
) -> None:
    """A report's answer is serialised as built (schemas.created_view), not through its response
    model: every field of CaseCreated is there (nulls included) and nothing else is, a bug's and
    an article's suggestions alike, in the model's formats."""
    draft(client, login, case_ref)
    published(client, login, case_ref)
    file_bug(client, login(ENG1), public=True, workaround="Restart the runtime nightly.")
    case = report(
        client,
        login(CAROL),
        env="ch-prod",
        title="Checkout fails for everyone, pool exhausted",
        description="Every checkout answers HTTP 503; the connection pool is exhausted.",
    )
    assert {s["kind"] for s in case["suggestions"]} == {"article", "bug"}
    assert case == CaseCreated.model_validate(case).model_dump(mode="json")


def test_another_process_finds_a_new_publication(client, login, case_ref, database) -> None:
    from critdesk.bug.similar import SimilarBugs

    other = SimilarBugs(database)
    other.sync.rebuild()
    article = published(client, login, case_ref)
    with database.session(read_only=True) as db:
        from critdesk.article import kb

        found, _ = kb.search(
            db=db, engine=other.engine, sync=other.sync, text="pool exhausted", limit=5
        )
    assert [f.article.id for f in found] == [article["id"]]


def test_an_account_manager_sees_drafts_of_their_organisations_only(
    client, login, case_ref, database
) -> None:
    from sqlalchemy import update

    from critdesk.organisation.models import Organisation

    hidden = draft(client, login, case_ref)
    article = published(client, login, case_ref)
    am = login(AM)
    assert client.get(f"/api/v1/articles/{hidden['id']}", headers=am).json()["case"] == case_ref
    with database.session() as db:
        db.execute(
            update(Organisation)
            .where(Organisation.name == "Northwind Insurance")
            .values(account_manager_id=None)
        )
    assert client.get(f"/api/v1/articles/{hidden['id']}", headers=am).status_code == 404
    seen = client.get(f"/api/v1/articles/{article['id']}", headers=am).json()
    assert "case" not in seen and "symptoms" not in seen
    listed = client.get("/api/v1/articles", headers=am).json()["items"]
    assert [a["id"] for a in listed] == [article["id"]]


def test_an_article_id_of_non_ascii_digits_is_absent_not_an_error(client, login) -> None:
    for path in ("/api/v1/articles/%C2%B3", "/api/v1/articles/%C2%B3/preview"):
        response = client.get(path, headers=login(ENG1))
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
