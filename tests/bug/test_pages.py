"""Bug report pages: the list and one bug (customers see public fields and only their own
cases), filing complete or draft reports, filing from a case with duplicate suggestions, linking,
and moving a bug to fixed so that its cases hear of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from critdesk.bug import rules
from tests.auth.test_pages import open_web_session
from tests.bug.test_api import COMPLETE, file_bug
from tests.case.test_api import ALICE, CAROL, ENG1
from tests.case.test_pages import CONTOSO_SLOW, NORTHWIND_OUTAGE, flash

REF = NORTHWIND_OUTAGE


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def form_of(bug: dict[str, Any], **overrides: str) -> dict[str, str]:
    """A bug as the page's form sends it."""
    env = bug["environment"]
    form = {
        "title": bug["title"],
        "description": bug["description"],
        "product": bug["product"],
        "component": bug["component"],
        "affected_versions": ", ".join(bug["affected_versions"]),
        "severity": bug["severity"],
        "steps_to_reproduce": bug["steps_to_reproduce"],
        "expected": bug["expected"],
        "actual": bug["actual"],
        "env_deployment_type": env["deployment_type"],
        "env_product_version": env["product_version"],
        "env_database": env["database"],
        "intent": "submit",
    }
    return form | overrides


def post(client: Any, path: str, token: str, **fields: Any) -> Any:
    return client.post(path, data={"csrf_token": token} | fields, follow_redirects=False)


def followed(client: Any, response: Any) -> str:
    assert response.status_code == 303, response.text
    return str(client.get(response.headers["location"]).text)


def bug_of(client: Any, login: Any, key: str) -> dict[str, Any]:
    return client.get(f"/api/v1/bugs/{key}", headers=login(ENG1)).json()


def case_bugs(client: Any, login: Any, ref: str = REF) -> list[str]:
    return [b["key"] for b in client.get(f"/api/v1/cases/{ref}/bugs", headers=login(ENG1)).json()]


# --- filing --------------------------------------------------------------------------------------


def test_an_engineer_files_a_complete_report(client, login, browse) -> None:
    token = browse(ENG1)
    assert 'name="intent" value="draft"' in client.get("/bugs/new").text
    response = post(client, "/bugs/new", token, **form_of(COMPLETE, public="1"))
    key = response.headers["location"].rsplit("/", 1)[1]
    page = followed(client, response)
    assert flash(page) == ("success", f"{key} submitted.")
    bug = bug_of(client, login, key)
    assert (bug["affected_versions"], bug["public"], bug["environment"]["database"]) == (
        ["10.4.2"],
        True,
        "PostgreSQL 15",
    )
    assert "On track</span>" in page and "hotfix within 7 days" in page.lower()


def test_an_incomplete_report_lists_exactly_what_is_missing_and_keeps_the_form(
    client, login, browse
) -> None:
    token = browse(ENG1)
    form = form_of(COMPLETE, expected="", affected_versions="", env_product_version="")
    response = post(client, "/bugs/new", token, **form)
    assert response.status_code == 422
    listed = re.search(r"<ul class=\"missing\" data-missing>(.*?)</ul>", response.text, re.S)
    assert listed, "no list of what is missing"
    assert re.findall(r"<li>([^<]+)</li>", listed.group(1)) == [
        "expected behaviour",
        "at least one affected version",
        "the product version of the environment",
    ]
    assert f'value="{COMPLETE["title"]}"' in response.text
    assert client.get("/api/v1/bugs", headers=login(ENG1)).json()["items"] == []
    draft = post(client, "/bugs/new", token, **(form | {"intent": "draft"}))
    key = draft.headers["location"].rsplit("/", 1)[1]
    page = followed(client, draft)
    assert flash(page) == (
        "success",
        f"{key} saved as a draft; to submit it, add: expected behaviour, at least one affected "
        "version, the product version of the environment.",
    )
    assert "Not submitted yet: to submit it, add" in page
    refused = followed(client, post(client, f"/bugs/{key}/submit", token))
    assert "The report cannot be submitted without: expected behaviour" in flash(refused)[1]  # type: ignore[index]


def test_a_form_with_mistakes_comes_back_with_messages(client, browse) -> None:
    response = post(
        client, "/bugs/new", browse(ENG1), **form_of(COMPLETE, title="Bug", severity="")
    )
    assert response.status_code == 422
    assert "Give the bug a title of 5 to 300 characters." in response.text
    assert "Choose the bug&#39;s severity." in response.text


def test_a_report_filed_from_a_case_starts_from_what_the_case_knows(client, login, browse) -> None:
    token = browse(ENG1)
    page = client.get(f"/cases/{REF}/bugs/new").text
    assert 'value="Claims portal returns HTTP 503 for every user"' in page
    assert 'name="affected_versions" value="10.4.2"' in page
    assert '<option value="cloud" selected>' in page
    assert 'data-similar-url="/api/v1/bugs/similar"' in page
    assert f'data-link-url="/cases/{REF}/bugs/link"' in page
    response = post(
        client,
        f"/cases/{REF}/bugs/new",
        token,
        **form_of(COMPLETE, title="Claims portal answers 503 when the pool is exhausted"),
    )
    assert response.headers["location"] == f"/cases/{REF}#known-issues"
    (key,) = case_bugs(client, login)
    page = followed(client, response)
    assert flash(page) == ("success", f"{key} submitted and linked to {REF}.")
    assert f'<a class="ref" href="/bugs/{key}">{key}</a>' in page


def test_the_duplicate_suggestions_link_the_case_instead(client, login, browse) -> None:
    known = file_bug(client, login(ENG1), public=True, workaround="Raise the pool size.")
    token = browse(ENG1)
    page = followed(client, post(client, f"/cases/{REF}/bugs/link", token, bug=known["key"]))
    assert flash(page) == (
        "success",
        f"{REF} is linked to {known['key']}; the customer sees it under known issues.",
    )
    assert case_bugs(client, login) == [known["key"]]
    again = followed(client, post(client, f"/cases/{REF}/bugs/link", token, bug=known["key"]))
    assert flash(again) == ("error", f"{REF} is already linked to {known['key']}.")
    page = followed(client, post(client, f"/cases/{REF}/bugs/{known['key']}/unlink", token))
    assert flash(page) == ("success", f"{known['key']} unlinked from {REF}.")
    assert case_bugs(client, login) == []


# --- one bug, and its cases ---------------------------------------------------------------------


def test_a_fixed_bug_tells_its_cases_and_the_customer_sees_the_fix(client, login, browse) -> None:
    bug = file_bug(client, login(ENG1), public=True, workaround="Raise the pool size to 50.")
    key = bug["key"]
    token = browse(ENG1)
    followed(client, post(client, f"/bugs/{key}/cases", token, case=REF))
    page = followed(client, post(client, f"/bugs/{key}/state", token, state="fixed"))
    assert flash(page) == (
        "error",
        "A new bug cannot become fixed; allowed: confirmed, duplicate, in_progress, wont_fix.",
    )
    for state in ("confirmed", "in_progress"):
        followed(client, post(client, f"/bugs/{key}/state", token, state=state))
    refused = followed(client, post(client, f"/bugs/{key}/state", token, state="fixed"))
    assert flash(refused) == ("error", "A fixed bug names its fix version.")
    page = followed(
        client, post(client, f"/bugs/{key}/state", token, state="fixed", fix_version="10.4.3")
    )
    assert flash(page) == ("success", f"{key} is now fixed. Every linked case is told.")
    timeline = client.get(f"/api/v1/cases/{REF}", headers=login(ENG1)).json()["timeline"]
    assert timeline[-1]["message"] == f"{key} is fixed in version 10.4.3."
    browse(ALICE)
    case_page = client.get(f"/cases/{REF}").text
    known = case_page[case_page.index('id="known-issues"') :]
    assert "Fixed in 10.4.3" in known and "Raise the pool size to 50." in known
    assert 'action="/cases/PCH-000001/bugs/link"' not in case_page


def test_a_customer_reads_public_fields_and_only_its_own_cases(client, login, browse) -> None:
    bug = file_bug(client, login(ENG1), public=True, workaround="Raise the pool size.")
    token = browse(ENG1)
    for ref in (REF, CONTOSO_SLOW):
        followed(client, post(client, f"/bugs/{bug['key']}/cases", token, case=ref))
    engineer = client.get(f"/bugs/{bug['key']}").text
    assert CONTOSO_SLOW in engineer and COMPLETE["steps_to_reproduce"].split("\n")[0] in engineer
    browse(ALICE)
    customer = client.get(f"/bugs/{bug['key']}").text
    assert REF in customer and CONTOSO_SLOW not in customer and "Contoso" not in customer
    assert COMPLETE["description"] not in customer and "Raise the pool size." in customer
    assert "/state" not in customer and "/unlink" not in customer and 'name="case"' not in customer


def test_the_list_filters_and_searches(client, login, browse) -> None:
    eng = login(ENG1)
    pool = file_bug(client, eng, public=True)
    sso = file_bug(client, eng, title="SSO login loops on Safari", severity="S3", public=True)
    private = file_bug(client, eng, title="Internal tooling crash")
    browse(ENG1)

    def keys(query: str) -> list[str]:
        return re.findall(r'<tr data-key="(BUG-\d+)">', client.get(f"/bugs{query}").text)

    assert keys("") == [private["key"], sso["key"], pool["key"]]
    assert keys("?severity=S3") == [sso["key"]]
    assert keys("?q=safari") == [sso["key"]]
    assert keys("?state=fixed") == []
    browse(ALICE)
    assert keys("") == [sso["key"], pool["key"]]
    assert client.get(f"/bugs/{private['key']}").status_code == 404


def test_customers_may_not_file_change_or_link_bugs(client, login, browse) -> None:
    bug = file_bug(client, login(ENG1), public=True)
    token = browse(ALICE)
    assert client.get("/bugs/new").status_code == 403
    assert client.get(f"/cases/{REF}/bugs/new").status_code == 403
    assert post(client, "/bugs/new", token, **form_of(COMPLETE)).status_code == 403
    refused = followed(client, post(client, f"/bugs/{bug['key']}/state", token, state="confirmed"))
    assert flash(refused) == ("error", "Only engineers and leads write bug reports.")
    refused = followed(client, post(client, f"/cases/{REF}/bugs/link", token, bug=bug["key"]))
    assert flash(refused) == ("error", "Only engineers and leads write bug reports.")
    assert bug_of(client, login, bug["key"])["state"] == "new" and case_bugs(client, login) == []


def test_another_organisations_case_is_not_found(client, login, browse) -> None:
    bug = file_bug(client, login(ENG1), public=True)
    token = browse(CAROL)
    assert client.get(f"/cases/{REF}/bugs/new").status_code == 404
    assert post(client, f"/cases/{REF}/bugs/link", token, bug=bug["key"]).status_code == 404
    unlink = post(client, f"/cases/{REF}/bugs/{bug['key']}/unlink", token)
    assert unlink.status_code == 404


def test_bug_forms_need_the_session_token(client, login, browse) -> None:
    bug = file_bug(client, login(ENG1))
    browse(ENG1)
    assert client.post("/bugs/new", data=form_of(COMPLETE)).status_code == 403
    response = client.post(f"/bugs/{bug['key']}/state", data={"state": "confirmed"})
    assert response.status_code == 403
    assert bug_of(client, login, bug["key"])["state"] == "new"


def test_the_completeness_the_page_checks_is_the_services() -> None:
    # The form's hints name the same fields as the rule the service applies.
    assert [label for _path, label in rules.COMPLETENESS] == [
        "steps to reproduce",
        "expected behaviour",
        "actual behaviour",
        "at least one affected version",
        "the deployment type of the environment",
        "the product version of the environment",
    ]
