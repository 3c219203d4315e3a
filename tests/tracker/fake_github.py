"""A local GitHub REST API (2022-11-28) for issues: checks the Bearer token and the
headers GitHub asks for, and that an issue body holds the report's Markdown sections with
every code fence closed; answers errors in GitHub's own shape."""

from __future__ import annotations

import re
from typing import Any

from tests.tracker.servers import FakeServer, Reply, Request

GITHUB_TOKEN = "ghp_secretGitHubToken456"
GITHUB_REPO = "acme/product"

GITHUB_SECTIONS = (
    "## Description",
    "## Steps to reproduce",
    "## Expected behaviour",
    "## Actual behaviour",
)
NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest",
    "status": "404",
}


def markdown_problems(body: Any) -> list[str]:
    """Sections missing from a Markdown body, or a code fence left open."""
    if not isinstance(body, str):
        return ["no body"]
    problems = []
    fence: str | None = None
    headings = []
    for line in body.split("\n"):
        run = re.match(r"^(`{3,}|~{3,})", line)
        if fence is None and run:
            fence = run.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None and line.startswith("## "):
            headings.append(line.strip())
    if fence is not None:
        problems.append("a code fence is never closed")
    if [h for h in headings if h in GITHUB_SECTIONS] != list(GITHUB_SECTIONS):
        problems.append(f"sections: {headings}")
    return problems


class FakeGitHub(FakeServer):
    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {GITHUB_TOKEN}"

    def unauthorised(self) -> Reply:
        return (
            401,
            {
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
                "status": "401",
            },
            {},
        )

    def route(self, request: Request) -> Reply:
        if request.headers.get("accept") != "application/vnd.github+json":
            return self.refuse(415, {"message": "Unsupported 'Accept' header"}, "accept")
        if request.headers.get("x-github-api-version") != "2022-11-28":
            return self.refuse(400, {"message": "Unsupported API version"}, "api version")
        base = f"/repos/{GITHUB_REPO}/issues"
        match = re.fullmatch(re.escape(base) + r"/(\d+)", request.path)
        if request.path == base and request.method == "POST":
            return self.create(request.body)
        if request.path == base and request.method == "GET":
            return self.list(request.query)
        if match and match.group(1) in self.issues and request.method == "PATCH":
            return self.update(match.group(1), request.body)
        if match and match.group(1) in self.issues and request.method == "GET":
            return 200, self.issues[match.group(1)], {}
        return 404, NOT_FOUND, {}

    def validation(self, body: dict[str, Any], *, creating: bool) -> list[dict[str, str]]:
        errors = []
        if (creating or "title" in body) and not body.get("title"):
            errors.append({"resource": "Issue", "code": "missing_field", "field": "title"})
        labels = body.get("labels", [])
        if not isinstance(labels, list) or any(
            not isinstance(n, str) or len(n) > 50 for n in labels
        ):
            errors.append({"resource": "Label", "code": "invalid", "field": "name"})
        if creating or "body" in body:
            problems = markdown_problems(body.get("body"))
            self.rejections.extend(problems)
            errors.extend(
                {"resource": "Issue", "field": "body", "code": "custom", "message": p}
                for p in problems
            )
        return errors

    def create(self, body: Any) -> Reply:
        errors = self.validation(body or {}, creating=True)
        if errors:
            return self.refuse(422, {"message": "Validation Failed", "errors": errors}, "create")
        number = str(len(self.issues) + 1)
        self.issues[number] = {
            "number": int(number),
            "title": body["title"],
            "body": body["body"],
            "labels": [{"name": n} for n in body.get("labels", [])],
            "state": "open",
            "state_reason": None,
            "milestone": None,
            "html_url": f"https://github.com/{GITHUB_REPO}/issues/{number}",
            "created_at": f"2026-11-25T10:00:{int(number):02d}Z",
        }
        return 201, self.issues[number], {}

    def update(self, number: str, body: Any) -> Reply:
        errors = self.validation(body or {}, creating=False)
        if errors:
            return self.refuse(422, {"message": "Validation Failed", "errors": errors}, "update")
        issue = self.issues[number]
        for name in ("title", "body", "state", "state_reason"):
            if name in body:
                issue[name] = body[name]
        if "labels" in body:
            issue["labels"] = [{"name": n} for n in body["labels"]]
        return 200, issue, {}

    def list(self, query: dict[str, str]) -> Reply:
        wanted = set(filter(None, query.get("labels", "").split(",")))
        state = query.get("state", "open")
        found = [
            issue
            for issue in self.issues.values()
            if wanted <= {label["name"] for label in issue["labels"]}
            and (state == "all" or issue["state"] == state)
        ]
        found.sort(key=lambda i: i["created_at"], reverse=query.get("direction", "desc") == "desc")
        return 200, found[: int(query.get("per_page", "30"))], {}

    def move(
        self,
        number: int,
        state: str,
        state_reason: str | None = None,
        labels: tuple[str, ...] | None = None,
        milestone: tuple[str, str] | None = None,
    ) -> None:
        issue = self.issues[str(number)]
        issue["state"], issue["state_reason"] = state, state_reason
        if labels is not None:
            issue["labels"] = [{"name": n} for n in labels]
        issue["milestone"] = {"title": milestone[0], "state": milestone[1]} if milestone else None
