"""A bug report as a GitHub issue body in Markdown: the same sections as in Jira, stack
traces in fenced code blocks, and a hidden marker naming the bug so that its issue can be
found again (see ``GitHubTracker``)."""

from __future__ import annotations

import re

from critdesk.adapters.tracker.interface import BugExport
from critdesk.adapters.tracker.sections import Block, blocks, environment_lines, sections, summary

# "@name" in an issue notifies that GitHub user or team; text written for critdesk is not
# meant to page anyone, so a zero-width space keeps it from being read as a mention.
MENTION = re.compile(r"(?<![\w`])@(?=[A-Za-z0-9])")
ZERO_WIDTH_SPACE = "\u200b"


def marker(key: str) -> str:
    return f"<!-- critdesk:{key} -->"


def body(report: BugExport) -> str:
    parts = [marker(report.key), f"> Filed from critdesk: {summary(report)}"]
    for title, text in sections(report):
        parts.append(f"## {title}")
        parts.extend(render(block) for block in blocks(text))
    parts.append("## Affected versions")
    parts.append("\n".join(f"- {quiet(v)}" for v in report.affected_versions))
    lines = environment_lines(report)
    if lines:
        parts.append("## Environment")
        parts.append("\n".join(f"- {quiet(line)}" for line in lines))
    if report.signatures:
        parts.append("## Signatures")
        parts.append(fenced("\n".join(report.signatures)))
    return "\n\n".join(parts) + "\n"


def render(block: Block) -> str:
    if block.kind == "code":
        return fenced("\n".join(block.lines))
    if block.kind == "steps":
        return "\n".join(f"{n}. {quiet(line)}" for n, line in enumerate(block.lines, 1))
    return "\n".join(quiet(line) for line in block.lines)


def fenced(code: str) -> str:
    """A fence longer than any run of backticks inside, so the code cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{code}\n{fence}"


def quiet(text: str) -> str:
    return MENTION.sub("@" + ZERO_WIDTH_SPACE, text.replace("<!--", "&lt;!--"))
