"""Synthetic bug reports that look like the vendor's: product words, components, versions,
error messages and stack traces (Java, Python, JavaScript), with a Zipf-like word mix so
that term statistics resemble a real tracker's (a few words everywhere, most words rare).

Deterministic for a seed. ``bug_fields(i)`` gives the columns of a ``Bug`` row;
``query_text(rng)`` a new report's text to search with.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCTS = ("Platform", "Cloud Portal", "Gateway", "Studio", "On-Premises Server")
COMPONENTS = (
    "Modeler",
    "Runtime",
    "Deployment",
    "Scheduler",
    "Connectors",
    "REST Publisher",
    "Data Importer",
    "Authentication",
    "Workflow Engine",
    "Entity Designer",
    "Workspace Sync",
    "Project Explorer",
    "Reporting",
    "Search",
    "Audit Log",
    "Licensing",
)
OBJECTS = (
    "Entity",
    "Project",
    "Workspace",
    "attribute",
    "association",
    "microflow",
    "page",
    "widget",
    "data grid",
    "form",
    "REST endpoint",
    "OData service",
    "scheduled event",
    "user role",
    "module",
    "snippet",
    "enumeration",
    "validation rule",
    "index",
    "constant",
    "import mapping",
    "export mapping",
    "document template",
    "file document",
    "image",
    "translation",
    "theme",
    "navigation profile",
    "deployment package",
    "environment variable",
    "certificate",
    "database connection",
    "session",
    "cluster node",
    "gateway route",
    "proxy rule",
    "API key",
    "webhook",
    "audit trail",
    "backup",
)
ACTIONS = (
    "saving",
    "publishing",
    "deploying",
    "importing",
    "exporting",
    "renaming",
    "deleting",
    "opening",
    "synchronising",
    "merging",
    "upgrading",
    "restoring",
    "validating",
    "sorting",
    "filtering",
    "paginating",
    "committing",
    "rolling back",
    "scheduling",
    "logging in to",
    "uploading",
    "downloading",
    "previewing",
    "refreshing",
    "copying",
)
SYMPTOMS = (
    "fails with an error",
    "hangs indefinitely",
    "times out after 60 seconds",
    "returns HTTP 500",
    "returns HTTP 502 Bad Gateway",
    "loses data",
    "shows a blank page",
    "is extremely slow",
    "crashes the runtime",
    "duplicates records",
    "corrupts the file",
    "ignores the user role",
    "shows stale data",
    "leaks memory",
    "deadlocks the database",
    "throws an exception",
    "logs out the user",
    "shows the wrong time zone",
    "rejects valid input",
    "never finishes",
)
CONTEXTS = (
    "on PostgreSQL 15",
    "on SQL Server 2019",
    "on Oracle 19c",
    "with more than 10,000 rows",
    "behind a reverse proxy",
    "in Chrome 131",
    "in Firefox 133",
    "on Safari 18",
    "on Kubernetes",
    "after the upgrade",
    "with SSO enabled",
    "with two cluster nodes",
    "in the acceptance environment",
    "only in production",
    "when the session expires",
    "under load",
    "with non-ASCII characters",
    "with a large file",
    "during the nightly batch",
    "over the Gateway",
)
ERRORS = (
    "ORA-00942: table or view does not exist",
    "ERROR: deadlock detected (SQLSTATE 40P01)",
    "java.net.SocketTimeoutException: Read timed out",
    "Connection reset by peer",
    "502 Bad Gateway",
    "413 Request Entity Too Large",
    "NS_ERROR_NET_TIMEOUT",
    "ECONNREFUSED 127.0.0.1:5432",
    "OutOfMemoryError: Java heap space",
    "could not serialize access due to concurrent update",
    "Invalid token: signature verification failed",
    "PKIX path building failed",
    "Cannot read properties of undefined (reading 'id')",
    "KeyError: 'attributes'",
    "Duplicate key value violates unique constraint",
    "Lock wait timeout exceeded",
)
FILLER = (
    "customer",
    "users",
    "report",
    "issue",
    "problem",
    "screen",
    "button",
    "click",
    "open",
    "list",
    "value",
    "field",
    "expected",
    "instead",
    "again",
    "every",
    "time",
    "sometimes",
    "after",
    "before",
    "restart",
    "browser",
    "server",
    "log",
    "message",
    "error",
    "version",
    "works",
    "previous",
    "release",
    "production",
    "environment",
    "change",
    "configuration",
    "setting",
    "new",
    "old",
    "large",
    "small",
    "first",
    "second",
    "third",
)
VERSIONS = tuple(
    f"{major}.{minor}.{patch}" for major in (9, 10) for minor in range(13) for patch in range(4)
)
JAVA_EXCEPTIONS = (
    "java.lang.NullPointerException",
    "java.lang.IllegalStateException",
    "java.lang.IllegalArgumentException",
    "java.util.ConcurrentModificationException",
    "com.vendor.platform.core.ModelValidationException",
    "com.vendor.platform.runtime.ExecutionException",
    "java.sql.SQLException",
    "java.io.UncheckedIOException",
)
PACKAGES = ("core", "runtime", "model", "deploy", "sync", "rest", "auth", "data", "ui", "jobs")
CLASSES = (
    "EntityMapper",
    "WorkspaceService",
    "ProjectLoader",
    "DeploymentPlanner",
    "ConnectorPool",
    "RestPublisher",
    "ImportJob",
    "SessionManager",
    "QueryBuilder",
    "SchemaMigrator",
    "AuditWriter",
    "TokenValidator",
    "ClusterCoordinator",
    "FileStore",
    "GridRenderer",
    "WorkflowExecutor",
)
METHODS = ("load", "save", "apply", "resolve", "execute", "render", "commit", "validate")
METHODS += ("publish", "merge", "serialise", "parse", "refresh", "open", "close", "schedule")


def _zipf(rng: random.Random, items: tuple[str, ...]) -> str:
    # Rank-weighted choice: the first items are common, the tail is rare.
    index = min(int(rng.paretovariate(1.1)) - 1, len(items) - 1)
    return items[(index + rng.randrange(3)) % len(items)]


def _java_trace(rng: random.Random) -> str:
    exception = rng.choice(JAVA_EXCEPTIONS)
    lines = [f"{exception}: {rng.choice(ERRORS)}"]
    for _ in range(rng.randint(3, 7)):
        package, cls, method = rng.choice(PACKAGES), rng.choice(CLASSES), rng.choice(METHODS)
        lines.append(
            f"\tat com.vendor.platform.{package}.{cls}.{method}({cls}.java:{rng.randint(20, 900)})"
        )
    lines.append(
        "\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:199)"
    )
    lines.append("\tat java.base/java.lang.Thread.run(Thread.java:1583)")
    return "\n".join(lines)


def _python_trace(rng: random.Random) -> str:
    lines = ["Traceback (most recent call last):"]
    for _ in range(rng.randint(2, 4)):
        module, method = rng.choice(PACKAGES), rng.choice(METHODS)
        path = f"/opt/vendor/gateway/{module}/handlers.py"
        lines.append(f'  File "{path}", line {rng.randint(5, 400)}, in {method}')
    lines.append(
        rng.choice(
            ("KeyError: 'attributes'", "ValueError: invalid literal", "TimeoutError: timed out")
        )
    )
    return "\n".join(lines)


def _js_trace(rng: random.Random) -> str:
    lines = ["Uncaught TypeError: Cannot read properties of undefined (reading 'id')"]
    for _ in range(rng.randint(2, 5)):
        bundle = f"https://portal.vendor.example/static/js/main.{rng.getrandbits(32):08x}.js"
        where = f"{bundle}:1:{rng.randint(100, 99999)}"
        lines.append(f"    at {rng.choice(CLASSES)}.{rng.choice(METHODS)} ({where})")
    return "\n".join(lines)


def _sentence(rng: random.Random) -> str:
    words = [_zipf(rng, FILLER) for _ in range(rng.randint(4, 10))]
    words.insert(rng.randrange(len(words)), _zipf(rng, OBJECTS).lower())
    return " ".join(words).capitalize() + "."


def report_text(rng: random.Random) -> dict[str, Any]:
    component, obj, action = _zipf(rng, COMPONENTS), _zipf(rng, OBJECTS), _zipf(rng, ACTIONS)
    symptom, context = _zipf(rng, SYMPTOMS), _zipf(rng, CONTEXTS)
    version = rng.choice(VERSIONS)
    title = f"{component}: {action} {obj} {symptom} {context}"
    description = " ".join(_sentence(rng) for _ in range(rng.randint(2, 8)))
    if rng.random() < 0.5:
        description += f"\nThe log shows: {rng.choice(ERRORS)}"
    trace = rng.random()
    if trace < 0.2:
        description += "\n" + _java_trace(rng)
    elif trace < 0.3:
        description += "\n" + _python_trace(rng)
    elif trace < 0.38:
        description += "\n" + _js_trace(rng)
    return {
        "product": _zipf(rng, PRODUCTS),
        "component": component,
        "affected_versions": [version],
        "title": title[:300],
        "description": description,
        "steps_to_reproduce": f"1. Open the {obj}.\n2. Start {action} it {context}.\n3. Observe.",
        "expected": f"{action.capitalize()} the {obj} succeeds.",
        "actual": f"It {symptom} ({version}).",
        "workaround": "Restart the runtime." if rng.random() < 0.2 else None,
    }


def bug_fields(i: int, *, seed: int = 4, start: datetime | None = None) -> dict[str, Any]:
    rng = random.Random(seed * 1_000_003 + i)
    created = (start or datetime(2024, 1, 1, tzinfo=UTC)) + timedelta(minutes=7 * i)
    return report_text(rng) | {
        "environment": {"deployment_type": rng.choice(("cloud", "on_premises", "gateway"))},
        "severity": rng.choice(("S1", "S2", "S3", "S4")),
        "state": rng.choice(("new", "confirmed", "in_progress", "fixed", "released", "wont_fix")),
        "public": rng.random() < 0.6,
        "signatures": [],
        "external_refs": {},
        "created_at": created,
        "updated_at": created,
        "state_changed_at": created,
        "submitted_at": created,
    }


def query_text(rng: random.Random) -> str:
    fields = report_text(rng)
    return f"{fields['title']}\n{fields['description']}\n{fields['actual']}"
