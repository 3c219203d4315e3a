"""The hash chain's rules: how a sealed audit event is serialised and hashed, and what makes one
link of the chain good or bad. Plain values in, plain values out: no database, no clock.

Each event is sealed once: it gets the next sequence number ``seq``, the hash of the event
sealed before it (``prev_hash``) and its own ``hash`` — SHA-256 over a canonical JSON document
of ``seq``, ``prev_hash`` and every content column. Editing any column of a sealed event, or
removing, inserting or reordering events, breaks a hash or a link that ``verify`` checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The link before the first event: a chain always starts from the same known value.
GENESIS = "0" * 64
# Every column an event is made of, apart from its seal (seq, prev_hash, hash).
CONTENT = ("id", "at", "actor_id", "organisation_id", "action", "object_type", "object_id", "data")


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing found wrong with the chain; ``seq``/``event_id`` name where, if a row."""

    code: str
    reason: str
    seq: int | None = None
    event_id: int | None = None

    def describe(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.event_id is not None:
            where.append(f"event id {self.event_id}")
        at = f" at {', '.join(where)}" if where else ""
        return f"{self.code}{at}: {self.reason}"


def _iso(moment: datetime) -> str:
    # Aware, in UTC, always with microseconds: one spelling for one instant, whichever
    # database returned it (SQLite keeps no zone; PostgreSQL returns its session zone).
    if moment.tzinfo is None:
        raise ValueError("an audit event's time must be aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(seq: int, prev_hash: str, content: Mapping[Any, Any]) -> bytes:
    """The bytes an event's hash covers: JSON with sorted keys, no spaces, ASCII only (so no
    Unicode normalisation question arises), the time as UTC ISO 8601."""
    document = {name: content[name] for name in CONTENT}
    document["at"] = _iso(content["at"])
    document["seq"] = seq
    document["prev_hash"] = prev_hash
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def digest(seq: int, prev_hash: str, content: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical(seq, prev_hash, content)).hexdigest()


def check_link(row: Mapping[Any, Any], expected_seq: int, prev_hash: str) -> Problem | None:
    """One sealed row against what the chain so far says it must be.

    A missing sequence number means rows were deleted (or renumbered); a ``prev_hash`` that is
    not the previous row's hash means a row was removed and replaced, or inserted; a hash that
    does not match the row's content means the row was edited after sealing.
    """
    seq, event_id = row["seq"], row["id"]
    if seq != expected_seq:
        missing = (
            f"seq {expected_seq} is"
            if seq == expected_seq + 1
            else f"seqs {expected_seq}..{seq - 1} are"
        )
        return Problem(
            "gap",
            f"the chain jumps from seq {expected_seq - 1} to {seq}: {missing} missing "
            "(deleted events)",
            seq,
            event_id,
        )
    if row["prev_hash"] != prev_hash:
        return Problem(
            "broken_link",
            "prev_hash is not the hash of the event sealed before it "
            "(an event was removed, replaced or inserted before this one)",
            seq,
            event_id,
        )
    try:
        expected = digest(seq, prev_hash, row)
    except (TypeError, ValueError):
        expected = None
    if row["hash"] != expected:
        return Problem(
            "edited", "the hash does not match the event's content (edited)", seq, event_id
        )
    return None


def check_head(
    head_seq: int | None, head_hash: str | None, last_seq: int, last_hash: str
) -> Problem | None:
    """The chain head against the last sealed row the walk reached."""
    if head_seq is None:
        if last_seq == 0:
            return None
        return Problem(
            "head_missing", f"sealed events up to seq {last_seq} exist but the chain head is gone"
        )
    if head_seq > last_seq:
        return Problem(
            "head_mismatch",
            f"the chain head is at seq {head_seq} but the events end at seq {last_seq} "
            "(the last events were deleted)",
            last_seq or None,
        )
    if head_hash != last_hash:
        return Problem(
            "head_mismatch",
            f"the chain head's hash is not the hash of seq {last_seq} "
            "(the last event was replaced)",
            last_seq or None,
        )
    return None


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` — a chain position recorded somewhere outside the database."""
    seq, _, value = text.partition(":")
    value = value.strip().lower()
    if not seq.strip().isdigit() or int(seq) < 1 or len(value) != 64:
        raise ValueError("an anchor is SEQ:HASH, e.g. 1200:<64 hex digits>")
    if any(c not in "0123456789abcdef" for c in value):
        raise ValueError("an anchor's hash is 64 hex digits")
    return int(seq), value
