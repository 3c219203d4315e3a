"""A bug report as an Atlassian Document Format (ADF) document, what Jira Cloud's REST v3
takes for rich text: headings, paragraphs (line breaks as ``hardBreak``), ordered lists for
numbered steps and ``codeBlock`` for stack traces and signatures."""

from __future__ import annotations

from typing import Any

from critdesk.adapters.tracker.interface import BugExport
from critdesk.adapters.tracker.sections import Block, blocks, environment_lines, sections, summary

Node = dict[str, Any]


def document(report: BugExport) -> Node:
    content: list[Node] = [paragraph([text("critdesk ", strong=True), text(summary(report))])]
    for title, body in sections(report):
        content.append(heading(title))
        content.extend(block_node(block) for block in blocks(body))
    for title, lines in (
        ("Affected versions", list(report.affected_versions)),
        ("Environment", environment_lines(report)),
    ):
        if lines:  # an ADF list holds at least one item
            content.extend((heading(title), bullet_list(lines)))
    if report.signatures:
        content.append(heading("Signatures"))
        content.append(code_block("\n".join(report.signatures)))
    return {"type": "doc", "version": 1, "content": content}


def block_node(block: Block) -> Node:
    if block.kind == "code":
        return code_block("\n".join(block.lines))
    if block.kind == "steps":
        return {"type": "orderedList", "content": [list_item(line) for line in block.lines]}
    return paragraph_of_lines(block.lines)


def heading(title: str, level: int = 2) -> Node:
    return {"type": "heading", "attrs": {"level": level}, "content": [text(title)]}


def paragraph(content: list[Node]) -> Node:
    return {"type": "paragraph", "content": content}


def paragraph_of_lines(lines: tuple[str, ...] | list[str]) -> Node:
    content: list[Node] = []
    for line in lines:
        if content:
            content.append({"type": "hardBreak"})
        if line:
            content.append(text(line))
    return paragraph(content)


def text(value: str, *, strong: bool = False) -> Node:
    # ADF refuses empty text nodes; callers skip empty lines.
    node: Node = {"type": "text", "text": value}
    if strong:
        node["marks"] = [{"type": "strong"}]
    return node


def code_block(value: str) -> Node:
    return {"type": "codeBlock", "attrs": {}, "content": [text(value)] if value else []}


def list_item(line: str) -> Node:
    return {"type": "listItem", "content": [paragraph_of_lines([line])]}


def bullet_list(lines: list[str]) -> Node:
    return {"type": "bulletList", "content": [list_item(line) for line in lines]}
