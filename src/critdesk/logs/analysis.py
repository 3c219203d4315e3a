"""One log file, streamed once: events, templates, exception fingerprints, ranked signatures.

The pipeline, per log in the file (``reader.open_sources``: the file, or an archive's logs):

1. lines arrive a block at a time (``reader.read_lines``); the first ones pick the header
   format (``formats.detect``);
2. a line with a header starts an **event**; lines without one (stack frames, ``Caused by:``,
   ``... 12 more``, wrapped text) continue it;
3. every event's message is mined into a template (``miner.TemplateMiner``);
4. an event with an exception gets a Sentry-style **fingerprint** — exception type and its
   top normalised in-app frames, no line numbers — computed with ``search.signatures`` so
   that it equals what a bug report stores; any other warning or error event is signed by
   its template; ``info`` and ``debug`` events are counted, not signed;
5. each signature accumulates its count, first and last time, a per-minute histogram
   around the customer's reported start, its peak rate (burstiness) and a few sample events.

Memory is bounded whatever the file's size: lines are capped (``reader``), at most
``MAX_SIGNATURES`` signatures are tracked (later ones are counted as untracked), samples
and kept event lines are capped, and the miner's own structures are bounded.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from critdesk.logs import formats, rules
from critdesk.logs.miner import TemplateMiner
from critdesk.logs.reader import LineStats, NotText, SourceError, open_sources, read_blocks
from critdesk.logs.timestamps import TimeReader
from critdesk.search.signatures import (
    Trace,
    exception_at_start,
    java_frame,
    make_trace,
    parse_traces,
    signatures_of_trace,
)

MAX_SIGNATURES = 2000
SIGNATURES_SHOWN = 50
SAMPLES = 3
SAMPLE_LINES = 40
SAMPLE_CHARS = 4000
# Lines of an event kept for its sample and for traces in other dialects (Python, JS).
KEPT_LINES = 200
# Frames kept per exception, and exceptions per event (a "Caused by" chain), at most.
MAX_FRAMES = 256
MAX_TRACES = 32
_MISSING = object()
_RUN_CACHE = 2000
SIGNED = frozenset({"fatal", "error", "warning"})
_CONTINUATION_START = frozenset(" \t.CSca")
_CONTINUATION = ("Caused by", "Suppressed:", "... ", "caused by", "at ")
_OTHER_DIALECT = re.compile(r'^\s*(?:Traceback \(most recent call last\)|File "|at .+:\d+:\d+\)?$)')
_LEVEL_IN_TEXT = re.compile(r"\b(FATAL|CRITICAL|SEVERE|ERROR|WARN(?:ING)?)\b")
_CACHE_LIMIT = 50_000


@dataclass
class Options:
    reported_at: datetime | None = None
    # The year of stamps that have none (syslog): the reported start's, or the upload's.
    year: int = 2000
    # Signatures tracked at most; events of later ones are counted as untracked.
    max_signatures: int = MAX_SIGNATURES


@dataclass(slots=True)
class _Signature:
    fingerprint: str
    kind: str  # "exception" | "log"
    exception: str | None
    frames: tuple[str, ...]
    signatures: tuple[str, ...]
    severity: str | None = None
    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    first_line: int = 0
    source: str = ""
    minute: datetime | None = None
    minute_count: int = 0
    peak: int = 0
    histogram_start: datetime | None = None
    histogram: list[int] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    clusters: dict[int, int] = field(default_factory=dict)


@dataclass
class _Source:
    name: str
    format: str = "unknown"
    stats: LineStats = field(default_factory=LineStats)
    events: int = 0
    error: str | None = None


class Analyzer:
    """Feed it a stored file with ``add_file``; ``summary()`` is the result (plain JSON)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.miner = TemplateMiner()
        self.times = TimeReader(self.options.year)
        self.sources: list[_Source] = []
        self.signatures: dict[str, _Signature] = {}
        self.levels: dict[str, int] = {}
        self.events = 0
        self.untracked = 0
        self.warnings: list[str] = []
        self.first_at: datetime | None = None
        self.last_stamp: str | None = None
        self._frames: dict[str, tuple[str, bool] | None] = {}
        self._signed: dict[tuple[Any, ...], Any] = {}
        self._runs: dict[
            str, tuple[tuple[tuple[str | None, tuple[tuple[str, bool], ...]], ...], bool]
        ] = {}
        self._pending: tuple[re.Match[str], int, str, _Source] | None = None
        self._number = 0
        # The last line of the previous block when no match covered it (see _fast_block).
        self._tail: str | None = None
        self._exceptions: dict[str, str | None] = {}
        self._reset_event()

    # -- input -------------------------------------------------------------------------------

    def add_file(
        self, stream: BinaryIO, name: str, on_block: Callable[[], None] | None = None
    ) -> None:
        """Every log in a stored file (plain, gzip, zip or tar). Damage ends it early with a
        warning; binary content is refused (``NotText``) unless the file is an archive."""
        try:
            for source in open_sources(stream, name):
                self._add_source(source.name, source.stream, on_block, source.archived)
        except SourceError as error:
            self.warnings.append(str(error))

    def _add_source(
        self,
        name: str,
        stream: BinaryIO,
        on_block: Callable[[], None] | None,
        archived: bool = False,
    ) -> None:
        source = _Source(name)
        self.sources.append(source)
        self._number = 0
        try:
            blocks = _with_callback(read_blocks(stream, source.stats), on_block)
            held, fmt = _detect(blocks)
            source.format = fmt.name
            for text in itertools.chain(held, blocks):
                self._block(source, fmt, text)
        except NotText as error:
            source.error = str(error)
            if not archived:
                raise
            self.warnings.append(f"{name}: skipped: {error}")
        except SourceError as error:
            self.warnings.append(f"{error}; analysed the {source.stats.lines} lines before it")
            source.error = str(error)
        finally:
            self._end_event()
            self._pending = None
            self._tail = None
        if source.stats.truncated:
            self.warnings.append(
                f"{name}: {source.stats.truncated} line(s) longer than the limit were cut "
                f"(the longest was {source.stats.longest} bytes)"
            )

    def _block(self, source: _Source, fmt: formats.Format, text: str) -> None:
        """A block of lines. Header lines of the file's main layout are found by one regex
        over the block (fast); the lines between them go one by one (``_line``)."""
        layout = fmt.layouts[0] if fmt.layouts and fmt.windows is None else None
        if layout is None:
            for line in text.split("\n"):
                self._line(source, fmt, line)
            return
        if layout.signals is not None:
            self._fast_block(source, fmt, layout, layout.signals, text)
            return
        position = 0
        header = self._header_match
        for found in layout.block.finditer(text):
            start = found.start()
            if start > position:
                for line in text[position : start - 1].split("\n"):
                    self._line(source, fmt, line)
            header(source, layout, found)
            position = found.end() + 1
        if position < len(text):
            for line in text[position:].split("\n"):
                self._line(source, fmt, line)

    def _fast_block(
        self,
        source: _Source,
        fmt: formats.Format,
        layout: formats.Layout,
        signals: re.Pattern[str],
        text: str,
    ) -> None:
        """A block of a layout with levels, read by one regex that stops only at warning and
        error headers and at runs of continuation lines (stack traces); every other line is
        an info (or lower) event, counted, not read. This is what makes the analysis fast.

        The regex anchors on line ends (``\\n`` then the line), which the regex engine finds
        far faster than line starts; the block gets one in front for its first line."""
        if self.first_at is None:
            first = fmt.parse(text.split("\n", 1)[0])
            self.first_at = self.times(first.timestamp) if first is not None else None
        text = "\n" + text
        base = self._number
        head_end = -1  # where the line of the last warning/error header ends
        continued = signed = 0
        tail, self._tail = self._tail, None
        end = 0
        for found in signals.finditer(text):
            start = found.start()  # the line end before the matched line
            end = found.end()
            run = found.group("run")
            if run is None:
                self._end_event()
                level = found.group("level")
                severity = _SEVERITY.get(level) or _severity(level)
                signed += 1
                self.levels[severity] = self.levels.get(severity, 0) + 1
                self._start_event(
                    source, (base, text, start), found.group("head"), _header(found), severity
                )
                head_end = end
                continue
            continued += run.count("\n") + 1
            if not (self._in_event and (start == head_end or (start == 0 and tail is None))):
                # The run follows a line not read yet (an info header): that line is its event.
                self._end_event()
                previous = tail if start == 0 else text[text.rfind("\n", 0, start) + 1 : start]
                if previous is not None:
                    line_start = text.rfind("\n", 0, start)
                    self._start_line_event(source, fmt, (base, text, line_start), previous)
            if self._in_event:
                self._continue_run(run)
            head_end = end
        lines = text.count("\n")
        events = lines - continued - _blank_lines(text)
        self.events += events
        source.events += events
        self.levels["info"] = self.levels.get("info", 0) + events - signed
        self._number = base + lines
        if head_end < len(text):
            # The block ends with a line no match covered (an info header): the current event
            # ended before it, and a stack trace at the start of the next block belongs to it.
            self._end_event()
            self._tail = text[text.rfind("\n") + 1 :]
        self._last_header(fmt, text)

    def _start_line_event(
        self, source: _Source, fmt: formats.Format, number: LineRef, line: str
    ) -> None:
        header = fmt.parse(line) or formats.Header(message=line.strip())
        severity = (formats.severity(header.level) if header.level else None) or "info"
        self._start_event(source, number, line, header, severity)

    def _last_header(self, fmt: formats.Format, text: str) -> None:
        end = len(text)
        for _ in range(50):
            start = text.rfind("\n", 0, end) + 1
            header = fmt.parse(text[start:end])
            if header is not None and header.timestamp is not None:
                self.last_stamp = header.timestamp
                return
            if start == 0:
                return
            end = start - 1

    def _header_match(self, source: _Source, layout: formats.Layout, found: re.Match[str]) -> None:
        self._number += 1
        level = found.group("level") if layout.has_level else None
        if level is not None:
            severity = _SEVERITY.get(level)
            if severity is None:
                severity = _SEVERITY[level] = formats.severity(level) or "unknown"
        elif layout.has_status:
            severity = formats.status_severity(found.group("status")) or "unknown"
        else:
            severity = _guess_level(found.group(0))
        self._count(source, severity, found.group("ts"))
        if self._in_event:
            self._end_event()
        if severity in SIGNED:
            self._pending = None
            self._start_event(source, self._number, found.group(0), _header(found), severity)
        else:
            # An info line is only counted — unless a stack trace follows it (``_materialise``).
            self._pending = (found, self._number, severity, source)

    def _line(self, source: _Source, fmt: formats.Format, line: str) -> None:
        """One line that is not a header of the main layout: a header of another layout, a
        continuation of the current event, or an event of its own."""
        self._number += 1
        first = line[:1]
        if first in _CONTINUATION_START and (first in " \t" or line.startswith(_CONTINUATION)):
            if self._materialise():
                self._continue(line)
                return
            if not line.strip():
                return
        headerless = not fmt.layouts and fmt.windows is None
        header = None if headerless else fmt.parse(line)
        if header is None:
            if not headerless and self._materialise():
                self._continue(line)
                return
            if not line.strip():
                return
            header = formats.Header(message=line.strip())
        if header.level is not None:
            severity = formats.severity(header.level) or "unknown"
        else:
            severity = _guess_level(line)
        self._count(source, severity, header.timestamp)
        self._end_event()
        self._pending = None
        self._start_event(source, self._number, line, header, severity)

    def _count(self, source: _Source, severity: str, stamp: str | None) -> None:
        self.events += 1
        source.events += 1
        self.levels[severity] = self.levels.get(severity, 0) + 1
        if stamp is not None:
            if self.first_at is None:
                self.first_at = self.times(stamp)
            self.last_stamp = stamp

    def _materialise(self) -> bool:
        """Whether there is an event to continue (an info line becomes one now if needed)."""
        if self._in_event:
            return True
        if self._pending is None:
            return False
        found, number, severity, source = self._pending
        self._pending = None
        self._start_event(source, number, found.group(0), _header(found), severity)
        return True

    # -- events --------------------------------------------------------------------------------

    def _reset_event(self) -> None:
        self._in_event = False
        self._source: _Source | None = None
        self._line_no: LineRef = 0
        self._first_line = ""
        self._header: formats.Header | None = None
        self._severity = "unknown"
        self._cluster = -1
        self._kept: list[str] = []  # lines, or runs of lines joined by line ends
        self._kept_lines = 0
        self._dropped = 0
        self._traces: list[tuple[str | None, list[tuple[str, bool]]]] = []
        self._other_dialect = False

    def _start_event(
        self, source: _Source, number: LineRef, line: str, header: formats.Header, severity: str
    ) -> None:
        self._in_event = True
        self._source = source
        self._line_no = number
        self._first_line = line
        self._header = header
        self._severity = severity
        exception = self._exception(header.message)
        if exception is not None:
            self._traces.append((exception, []))

    def _continue(self, line: str) -> None:
        self._keep(line)
        self._read_continuation(line)

    def _continue_run(self, run: str) -> None:
        """A run of continuation lines (a stack trace, usually). The same trace recurs with
        another message on its first line, so what its other lines say is remembered."""
        self._keep(run)
        first, _, rest = run.partition("\n")
        self._read_continuation(first)
        if not rest:
            return
        cached = self._runs.get(rest)
        if cached is None:
            dialect = self._other_dialect
            saved = self._traces
            self._traces = []
            for line in rest.split("\n"):
                self._read_continuation(line)
            found = self._traces
            cached = (tuple((e, tuple(f)) for e, f in found), self._other_dialect)
            self._traces, self._other_dialect = saved, dialect
            if len(self._runs) >= _RUN_CACHE:
                self._runs.clear()
            self._runs[rest] = cached
        traces, other = cached
        self._other_dialect = self._other_dialect or other
        for exception, frames in traces:
            if exception is None and self._traces:
                room = MAX_FRAMES - len(self._traces[-1][1])
                self._traces[-1][1].extend(frames[:room])
            elif len(self._traces) < MAX_TRACES:
                self._traces.append((exception, list(frames)))

    def _keep(self, text: str) -> None:
        """Keeps the event's lines for its sample, up to ``KEPT_LINES`` (the rest counted)."""
        lines = text.count("\n") + 1
        if self._kept_lines < KEPT_LINES:
            self._kept.append(text)
        else:
            self._dropped += lines
        self._kept_lines += lines

    def _read_continuation(self, line: str) -> None:
        frame = self._frames.get(line, _MISSING)
        if frame is _MISSING:
            frame = self._frame(line)
        if frame is not None:
            traces = self._traces
            if not traces:
                traces.append((None, []))
            if len(traces[-1][1]) < MAX_FRAMES:
                traces[-1][1].append(frame)  # type: ignore[arg-type]
            return
        exception = self._exception(line)
        if exception is not None:
            if len(self._traces) < MAX_TRACES:
                self._traces.append((exception, []))
        elif not self._other_dialect and _OTHER_DIALECT.match(line):
            self._other_dialect = True

    def _frame(self, line: str) -> tuple[str, bool] | None:
        cache = self._frames
        if line in cache:
            return cache[line]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        found = cache[line] = java_frame(line) if "at " in line else None
        return found

    def _exception(self, text: str) -> str | None:
        head = text[:300]
        if not (
            "Exception" in head
            or "Error" in head
            or "Throwable" in head
            or "Fault" in head
            or "Panic" in head
        ):
            return None
        cache = self._exceptions
        if head in cache:
            return cache[head]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        found = cache[head] = exception_at_start(head)
        return found

    def _end_event(self) -> None:
        if not self._in_event:
            return
        assert self._header is not None
        level = self._severity
        traces = self._event_traces()
        if traces or level in SIGNED:
            self._cluster = self.miner.add_fast(self._header.message)
            if traces:
                self._sign_exception(traces, level)
            else:
                # One template at two levels (a 404 and a 500 of one request): two signatures.
                self._record(f"log:{level}:{self._cluster}", "log", level, None, (), ())
        self._reset_event()

    def _event_traces(self) -> list[Trace]:
        if self._other_dialect:
            text = "\n".join([self._header.message if self._header else "", *self._kept])
            return [t for t in parse_traces(text) if t.exception or len(t.frames) >= 2]
        return [
            make_trace(exception, frames)
            for exception, frames in self._traces
            if exception is not None or len(frames) >= 2
        ]

    def _sign_exception(self, traces: list[Trace], level: str | None) -> None:
        key = tuple((t.exception, t.frames, t.in_app) for t in traces)
        signed = self._signed.get(key)
        if signed is None:
            if len(self._signed) >= _RUN_CACHE:
                self._signed.clear()
            signed = self._signed[key] = _fingerprint(traces)
        fingerprint, exception, frames, signatures = signed
        self._record(fingerprint, "exception", level, exception, frames, signatures)

    def _record(
        self,
        key: str,
        kind: str,
        level: str | None,
        exception: str | None,
        frames: tuple[str, ...],
        signatures: tuple[str, ...],
    ) -> None:
        signature = self.signatures.get(key)
        if signature is None:
            if len(self.signatures) >= self.options.max_signatures:
                self.untracked += 1
                return
            signature = self.signatures[key] = _Signature(
                fingerprint=key,
                kind=kind,
                exception=exception,
                frames=frames,
                signatures=signatures,
            )
        signature.count += 1
        if rules.SEVERITY_WEIGHT.get(level or "", 0) > rules.SEVERITY_WEIGHT.get(
            signature.severity or "", 0
        ):
            signature.severity = level
        clusters = signature.clusters
        if len(clusters) < 20 or self._cluster in clusters:
            clusters[self._cluster] = clusters.get(self._cluster, 0) + 1
        header = self._header
        at = self.times(header.timestamp) if header is not None else None
        if signature.count == 1:
            assert self._source is not None
            signature.first_line = _line_number(self._line_no)
            signature.source = self._source.name
        if at is not None:
            self._place(signature, at)
        if len(signature.samples) < SAMPLES:
            signature.samples.append(self._sample(at))

    def _place(self, signature: _Signature, at: datetime) -> None:
        if signature.first_at is None or at < signature.first_at:
            signature.first_at = at
        if signature.last_at is None or at > signature.last_at:
            signature.last_at = at
        minute = at.replace(second=0, microsecond=0)
        if minute == signature.minute:
            signature.minute_count += 1
        else:
            signature.minute, signature.minute_count = minute, 1
        signature.peak = max(signature.peak, signature.minute_count)
        if signature.histogram_start is None:
            signature.histogram_start = rules.histogram_start(self.options.reported_at, at)
            signature.histogram = [0] * (2 * rules.HISTOGRAM_MINUTES + 1)
        bucket = rules.histogram_bucket(signature.histogram_start, at)
        if bucket is not None:
            signature.histogram[bucket] += 1

    def _sample(self, at: datetime | None) -> dict[str, Any]:
        kept = "\n".join(self._kept).split("\n") if self._kept else []
        lines = [self._first_line, *kept[: SAMPLE_LINES - 1]]
        more = self._kept_lines - (SAMPLE_LINES - 1)
        text = "\n".join(lines)
        if len(text) > SAMPLE_CHARS:
            text = text[:SAMPLE_CHARS] + "…"
        if more > 0:
            text += f"\n… {more} more line(s)"
        assert self._source is not None
        return {
            "source": self._source.name,
            "line": _line_number(self._line_no),
            "at": _iso(at),
            "text": text,
        }

    # -- output ----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        self.miner.finish()
        ranked = sorted(
            (self._view(s) for s in self.signatures.values()),
            key=lambda v: (-v["score"], -v["count"], v["fingerprint"]),
        )
        lines = sum(s.stats.lines for s in self.sources)
        return {
            "format": self.sources[0].format if len(self.sources) == 1 else _formats(self.sources),
            "sources": [
                {
                    "name": s.name,
                    "format": s.format,
                    "lines": s.stats.lines,
                    "events": s.events,
                    "encoding": s.stats.encoding,
                    "truncated_lines": s.stats.truncated,
                    **({"error": s.error} if s.error else {}),
                }
                for s in self.sources
            ],
            "lines": lines,
            "events": self.events,
            "levels": {k: v for k, v in sorted(self.levels.items()) if v},
            "templates": len({self.miner.group(c.id).id for c in self.miner.clusters}),
            "first_at": _iso(self.first_at),
            "last_at": _iso(self.times(self.last_stamp)),
            "reported_at": _iso(self.options.reported_at),
            "signature_count": len(self.signatures),
            "untracked_events": self.untracked,
            "signatures": ranked[:SIGNATURES_SHOWN],
            "warnings": self.warnings,
        }

    def _view(self, s: _Signature) -> dict[str, Any]:
        burst = rules.burstiness(s.count, s.peak, s.first_at, s.last_at)
        near = rules.started_near(s.first_at, self.options.reported_at)
        ranked = rules.rank(
            severity=s.severity,
            exception=s.kind == "exception",
            count=s.count,
            burst=burst,
            started_near_report=near,
        )
        groups: dict[int, int] = {}
        for cluster_id, n in s.clusters.items():
            lead = self.miner.group(cluster_id)
            groups[lead.id] = groups.get(lead.id, 0) + n
        top = max(groups, key=lambda g: groups[g]) if groups else None
        template = self.miner.clusters[top].template if top is not None else ""
        fingerprint = s.fingerprint if s.kind == "exception" else f"log:{template}"
        title = f"{s.exception}: {template}" if s.exception else template
        return {
            "id": hashlib.sha1(fingerprint.encode()).hexdigest()[:12],
            "fingerprint": fingerprint,
            "kind": s.kind,
            "title": title[:300],
            "exception": s.exception,
            "frames": list(s.frames),
            "severity": s.severity,
            "count": s.count,
            "first_at": _iso(s.first_at),
            "last_at": _iso(s.last_at),
            "first_line": s.first_line,
            "source": s.source,
            "burstiness": round(burst, 2),
            "peak_per_minute": s.peak,
            "started_near_report": near,
            "score": ranked.score,
            "reasons": list(ranked.reasons),
            "template_ids": [g + 1 for g in sorted(groups, key=lambda g: -groups[g])][:5],
            "histogram": None
            if s.histogram_start is None
            else {"start": _iso(s.histogram_start), "per_minute": s.histogram},
            "samples": s.samples,
            "signatures": list(s.signatures)[:20],
        }


_SEVERITY: dict[str, str] = {}
# A line's number, or where to count it from when it is needed (rarely: the first event of
# a signature, and its samples): (lines before the block, the block, an offset in it).
LineRef = int | tuple[int, str, int]


def _fingerprint(
    traces: list[Trace],
) -> tuple[str, str | None, tuple[str, ...], tuple[str, ...]]:
    """(fingerprint, exception, top frames, every signature) of an event's traces."""
    signatures: list[str] = []
    for trace in traces:
        signatures.extend(signatures_of_trace(trace))
    # The root cause — the innermost exception of a "Caused by" chain — names the defect.
    root = next((t for t in reversed(traces) if t.exception and t.frames), None)
    root = root or next((t for t in reversed(traces) if t.exception), traces[0])
    found = signatures_of_trace(root)
    stack = [s for s in found if s.startswith("stack:")]
    fingerprint = stack[0] if stack else found[0] if found else f"exception:{root.exception}"
    frames = tuple(list(root.in_app or root.frames)[:5])
    return fingerprint, root.exception, frames, tuple(dict.fromkeys(signatures))


def _line_number(ref: LineRef) -> int:
    if isinstance(ref, int):
        return ref
    base, text, offset = ref
    return base + text.count("\n", 0, offset + 1)


def _severity(level: str) -> str:
    found = _SEVERITY[level] = formats.severity(level) or "unknown"
    return found


def _blank_lines(text: str) -> int:
    """Empty lines in a block that has a line end in front of its first line."""
    if "\n\n" not in text and not text.endswith("\n"):
        return 0
    return sum(1 for line in text.split("\n") if not line) - 1


def _guess_level(line: str) -> str:
    found = _LEVEL_IN_TEXT.search(line[:200])
    return (formats.severity(found.group(1)) if found else None) or "unknown"


def _header(found: re.Match[str]) -> formats.Header:
    names = found.re.groupindex
    return formats.Header(
        message=(found.group("msg") or "").strip(),
        timestamp=found.group("ts"),
        level=found.group("level") if "level" in names else None,
        source=found.group("source") if "source" in names else None,
    )


def _detect(blocks: Iterator[str]) -> tuple[list[str], formats.Format]:
    """The first blocks (held back) and the format their first lines show."""
    held: list[str] = []
    sample: list[str] = []
    for text in blocks:
        held.append(text)
        sample.extend(text.split("\n", formats.SAMPLE_LINES)[: formats.SAMPLE_LINES - len(sample)])
        if len(sample) >= formats.SAMPLE_LINES:
            break
    return held, formats.detect(sample)


def _with_callback(blocks: Iterable[str], on_block: Callable[[], None] | None) -> Iterator[str]:
    for block in blocks:
        yield block
        if on_block is not None:
            on_block()


def _formats(sources: list[_Source]) -> str:
    names = sorted({s.format for s in sources if s.format != "unknown"})
    return ", ".join(names) or "unknown"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def analyse_stream(stream: BinaryIO, name: str, options: Options | None = None) -> dict[str, Any]:
    analyzer = Analyzer(options)
    analyzer.add_file(stream, name)
    return analyzer.summary()
