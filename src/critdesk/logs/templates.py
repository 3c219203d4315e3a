"""Every line of a log mapped to its template: ``critdesk logs templates`` and its scoring.

Lines are read as they come (``logs.reader``); the first ``formats.SAMPLE_LINES`` are held
back until the header format is detected, then every line's message (the line without its
header; the whole line where there is none) goes to one ``TemplateMiner``. The line → cluster
ids are kept in a compact array (4 bytes a line), so the final templates — after the
miner's end-of-stream merges — can be printed for every line.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from critdesk.logs import formats
from critdesk.logs.miner import TemplateMiner
from critdesk.logs.reader import LineStats, read_lines


@dataclass
class TemplatedLines:
    format: formats.Format
    miner: TemplateMiner
    clusters: array[int] = field(default_factory=lambda: array("l"))
    stats: LineStats = field(default_factory=LineStats)

    def rows(self) -> Iterator[tuple[int, int, str]]:
        """(line number from 1, template id, template) for every line, after merging."""
        groups: dict[int, tuple[int, str]] = {}
        for number, cluster_id in enumerate(self.clusters, start=1):
            found = groups.get(cluster_id)
            if found is None:
                lead = self.miner.group(cluster_id)
                found = groups[cluster_id] = (lead.id + 1, lead.template)
            yield number, found[0], found[1]


def sample_then_rest(blocks: Iterable[list[str]], size: int) -> tuple[list[str], Iterator[str]]:
    """The first ``size`` lines, and an iterator over all lines (those first ones included)."""
    iterator = iter(blocks)
    sample: list[str] = []
    held: list[list[str]] = []
    for block in iterator:
        held.append(block)
        sample.extend(block[: size - len(sample)])
        if len(sample) >= size:
            break

    def lines() -> Iterator[str]:
        for block in held:
            yield from block
        for block in iterator:
            yield from block

    return sample, lines()


def message_of(fmt: formats.Format, line: str) -> str:
    header = fmt.parse(line)
    return header.message if header is not None else line.strip()


def template_lines(
    lines: Iterable[str], *, sample: list[str] | None = None, miner: TemplateMiner | None = None
) -> TemplatedLines:
    """Mines templates for ``lines``; the format is detected from ``sample`` (or the lines)."""
    if sample is None:
        lines = list(lines)
        sample = lines[: formats.SAMPLE_LINES]
    result = TemplatedLines(
        format=formats.detect(sample), miner=miner if miner is not None else TemplateMiner()
    )
    add, parse, clusters = result.miner.add, result.format.parse, result.clusters
    for line in lines:
        header = parse(line)
        clusters.append(add(header.message if header is not None else line.strip()))
    result.miner.finish()
    return result


def template_stream(stream: BinaryIO) -> TemplatedLines:
    stats = LineStats()
    sample, lines = sample_then_rest(read_lines(stream, stats), formats.SAMPLE_LINES)
    result = template_lines(lines, sample=sample)
    result.stats = stats
    return result
