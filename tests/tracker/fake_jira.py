"""A local Jira Cloud (REST v3): checks Basic auth, the fields of an issue and that its
description is a valid Atlassian Document Format (ADF) document holding the report's
sections; answers errors in Jira's own shape."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.tracker.servers import FakeServer, Reply, Request

JIRA_EMAIL = "dev-bot@vendor.example"
JIRA_TOKEN = "jira-secret-token-123"
JIRA_PROJECT = "CRIT"

ADF_CHILDREN = {
    "doc": {"paragraph", "heading", "codeBlock", "bulletList", "orderedList", "rule"},
    "paragraph": {"text", "hardBreak"},
    "heading": {"text", "hardBreak"},
    "codeBlock": {"text"},
    "bulletList": {"listItem"},
    "orderedList": {"listItem"},
    "listItem": {"paragraph", "bulletList", "orderedList", "codeBlock"},
}
ADF_LEAVES = {"text", "hardBreak", "rule"}
ADF_MARKS = {"strong", "em", "code", "link"}
NEEDS_CONTENT = {"bulletList", "orderedList", "listItem"}


def adf_problems(doc: Any) -> list[str]:
    """What makes ``doc`` an invalid ADF document (a subset of Atlassian's JSON schema,
    plus one rule of ours: line breaks in prose are hardBreak nodes, not "\\n")."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return ["the root is not {type: doc, version: 1}"]
    problems: list[str] = []
    _check_node(doc, None, problems)
    return problems


def _check_node(node: Any, parent: str | None, problems: list[str]) -> None:
    kind = node.get("type") if isinstance(node, dict) else None
    if parent is not None and kind not in ADF_CHILDREN.get(parent, set()):
        problems.append(f"{kind!r} inside {parent!r}")
        return
    assert isinstance(node, dict)
    if kind == "text":
        _check_text(node, parent, problems)
    if kind == "heading" and node.get("attrs", {}).get("level") not in range(1, 7):
        problems.append("heading without a level 1-6")
    content = node.get("content")
    if kind in ADF_LEAVES:
        if content is not None:
            problems.append(f"{kind} has content")
        return
    if not isinstance(content, list) or (kind in NEEDS_CONTENT and not content):
        problems.append(
            f"{kind} needs a content list" + (" with items" if kind in NEEDS_CONTENT else "")
        )
        return
    for child in content:
        _check_node(child, kind, problems)


def _check_text(node: dict[str, Any], parent: str | None, problems: list[str]) -> None:
    value = node.get("text")
    if not isinstance(value, str) or not value:
        problems.append("empty text node")
        return
    marks = node.get("marks") or []
    if parent == "codeBlock" and marks:
        problems.append("marks inside a codeBlock")
    if any(m.get("type") not in ADF_MARKS for m in marks):
        problems.append("unknown mark")
    if parent != "codeBlock" and "\n" in value:
        problems.append("a line break inside prose text")


def adf_headings(doc: dict[str, Any]) -> list[str]:
    return [
        "".join(t["text"] for t in node["content"])
        for node in doc["content"]
        if node["type"] == "heading"
    ]


NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
JIRA_FIELDS = {"project", "issuetype", "summary", "description", "priority", "labels"}
JIRA_PRIORITIES = {"Highest", "High", "Medium", "Low", "Lowest"}
JIRA_REQUIRED_HEADINGS = {"Steps to reproduce", "Expected behaviour", "Actual behaviour"}
NO_ISSUE = {
    "errorMessages": ["Issue does not exist or you do not have permission to see it."],
    "errors": {},
}


class FakeJira(FakeServer):
    def authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def unauthorised(self) -> Reply:
        return 401, {"errorMessages": ["Client must be authenticated to access this resource."]}, {}

    def route(self, request: Request) -> Reply:
        if request.method in ("POST", "PUT") and "json" not in request.headers.get(
            "content-type", ""
        ):
            return self.refuse(415, {"errorMessages": ["Unsupported Media Type"]}, "content type")
        match = re.fullmatch(r"/rest/api/3/issue/([A-Z]+-\d+)", request.path)
        if request.method == "POST" and request.path == "/rest/api/3/issue":
            return self.create(request.body)
        if request.method == "GET" and request.path == "/rest/api/3/search/jql":
            return self.search(request.query)
        if match and match.group(1) not in self.issues:
            return 404, NO_ISSUE, {}
        if match and request.method == "PUT":
            return self.update(match.group(1), request.body)
        if match and request.method == "GET":
            return self.read(match.group(1), request.query)
        return 404, {"errorMessages": ["Not found"]}, {}

    def field_errors(self, fields: dict[str, Any], *, creating: bool) -> dict[str, str]:
        errors = {
            name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            for name in set(fields) - JIRA_FIELDS
        }
        if creating and (fields.get("project") or {}).get("key") != JIRA_PROJECT:
            errors["project"] = "valid project is required"
        if creating and (fields.get("issuetype") or {}).get("name") != "Bug":
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if (creating or "summary" in fields) and (
            not summary or len(summary) > 255 or "\n" in summary
        ):
            errors["summary"] = "You must specify a summary of the issue."
        if "priority" in fields and fields["priority"].get("name") not in JIRA_PRIORITIES:
            errors["priority"] = "Specify the Priority (name) in the string format"
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label must not contain spaces."
        if creating or "description" in fields:
            doc = fields.get("description")
            problems = adf_problems(doc)
            if not problems and not set(adf_headings(doc)) >= JIRA_REQUIRED_HEADINGS:
                problems = ["the description lacks a section"]
            if problems:
                self.rejections.extend(problems)
                errors["description"] = NOT_ADF
        return errors

    def create(self, body: Any) -> Reply:
        fields = (body or {}).get("fields") or {}
        errors = self.field_errors(fields, creating=True)
        if errors:
            return self.refuse(
                400, {"errorMessages": [], "errors": errors}, f"create: {sorted(errors)}"
            )
        number = len(self.issues) + 1
        key = f"{JIRA_PROJECT}-{number}"
        self.issues[key] = {
            "id": str(10000 + number),
            "key": key,
            "fields": dict(fields)
            | {
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "resolution": None,
                "fixVersions": [],
            },
        }
        return (
            201,
            {"id": str(10000 + number), "key": key, "self": f"/rest/api/3/issue/{10000 + number}"},
            {},
        )

    def update(self, key: str, body: Any) -> Reply:
        fields = (body or {}).get("fields") or {}
        errors = self.field_errors(fields, creating=False)
        label_ops = ((body or {}).get("update") or {}).get("labels", [])
        if "labels" in fields and label_ops:
            errors["labels"] = "Field 'labels' cannot be set in both fields and update."
        if errors:
            return self.refuse(
                400, {"errorMessages": [], "errors": errors}, f"update: {sorted(errors)}"
            )
        issue = self.issues[key]["fields"]
        issue.update(fields)
        for op in label_ops:
            if "add" in op and op["add"] not in issue["labels"]:
                issue["labels"].append(op["add"])
        return 204, None, {}

    def read(self, key: str, query: dict[str, str]) -> Reply:
        wanted = set(query.get("fields", "").split(","))
        if not {"status", "fixVersions", "resolution"} <= wanted:
            return self.refuse(400, {"errorMessages": ["ask for the fields you read"]}, "fields")
        issue = self.issues[key]
        fields = {k: v for k, v in issue["fields"].items() if k in wanted}
        return 200, {"id": issue["id"], "key": key, "fields": fields}, {}

    def search(self, query: dict[str, str]) -> Reply:
        jql = query.get("jql", "")
        project = re.search(r'project = "([^"]+)"', jql)
        labels = set(re.findall(r'labels = "([^"]+)"', jql))
        if project is None or not labels:
            return self.refuse(400, {"errorMessages": [f"Error in the JQL Query: {jql}"]}, "jql")
        found = [
            {"id": issue["id"], "key": key}
            for key, issue in self.issues.items()
            if key.startswith(project.group(1) + "-") and labels <= set(issue["fields"]["labels"])
        ]
        return 200, {"issues": found[: int(query.get("maxResults", "50"))], "isLast": True}, {}

    def move(
        self,
        key: str,
        status: str,
        category: str,
        resolution: str | None = None,
        fix_versions: tuple[tuple[str, bool], ...] = (),
    ) -> None:
        fields = self.issues[key]["fields"]
        fields["status"] = {"name": status, "statusCategory": {"key": category}}
        fields["resolution"] = {"name": resolution} if resolution else None
        fields["fixVersions"] = [{"name": n, "released": r} for n, r in fix_versions]
