"""The mixed workload: customers reporting cases and answering info requests (with small file
uploads), engineers polling the queue and acting on cases, all over HTTP with aiohttp.

Every run is bounded twice, by time (no new step after the deadline) and by a number of
requests (no new step once it is spent). A client is pinned to one API process and fails over
to the next one when a request cannot get through.

**The acknowledged-write contract.** A write counts only when a 2xx came back; then it goes
into the ``Ledger`` and must be found afterwards (``bench/load/verify.py``). A request that
meets a connection error or a 5xx is retried (the same body; case reports carry an
``Idempotency-Key``, so a retried report never makes a second case) for at most
``retry_seconds``. Every attempt that did not answer 2xx is counted and listed: under plain
load there must be none; under faults the retries are the point.

The actors never race one another (each engineer takes only the new cases whose number falls
in its share, each customer touches only the cases it reported), so a 409 is a real error.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.load.population import Person

RETRYABLE = frozenset({500, 502, 503, 504})


@dataclass
class Ledger:
    """Every acknowledged write, to be found afterwards."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[int, str] = field(default_factory=dict)
    answers: dict[int, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[int, dict[str, Any]] = field(default_factory=dict)
    assigned: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "cases": len(self.cases),
            "info_requests": len(self.requests),
            "answers": len(self.answers),
            "attachments": len(self.attachments),
            "assigned": len(self.assigned),
            "investigations_started": len(self.started),
            "resolved": len(self.resolved),
            "confirmed": len(self.confirmed),
        }


@dataclass
class Recorder:
    """Latencies of the 2xx answers per route, every status and failure, and the ledger."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    codes: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    gave_up: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    requests: int = 0
    wall_seconds: float = 0.0
    ledger: Ledger = field(default_factory=Ledger)
    # Writes whose answer was lost and whose retry was refused because the first attempt had
    # gone through: found present, but never acknowledged, so not in the ledger.
    found_after_retry: list[dict[str, Any]] = field(default_factory=list)

    def attempt(self, route: str, status: int | str, seconds: float, detail: str = "") -> None:
        self.requests += 1
        self.codes.setdefault(route, Counter())[str(status)] += 1
        if isinstance(status, int) and 200 <= status < 300:
            self.latencies.setdefault(route, []).append(seconds)
        elif len(self.failures) < 2000:
            self.failures.append(
                {"at": round(time.time(), 3), "route": route, "status": status, "detail": detail}
            )


@dataclass
class Policy:
    retry_seconds: float = 30.0
    timeout_seconds: float = 60.0


@dataclass
class Answer:
    status: int | str
    body: Any
    attempts: int

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300


class Client:
    """One user's HTTP client: a bearer token, a home API process, retries with fail-over."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        bases: Sequence[str],
        home: int,
        person: Person,
        recorder: Recorder,
        policy: Policy,
    ) -> None:
        self.session = session
        self.bases = list(bases)
        self.home = home
        self.person = person
        self.recorder = recorder
        self.policy = policy
        self.headers = {"Authorization": f"Bearer {person.token}"}

    async def call(
        self,
        route: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        give_up_at = time.monotonic() + self.policy.retry_seconds
        attempt = 0
        while True:
            base = self.bases[(self.home + attempt) % len(self.bases)]
            attempt += 1
            started = time.perf_counter()
            status: int | str
            detail = ""
            body: Any = None
            retry_after = 0.0
            try:
                async with self.session.request(
                    method,
                    base + path,
                    json=json,
                    data=form() if form else None,
                    headers=self.headers | (headers or {}),
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    raw = await response.read()
                    if "json" in response.headers.get("content-type", ""):
                        body = _json(raw)
                    if not 200 <= status < 300:
                        detail = raw[:300].decode(errors="replace")
                        retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as error:
                status = type(error).__name__
                detail = str(error)[:300]
            self.recorder.attempt(route, status, time.perf_counter() - started, detail)
            answer = Answer(status, body, attempt)
            retryable = isinstance(status, str) or status in RETRYABLE
            if answer.ok or not retryable or time.monotonic() >= give_up_at:
                if not answer.ok:
                    # Given up on a failure that lasted too long, or refused outright (after a
                    # retry, typically a 409: the lost first attempt had gone through).
                    failed = self.recorder.gave_up if retryable else self.recorder.refused
                    failed.append(
                        {"route": route, "status": status, "attempts": attempt, "detail": detail}
                    )
                return answer
            self.recorder.retries += 1
            await asyncio.sleep(min(2.0, max(retry_after, 0.1 * 2 ** min(attempt, 4))))

    async def check_after_retry(self, route: str, path: str, check: Callable[[Any], bool]) -> None:
        """A retried write refused because its lost first attempt had gone through: is it
        there? (Recorded apart: it was never acknowledged.)"""
        seen = await self.call("GET (check after retry)", "GET", path)
        self.recorder.found_after_retry.append(
            {"route": route, "path": path, "present": bool(seen.ok and check(seen.body))}
        )


def _json(raw: bytes) -> Any:
    import json

    try:
        return json.loads(raw)
    except ValueError:
        return None


def _seconds(value: str | None) -> float:
    try:
        return min(5.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def ref_number(ref: str) -> int:
    return int(ref.rsplit("-", 1)[1])


def small_file(rng: random.Random, n: int) -> tuple[str, bytes, str]:
    """A small log excerpt or binary blob (1-16 KiB), its name and its sha256."""
    size = rng.randint(1024, 16 * 1024)
    if rng.random() < 0.5:
        lines = []
        while sum(len(line) for line in lines) < size:
            lines.append(
                f"2026-11-25 10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
                f"{rng.choice(['INFO', 'WARN', 'ERROR'])} worker-{rng.randint(1, 8)} "
                f"request {uuid.UUID(int=rng.getrandbits(128))} took {rng.randint(1, 900)} ms\n"
            )
        data, name = "".join(lines).encode(), f"server-{n}.log"
    else:
        data, name = rng.randbytes(size), f"capture-{n}.bin"
    return name, data, hashlib.sha256(data).hexdigest()


@dataclass
class Budget:
    """The run's two bounds: a deadline and a number of requests."""

    deadline: float
    max_requests: int
    recorder: Recorder
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def more(self) -> bool:
        return (
            not self.stop.is_set()
            and time.monotonic() < self.deadline
            and self.recorder.requests < self.max_requests
        )


IMPACTS = (
    ({"app_unavailable": True}, "all_users", True),
    ({"app_unavailable": False}, "end_users", True),
    ({"app_unavailable": False}, "particular_circumstance", True),
    ({"data_loss": True}, "particular_circumstance", True),
)


class Customer:
    """Reports cases (at most ``open_cap`` of its own open at once), answers the info requests
    on them (a file attached to every other answer), and confirms resolutions."""

    def __init__(self, client: Client, rng: random.Random, open_cap: int, idle: float) -> None:
        self.c = client
        self.rng = rng
        self.open_cap = open_cap
        self.idle = idle
        self.open: set[str] = set()
        self.n = 0

    async def run(self, budget: Budget) -> None:
        while budget.more():
            if len(self.open) < self.open_cap:
                await self.report()
            elif not await self.answer() and not await self.confirm():
                await self.c.call("GET /api/v1/cases/{ref}", "GET", f"/api/v1/cases/{self.pick()}")
                await asyncio.sleep(self.idle)

    def pick(self) -> str:
        return self.rng.choice(sorted(self.open))

    async def report(self) -> None:
        self.n += 1
        token = uuid.uuid4().hex[:12]
        impact, breadth, blocked = self.rng.choice(IMPACTS)
        title = f"Claims portal failing for end users ({token})"
        body = {
            "title": title,
            "description": f"Load workload report {token}: HTTP 503 on every page since 08:40 "
            "after the 10.4.2 deployment; users cannot file claims.",
            "environment_id": self.c.person.environment_id,
            "impact": impact,
            "breadth": breadth,
            "end_users_blocked": blocked,
        }
        answer = await self.c.call(
            "POST /api/v1/cases",
            "POST",
            "/api/v1/cases",
            json=body,
            headers={"Idempotency-Key": f"load-{token}"},
        )
        if answer.ok:
            ref = answer.body["ref"]
            self.c.recorder.ledger.cases[ref] = {"title": title, "reporter": self.c.person.email}
            self.open.add(ref)

    async def answer(self) -> bool:
        listed = await self.c.call(
            "GET /api/v1/cases?state=", "GET", "/api/v1/cases?state=awaiting_customer&limit=50"
        )
        mine = [i["ref"] for i in (listed.body or {}).get("items", []) if i["ref"] in self.open]
        if not listed.ok or not mine:
            return False
        ref = self.rng.choice(mine)
        requests = await self.c.call(
            "GET /api/v1/cases/{ref}/requests", "GET", f"/api/v1/cases/{ref}/requests"
        )
        for request in (requests.body or {}).get("items", []):
            if request["state"] == "open":
                await self.answer_one(ref, request)
        return True

    async def answer_one(self, ref: str, request: dict[str, Any]) -> None:
        ledger = self.c.recorder.ledger
        ids: list[int] = []
        if request["kind"] == "logs" or self.rng.random() < 0.5:
            name, data, sha = small_file(self.rng, self.n)

            def form() -> aiohttp.FormData:
                parts = aiohttp.FormData()
                parts.add_field("request_id", str(request["id"]))
                parts.add_field("file", data, filename=name)
                return parts

            uploaded = await self.c.call(
                "POST /api/v1/cases/{ref}/attachments",
                "POST",
                f"/api/v1/cases/{ref}/attachments",
                form=form,
            )
            if not uploaded.ok:
                return
            ids.append(uploaded.body["id"])
            ledger.attachments[uploaded.body["id"]] = {
                "ref": ref,
                "sha256": sha,
                "size": len(data),
                "request_id": request["id"],
                "reported_sha256": uploaded.body.get("sha256"),
            }
        message = f"Answer {uuid.uuid4().hex[:12]}: done as asked, see the attached file."
        path = f"/api/v1/cases/{ref}/requests/{request['id']}/answer"
        body = {"message": message, "attachment_ids": ids}
        route = "POST /api/v1/cases/{ref}/requests/{id}/answer"
        answered = await self.c.call(route, "POST", path, json=body)
        if answered.ok:
            ledger.answers[request["id"]] = {"ref": ref, "message": message, "attachment_ids": ids}
        elif answered.status == 409 and answered.attempts > 1:
            await self.c.check_after_retry(
                route,
                f"/api/v1/cases/{ref}/requests/{request['id']}",
                lambda b: b.get("answer") == message,
            )

    async def confirm(self) -> bool:
        listed = await self.c.call(
            "GET /api/v1/cases?state=", "GET", "/api/v1/cases?state=resolved&limit=50"
        )
        mine = [i["ref"] for i in (listed.body or {}).get("items", []) if i["ref"] in self.open]
        if not listed.ok or not mine:
            return False
        ref = mine[0]
        done = await self.c.call(
            "POST /api/v1/cases/{ref}/actions/confirm",
            "POST",
            f"/api/v1/cases/{ref}/actions/confirm",
            json={},
        )
        if done.ok:
            self.c.recorder.ledger.confirmed.add(ref)
        if done.ok or (done.status == 409 and done.attempts > 1):
            self.open.discard(ref)  # (a 409 on a retry: the lost first attempt closed it)
        return True


class Engineer:
    """Resolves the cases it owns whose info requests were answered; then takes a new case of
    its share from the queue: assign to itself, start investigating, ask the customer."""

    def __init__(
        self, client: Client, rng: random.Random, share: int, shares: int, idle: float
    ) -> None:
        self.c = client
        self.rng = rng
        self.share = share
        self.shares = shares
        self.idle = idle
        self.asked: set[str] = set()

    def mine(self, ref: str) -> bool:
        return ref_number(ref) % self.shares == self.share

    async def run(self, budget: Budget) -> None:
        while budget.more():
            resolved = await self.resolve_answered()
            took = await self.take_one() if budget.more() else False
            if not resolved and not took:
                await asyncio.sleep(self.idle)

    async def resolve_answered(self) -> bool:
        listed = await self.c.call(
            "GET /api/v1/cases?state=",
            "GET",
            "/api/v1/cases?state=investigating&owner=me&limit=20",
        )
        ready = [i["ref"] for i in (listed.body or {}).get("items", []) if i["ref"] in self.asked]
        for ref in ready[:2]:
            body = {"outcomes": [{"type": "resolution_advised", "text": "Raise the pool size."}]}
            done = await self.c.call(
                "POST /api/v1/cases/{ref}/actions/resolve",
                "POST",
                f"/api/v1/cases/{ref}/actions/resolve",
                json=body,
            )
            if done.ok:
                self.c.recorder.ledger.resolved.add(ref)
                self.asked.discard(ref)
        return bool(ready)

    async def take_one(self) -> bool:
        queue = await self.c.call("GET /api/v1/queue", "GET", "/api/v1/queue?limit=50")
        items = (queue.body or {}).get("items", [])
        candidates = [i["ref"] for i in items if i["state"] == "new" and self.mine(i["ref"])]
        # Only the workload's own reports: the demo's cases and any the caller keeps apart.
        candidates = [ref for ref in candidates if ref in self.c.recorder.ledger.cases]
        if not candidates:
            listed = await self.c.call(
                "GET /api/v1/cases?state=", "GET", "/api/v1/cases?state=new&limit=100"
            )
            items = (listed.body or {}).get("items", [])
            candidates = [
                i["ref"]
                for i in items
                if self.mine(i["ref"]) and i["ref"] in self.c.recorder.ledger.cases
            ]
        if not candidates:
            return False
        ref = candidates[0]
        ledger = self.c.recorder.ledger
        steps: list[tuple[str, str, dict[str, Any], set[str] | None]] = [
            ("assign", "actions/assign", {"engineer": self.c.person.email}, ledger.assigned),
            ("start_investigation", "actions/start_investigation", {}, ledger.started),
        ]
        for action, tail, body, record in steps:
            done = await self.c.call(
                f"POST /api/v1/cases/{{ref}}/actions/{action}",
                "POST",
                f"/api/v1/cases/{ref}/{tail}",
                json=body,
            )
            if not done.ok:
                return True
            if record is not None:
                record.add(ref)
        kind = self.rng.choice(("question", "logs"))
        details = {"logs": ["server.log", "gc.log"]} if kind == "logs" else {}
        opened = await self.c.call(
            "POST /api/v1/cases/{ref}/requests",
            "POST",
            f"/api/v1/cases/{ref}/requests",
            json={
                "kind": kind,
                "message": "Please send the server log of 08:30-09:00.",
                "details": details,
            },
        )
        if opened.ok:
            ledger.requests[opened.body["id"]] = ref
            self.asked.add(ref)
        return True


@dataclass
class Plan:
    bases: list[str]
    customers: list[Person]
    engineers: list[Person]
    clients: int = 64
    seconds: float = 60.0
    max_requests: int = 200_000
    engineer_share: float = 0.25
    open_cap: int = 3
    idle_seconds: float = 0.2
    seed: int = 9
    policy: Policy = field(default_factory=Policy)


async def run(plan: Plan, recorder: Recorder | None = None, stop: asyncio.Event | None = None):
    """Runs ``plan.clients`` actors until a bound is reached; returns the recorder."""
    recorder = recorder or Recorder()
    engineers = max(1, round(plan.clients * plan.engineer_share))
    customers = plan.clients - engineers
    if customers > len(plan.customers) or engineers > len(plan.engineers):
        raise ValueError("not enough people for that many clients")
    rng = random.Random(plan.seed)
    connector = aiohttp.TCPConnector(limit=plan.clients * 2, limit_per_host=plan.clients)
    timeout = aiohttp.ClientTimeout(total=plan.policy.timeout_seconds)
    budget = Budget(time.monotonic() + plan.seconds, plan.max_requests, recorder)
    if stop is not None:
        budget.stop = stop
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        actors: list[Customer | Engineer] = []
        for n in range(customers):
            client = Client(session, plan.bases, n, plan.customers[n], recorder, plan.policy)
            actors.append(
                Customer(client, random.Random(rng.random()), plan.open_cap, plan.idle_seconds)
            )
        for n in range(engineers):
            client = Client(session, plan.bases, n, plan.engineers[n], recorder, plan.policy)
            actors.append(
                Engineer(client, random.Random(rng.random()), n, engineers, plan.idle_seconds)
            )
        started = time.monotonic()
        await asyncio.gather(*(actor.run(budget) for actor in actors))
        recorder.wall_seconds = time.monotonic() - started
    return recorder


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile (load.py's definition), in the values' unit."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def route_table(recorder: Recorder) -> list[dict[str, Any]]:
    rows = []
    wall = recorder.wall_seconds or 1.0
    for route in sorted(recorder.codes):
        ok = recorder.latencies.get(route, [])
        codes = recorder.codes[route]
        rows.append(
            {
                "route": route,
                "requests": sum(codes.values()),
                "ok": len(ok),
                "codes": dict(codes),
                "per_s": round(len(ok) / wall, 1),
                "p50_ms": _ms(percentile(ok, 50)),
                "p90_ms": _ms(percentile(ok, 90)),
                "p99_ms": _ms(percentile(ok, 99)),
                "max_ms": _ms(max(ok) if ok else None),
            }
        )
    return rows


def _ms(value: float | None) -> float | None:
    return round(value * 1000, 1) if value is not None else None
