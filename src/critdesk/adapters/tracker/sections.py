"""How a bug report reads in a tracker, whatever its markup: the same sections in the same
order, and free text split into paragraphs, numbered steps and code (stack traces)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from critdesk.adapters.tracker.interface import BugExport

FENCE = re.compile(r"^\s*(```|~~~)")
STEP = re.compile(r"^\s*\d{1,3}[.)]\s+")
# Lines of a stack trace (Java, .NET, JavaScript, Python): indented "at …" frames, Python's
# "File …, line N", and the headers and trailers around them.
FRAME = re.compile(
    r'^(\s+at\s+\S|\s*File "[^"]*", line \d+|Traceback \(most recent call last\):'
    r"|\s*Caused by: |\s*\.\.\. \d+ more)"
)
# Jira keeps at most 32,767 characters of description and GitHub 65,536 of body, while a
# critdesk section may hold 50,000: each section is cut to fit, and says so.
MAX_SECTION_CHARS = 7_000
ENVIRONMENT_LABELS = {
    "deployment_type": "Deployment type",
    "product_version": "Product version",
    "database": "Database",
    "browser": "Browser",
    "operating_system": "Operating system",
    "production": "Production",
    "other": "Other",
}


@dataclass(frozen=True, slots=True)
class Block:
    kind: Literal["prose", "steps", "code"]
    lines: tuple[str, ...]  # steps: the items without their numbers; code: verbatim


def blocks(text: str) -> list[Block]:
    """Free text as blocks: fenced code as written, then blank-line separated chunks that
    are numbered steps, a stack trace (shown as code), or prose."""
    found: list[Block] = []
    chunk: list[str] = []
    fenced: list[str] | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if fenced is not None:
            if FENCE.match(line):
                found.append(Block("code", tuple(fenced)))
                fenced = None
            else:
                fenced.append(line)
        elif FENCE.match(line):
            found.extend(_chunk(chunk))
            chunk, fenced = [], []
        elif line.strip():
            chunk.append(line)
        else:
            found.extend(_chunk(chunk))
            chunk = []
    found.extend(_chunk(chunk))
    if fenced:  # an unclosed fence still holds code
        found.append(Block("code", tuple(fenced)))
    return found


def _chunk(lines: list[str]) -> list[Block]:
    if not lines:
        return []
    if all(STEP.match(line) for line in lines):
        return [Block("steps", tuple(STEP.sub("", line).strip() for line in lines))]
    if is_trace(lines):
        return [Block("code", tuple(lines))]
    return [Block("prose", tuple(line.strip() for line in lines))]


def is_trace(lines: list[str]) -> bool:
    frames = sum(1 for line in lines if FRAME.match(line))
    return frames >= 1 and frames * 2 >= len(lines) - 1


def sections(report: BugExport) -> list[tuple[str, str]]:
    """The free-text sections, headed, in the order development reads them."""
    return [
        (title, clip(text, report.key))
        for title, text in (
            ("Description", report.description),
            ("Steps to reproduce", report.steps_to_reproduce),
            ("Expected behaviour", report.expected),
            ("Actual behaviour", report.actual),
        )
    ]


def clip(text: str, key: str, limit: int = MAX_SECTION_CHARS) -> str:
    """The text, or its start cut at a line end (a cut fence is closed by ``blocks``)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    kept = text[: cut if cut > 0 else limit]
    if sum(1 for line in kept.split("\n") if FENCE.match(line)) % 2:
        kept += "\n```"  # close a fence the cut left open, so the note reads as prose
    return kept + f"\n\n[Cut here: the full text is in critdesk, {key}.]"


def summary(report: BugExport) -> str:
    where = report.product + (f" / {report.component}" if report.component else "")
    plural = "" if report.linked_cases == 1 else "s"
    cases = f"{report.linked_cases} linked customer case{plural}"
    visibility = "public known issue" if report.public else "internal"
    return f"{report.key} · severity {report.severity} · {where} · {cases} · {visibility}"


def environment_lines(report: BugExport) -> list[str]:
    lines = []
    for name, value in report.environment.items():
        if value is None or value == "":
            continue
        shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        lines.append(f"{ENVIRONMENT_LABELS.get(name, name)}: {shown}")
    return lines
