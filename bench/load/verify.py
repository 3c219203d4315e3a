"""After a run: is every acknowledged write there? Read straight from the database (not
through the API that made them), and each file's bytes downloaded again.

- every case by ref, with its title, and exactly one case per report (a retried report
  carries its Idempotency-Key: a duplicate would show as a second case with the same title);
- every info request opened, on its case;
- every answer, with its text, on the right request, its files linked to it;
- every attachment by id: on its case, with the sha256 the client computed, and its bytes as
  served back (``GET .../attachments/{id}``: the store may encrypt them at rest) hashing to it;
- every assignment, investigation, resolution and confirmation the server acknowledged.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select

from bench.load.workload import Ledger, ref_number
from critdesk.attachment.models import Attachment
from critdesk.case.models import Case
from critdesk.request.models import InfoRequest

CHUNK = 500


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _downloaded_sha256(base: str, token: str, wanted: dict[int, str]) -> dict[int, str | None]:
    """attachment id -> sha256 of the bytes served for it (None when not served)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

        def one(item: tuple[int, str]) -> tuple[int, str | None]:
            attachment_id, ref = item
            answer = client.get(f"/api/v1/cases/{ref}/attachments/{attachment_id}")
            if answer.status_code != 200:
                return attachment_id, None
            return attachment_id, hashlib.sha256(answer.content).hexdigest()

        with ThreadPoolExecutor(4) as pool:
            return dict(pool.map(one, wanted.items()))


def verify(url: str, ledger: Ledger, base: str, token: str) -> dict[str, Any]:
    """``base`` and ``token``: an API process and a token that may read every case's files."""
    engine = create_engine(url)
    missing: list[str] = []
    try:
        with engine.connect() as conn:
            cases = {ref_number(ref): ref for ref in ledger.cases}
            found: dict[int, Any] = {}
            for ids in _chunks(sorted(cases)):
                for row in conn.execute(
                    select(Case.id, Case.title, Case.state, Case.owner_id).where(Case.id.in_(ids))
                ):
                    found[row.id] = row
            for number, ref in cases.items():
                row = found.get(number)
                if row is None:
                    missing.append(f"case {ref}")
                elif row.title != ledger.cases[ref]["title"]:
                    missing.append(f"case {ref}: title {row.title!r}")
            titles = [entry["title"] for entry in ledger.cases.values()]
            duplicates = 0
            for chunk in [titles[i : i + CHUNK] for i in range(0, len(titles), CHUNK)]:
                duplicates += sum(
                    n - 1
                    for _, n in conn.execute(
                        select(Case.title, func.count())
                        .where(Case.title.in_(chunk))
                        .group_by(Case.title)
                        .having(func.count() > 1)
                    )
                )
            for ref in ledger.resolved - ledger.confirmed:
                row = found.get(ref_number(ref))
                if row is not None and row.state not in ("resolved", "closed"):
                    missing.append(f"resolution of {ref}: state {row.state}")
            for ref in ledger.confirmed:
                row = found.get(ref_number(ref))
                if row is not None and row.state != "closed":
                    missing.append(f"confirmation of {ref}: state {row.state}")
            for ref in ledger.started:
                row = found.get(ref_number(ref))
                if row is not None and row.state == "new":
                    missing.append(f"investigation of {ref}: still new")
            for ref in ledger.assigned:
                row = found.get(ref_number(ref))
                if row is not None and row.owner_id is None:
                    missing.append(f"assignment of {ref}: no owner")

            requests: dict[int, Any] = {}
            for ids in _chunks(sorted(set(ledger.requests) | set(ledger.answers))):
                for row in conn.execute(
                    select(
                        InfoRequest.id, InfoRequest.case_id, InfoRequest.state, InfoRequest.answer
                    ).where(InfoRequest.id.in_(ids))
                ):
                    requests[row.id] = row
            for request_id, ref in ledger.requests.items():
                row = requests.get(request_id)
                if row is None or row.case_id != ref_number(ref):
                    missing.append(f"info request {request_id} on {ref}")
            for request_id, entry in ledger.answers.items():
                row = requests.get(request_id)
                if row is None or row.state != "answered" or row.answer != entry["message"]:
                    missing.append(f"answer to request {request_id} on {entry['ref']}")

            files: dict[int, Any] = {}
            for ids in _chunks(sorted(ledger.attachments)):
                for row in conn.execute(
                    select(
                        Attachment.id,
                        Attachment.case_id,
                        Attachment.sha256,
                        Attachment.size,
                        Attachment.storage_key,
                        Attachment.request_id,
                    ).where(Attachment.id.in_(ids))
                ):
                    files[row.id] = row
            served = _downloaded_sha256(
                base, token, {i: e["ref"] for i, e in ledger.attachments.items()}
            )
            checked_bytes = 0
            for attachment_id, entry in ledger.attachments.items():
                row = files.get(attachment_id)
                if row is None or row.case_id != ref_number(entry["ref"]):
                    missing.append(f"attachment {attachment_id} on {entry['ref']}")
                    continue
                if row.sha256 != entry["sha256"] or row.size != entry["size"]:
                    missing.append(f"attachment {attachment_id}: sha256 or size differs")
                    continue
                if served.get(attachment_id) != entry["sha256"]:
                    missing.append(f"attachment {attachment_id}: bytes served differ or missing")
                    continue
                checked_bytes += entry["size"]
            for request_id, entry in ledger.answers.items():
                for attachment_id in entry["attachment_ids"]:
                    row = files.get(attachment_id)
                    if row is not None and row.request_id != request_id:
                        missing.append(f"attachment {attachment_id} not linked to {request_id}")
    finally:
        engine.dispose()
    return {
        "acknowledged": ledger.counts(),
        "attachment_bytes_downloaded_and_hashed": checked_bytes,
        "duplicate_cases": duplicates,
        "missing": missing[:200],
        "missing_count": len(missing),
        "ok": not missing and duplicates == 0,
    }
