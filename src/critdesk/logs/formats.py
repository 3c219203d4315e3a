"""Log line headers: which format a file is in, detected from its first lines (pure).

A header is what a logging framework puts before the message: a time stamp and, depending on
the format, a level, a thread, a logger or program, a process id, a host. Nothing is
configured per file: every candidate layout is tried on a sample of the file's first lines,
combined with every time-stamp shape, and the layouts that match most of the sample's lines
are kept — most specific first. A line is then split by the first kept layout that matches
it; a line that none matches has no header (a stack frame, a wrapped message).

Layouts (``{ts}`` is any time-stamp shape of ``TIMESTAMPS``):

=================  =========================================================================
``log4j``          ``{ts} LEVEL [thread] logger - message`` (or ``logger: message``)
``logback``        ``{ts} [thread] LEVEL logger - message``
``catalina``       ``{ts} LEVEL [thread] class.method message`` (Tomcat's JULI)
``level-logger``   ``{ts} LEVEL logger: message``, ``{ts} [pid] LEVEL logger - message``
``python``         ``{ts} - logger - LEVEL - message``
``postgresql``     ``{ts} [zone] [pid] [user@db] LEVEL:  message``
``nginx-error``    ``{ts} [level] pid#tid: message``
``apache-error``   ``[{ts}] [module:level] [pid …] message``
``access``         ``host ident user [{ts}] "request" status size …`` (common/combined)
``syslog``         ``[<pri>]{ts} host program[pid]: message`` (RFC 3164)
``rfc5424``        ``<pri>1 {iso} host app procid msgid [sd] message``
``bracket-source`` ``[{ts}] source - message``
``delimited``      ``{ts}|field|…|message`` (``|``, ``;`` or tab; the field count is detected)
``level``          ``{ts} LEVEL message`` (``[LEVEL]``, ``LEVEL:`` too)
``timestamp``      ``{ts} message``, ``[{ts}] message``
=================  =========================================================================

Windows event exports (CSV or tab-separated, with ``Level``, ``Source`` and ``Event ID``
columns) are recognised by their heading row (``windows_export``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

# --- levels ---------------------------------------------------------------------------------

SEVERITIES = ("fatal", "error", "warning", "info", "debug")
_LEVEL_WORDS = {
    "fatal": "fatal",
    "critical": "fatal",
    "crit": "fatal",
    "emerg": "fatal",
    "emergency": "fatal",
    "alert": "fatal",
    "panic": "fatal",
    "error": "error",
    "err": "error",
    "severe": "error",
    "warn": "warning",
    "warning": "warning",
    "info": "info",
    "information": "info",
    "informational": "info",
    "notice": "info",
    "log": "info",
    "statement": "info",
    "detail": "info",
    "hint": "info",
    "context": "info",
    "debug": "debug",
    "debug1": "debug",
    "debug2": "debug",
    "debug3": "debug",
    "debug4": "debug",
    "debug5": "debug",
    "trace": "debug",
    "fine": "debug",
    "finer": "debug",
    "finest": "debug",
    "config": "debug",
    "verbose": "debug",
}
_LEVEL = (
    r"(?P<level>(?i:FATAL|CRITICAL|CRIT|EMERG(?:ENCY)?|ALERT|PANIC|ERROR|ERR|SEVERE|"
    r"WARN(?:ING)?|INFO(?:RMATION(?:AL)?)?|NOTICE|DEBUG|TRACE|FINE(?:R|ST)?|CONFIG|VERBOSE))"
)
_SIGNED_LEVEL = (
    r"(?P<level>(?i:FATAL|CRITICAL|CRIT|EMERG(?:ENCY)?|ALERT|PANIC|ERROR|ERR|SEVERE|WARN(?:ING)?))"
)
# A line that continues an event: indented (stack frames), a cause, "... 12 more", or an
# exception's own line ("java.lang.IllegalStateException: …").
_RUN_LINE = (
    r"(?:[ \t]|Caused by|Suppressed:|\.\.\. \d|Exception in thread|Traceback \(|"
    r"[\w$]+(?:\.[\w$]+)*(?:Exception|Error|Throwable|Fault|Panic)\b)[^\n]*"
)
_PG_LEVEL = (
    r"(?P<level>LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|STATEMENT|"
    r"CONTEXT|QUERY|LOCATION)"
)


def severity(level: str | None) -> str | None:
    """A level word in any framework's spelling → one of ``SEVERITIES`` (None if unknown)."""
    if not level:
        return None
    return _LEVEL_WORDS.get(level.strip("[]():<> ").lower())


def status_severity(status: str | None) -> str | None:
    """An HTTP status (access logs) as a severity: 5xx error, 4xx warning, else info."""
    if not status or not status.isdigit():
        return None
    return "error" if status[0] == "5" else "warning" if status[0] == "4" else "info"


# --- time stamps ----------------------------------------------------------------------------

_FRACTION = r"(?:[.,:]\d{1,9})?"
TIMESTAMPS: dict[str, str] = {
    "iso": r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:\s?(?:Z|[+-]\d{2}:?\d{2}))?",
    "slash": r"\d{2,4}/\d{2}/\d{2,4}[ T]\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,9})?",
    "us": r"\d{1,2}/\d{1,2}/\d{4},?\s\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?",
    "tomcat": r"\d{2}-[A-Z][a-z]{2}-\d{4}\s\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?",
    "syslog": r"[A-Z][a-z]{2}\s{1,2}\d{1,2}\s\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?",
    "ctime": r"[A-Z][a-z]{2}\s[A-Z][a-z]{2}\s{1,2}\d{1,2}\s\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?\s\d{4}",
    "compact": r"\d{8}[-T ]?\d{1,2}:\d{1,2}:\d{1,2}" + _FRACTION,
    "packed": r"\d{6}\s\d{6}",
    "dotted": r"\d{1,2}\.\d{1,2}(?:\.\d{2,4})?\s\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?",
    "access": r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}\s[+-]\d{4}",
    "time": r"\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?",
}
_ZONE_NAME = r"(?:\s(?:UTC|GMT|[A-Z]{3,4}))?"

# --- layouts ----------------------------------------------------------------------------------

_THREAD = r"\[(?P<thread>[^\]]{0,200})\]"
_LOGGER = r"(?P<source>[A-Za-z_$][\w$.\-/]{0,199})"
_REST = r"(?P<msg>.*)"

# (name, regex with {ts}, time-stamp shapes it takes or None for all, specificity)
_LAYOUTS: tuple[tuple[str, str, tuple[str, ...] | None, float], ...] = (
    ("log4j", rf"{{ts}}\s+{_LEVEL}\s+{_THREAD}\s+{_LOGGER}(?:\s*:|\s+-)(?:\s+|$){_REST}", None, 5),
    ("logback", rf"{{ts}}\s+{_THREAD}\s+{_LEVEL}\s+{_LOGGER}\s+-(?:\s+|$){_REST}", None, 5),
    ("catalina", rf"{{ts}}\s+{_LEVEL}\s+{_THREAD}\s+{_LOGGER}\s+{_REST}", None, 4.5),
    (
        "level-logger",
        rf"{{ts}}\s+(?:\[?(?P<pid>\d+)\]?\s+)?{_LEVEL}\s+{_LOGGER}(?:\s*:|\s+-)(?:\s+|$){_REST}",
        None,
        4,
    ),
    ("python", rf"{{ts}}\s+-\s+{_LOGGER}\s+-\s+{_LEVEL}\s+-\s+{_REST}", None, 4.5),
    (
        "postgresql",
        rf"{{ts}}{_ZONE_NAME}\s+\[(?P<pid>\d+)\]:?(?:\s+\[\d+(?:-\d+)?\])?(?:\s+\S+){{{{0,2}}}}?"
        rf"\s+{_PG_LEVEL}:\s+{_REST}",
        ("iso",),
        4.5,
    ),
    (
        "nginx-error",
        rf"{{ts}}\s+\[{_LEVEL}\]\s+(?P<pid>\d+)#\d+:\s+(?:\*\d+\s+)?{_REST}",
        None,
        4.5,
    ),
    (
        "apache-error",
        rf"\[{{ts}}\]\s+\[(?:[\w-]+:)?{_LEVEL}\](?:\s+\[pid\s(?P<pid>\d+)[^\]]*\])?\s+{_REST}",
        None,
        4,
    ),
    (
        "access",
        r"(?P<host>\S+)\s+\S+\s+\S+\s+\[{ts}\]\s+"
        r'(?P<msg>"[^"]*"\s+(?P<status>\d{3})\s+.*)',
        ("access",),
        5,
    ),
    (
        "syslog",
        r"(?:<\d{1,3}>)?{ts}\s+(?P<host>[\w.\-:]+)\s+"
        r"(?P<source>[^\s:\[][^:\[]{0,48}?)(?:\[(?P<pid>\d+)\])?:(?:\s+|$)" + _REST,
        None,
        3.5,
    ),
    (
        "rfc5424",
        r"<\d{1,3}>\d{1,2}\s+{ts}\s+(?P<host>\S+)\s+(?P<source>\S+)\s+(?P<pid>\S+)\s+\S+\s+"
        r"(?:-|(?:\[[^\]]*\])+)\s?" + _REST,
        ("iso",),
        5,
    ),
    ("bracket-source", r"\[{ts}\]\s+(?P<source>[^\[\]\s][^\[\]]{0,100}?)\s+-\s+" + _REST, None, 3),
    ("bracket-level", rf"\[{{ts}}\]\s+\[?{_LEVEL}\]?:?\s+{_REST}", None, 3),
    ("level", rf"{{ts}}\s+[\[(<]?{_LEVEL}[\])>]?:?(?:\s+|$){_REST}", None, 2.5),
    ("bracket-timestamp", r"\[{ts}\]:?\s*" + _REST, None, 1.5),
    ("timestamp", r"{ts}:?(?:\s+|$)" + _REST, None, 1),
)
# A message field of a delimited layout (``{ts}|Comp|1234|message``): no spaces, short.
_DELIMITERS = ("|", "\t", ";")
_MAX_DELIMITED_FIELDS = 4


@dataclass(frozen=True, slots=True)
class Header:
    """What a line's header says; ``message`` is the rest of the line."""

    message: str
    timestamp: str | None = None
    level: str | None = None
    source: str | None = None


def _horizontal(regex: str) -> str:
    """``regex`` with ``\\s`` narrowed to spaces and tabs, so that no match crosses a line."""
    out: list[str] = []
    in_class = False
    opened = i = 0
    while i < len(regex):
        char = regex[i]
        if char == "\\" and i + 1 < len(regex):
            pair = regex[i : i + 2]
            out.append((" \\t" if in_class else "[ \\t]") if pair == "\\s" else pair)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class, opened = True, i
        elif char == "]" and in_class and i > opened + 1 and regex[opened:i] != "[^":
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Layout:
    name: str
    timestamp: str
    pattern: re.Pattern[str]
    specificity: float
    # Layouts with a level: a regex over a block that matches only warning-or-worse headers
    # (group "head") and runs of continuation lines (group "run"); see analysis._fast_block.
    signals: re.Pattern[str] | None = None

    @cached_property
    def has_level(self) -> bool:
        return "level" in self.pattern.groupindex

    @cached_property
    def has_status(self) -> bool:
        return "status" in self.pattern.groupindex

    @cached_property
    def block(self) -> re.Pattern[str]:
        """The layout over a block of lines: every header line of it, one match each."""
        return re.compile("(?m)^" + _horizontal(self.pattern.pattern))

    @property
    def label(self) -> str:
        return f"{self.name}/{self.timestamp}"

    def parse(self, line: str) -> Header | None:
        m = self.pattern.match(line)
        if m is None:
            return None
        groups = m.groupdict()
        level = groups.get("level")
        if level is None and groups.get("status") is not None:
            level = status_severity(groups["status"])
        return Header(
            message=(groups.get("msg") or "").strip(),
            timestamp=groups.get("ts"),
            level=level,
            source=groups.get("source"),
        )


def _layouts() -> list[Layout]:
    found = []
    for name, template, shapes, specificity in _LAYOUTS:
        for shape in shapes or tuple(s for s in TIMESTAMPS if s != "access"):
            regex = template.replace("{ts}", f"(?P<ts>{TIMESTAMPS[shape]})")
            regex = regex.replace("{{", "{").replace("}}", "}")
            signals = None
            if _LEVEL in regex and name != "postgresql":
                head = _horizontal(regex.replace(_LEVEL, _SIGNED_LEVEL))
                signals = re.compile(
                    rf"\n(?:(?P<head>{head})|(?P<run>{_RUN_LINE}(?:\n{_RUN_LINE})*))"
                )
            found.append(Layout(name, shape, re.compile(regex), specificity, signals))
    for delimiter in _DELIMITERS:
        escaped = re.escape(delimiter)
        field = rf"[^\s{escaped}]{{1,80}}"
        for shape in TIMESTAMPS:
            for count in range(_MAX_DELIMITED_FIELDS + 1):
                fields = rf"(?:{field}{escaped}){{{count}}}" if count else ""
                regex = rf"(?P<ts>{TIMESTAMPS[shape]}){escaped}{fields}(?P<msg>.*)"
                found.append(
                    Layout(f"delimited{count}", shape, re.compile(regex), 1.5 + count * 0.75)
                )
    return found


LAYOUTS = _layouts()

# --- detection --------------------------------------------------------------------------------

SAMPLE_LINES = 200
# A layout is kept if it matches at least this share of the lines the best one matches.
KEEP_SHARE = 0.5
# Lines that continue an event (stack frames, wrapped text) are not evidence of a layout.
_CONTINUATION = re.compile(r"^(?:\s|Caused by|Suppressed:|\.\.\. \d+ (?:more|common)|at\s)")


@dataclass(frozen=True)
class Format:
    """A file's header layouts, most specific first; ``name`` is the best one's label."""

    name: str
    layouts: tuple[Layout, ...]
    windows: WindowsExport | None = None

    def parse(self, line: str) -> Header | None:
        if self.windows is not None:
            return self.windows.parse(line)
        for layout in self.layouts:
            found = layout.parse(line)
            if found is not None:
                return found
        return None


UNKNOWN = Format(name="unknown", layouts=())


def detect(sample: Sequence[str]) -> Format:
    """The format of a file whose first lines are ``sample`` (a few hundred suffice)."""
    lines = [line for line in sample if line.strip()][:SAMPLE_LINES]
    windows = WindowsExport.detect(lines)
    if windows is not None:
        return Format(name="windows-events", layouts=(), windows=windows)
    candidates = [line for line in lines if not _CONTINUATION.match(line)] or lines
    if not candidates:
        return UNKNOWN
    scored: list[tuple[int, Layout]] = []
    for layout in LAYOUTS:
        hits = sum(1 for line in candidates if layout.pattern.match(line))
        if hits:
            scored.append((hits, layout))
    if not scored:
        return UNKNOWN
    best = max(hits for hits, _ in scored)
    # Rare matches are chance (a message that happens to start like a header).
    floor = best * KEEP_SHARE
    kept = [(hits, layout) for hits, layout in scored if hits >= floor]
    kept.sort(key=lambda item: (-item[1].specificity, -item[0]))
    layouts = tuple(_dedupe(layout for _, layout in kept))
    leader = max(kept, key=lambda item: (item[0], item[1].specificity))[1]
    return Format(name=_describe(leader), layouts=layouts)


def _dedupe(layouts: object) -> list[Layout]:
    seen: set[str] = set()
    found = []
    for layout in layouts:  # type: ignore[attr-defined]
        if layout.label not in seen:
            seen.add(layout.label)
            found.append(layout)
    return found


def _describe(layout: Layout) -> str:
    name = "delimited" if layout.name.startswith("delimited") else layout.name
    return f"{name} ({layout.timestamp} time stamps)"


# --- Windows event exports ------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowsExport:
    """Event Viewer / ``Get-WinEvent`` exports: a heading row, then one event per row."""

    delimiter: str
    level: int
    time: int | None
    source: int | None
    event_id: int | None
    message: int | None

    @classmethod
    def detect(cls, lines: Sequence[str]) -> WindowsExport | None:
        if not lines:
            return None
        heading = lines[0].lstrip("\ufeff")
        for delimiter in (",", "\t", ";"):
            names = [n.strip().strip('"').lower() for n in heading.split(delimiter)]
            if "level" not in names or "source" not in names:
                continue
            if not any(n in ("event id", "eventid", "id") for n in names):
                continue

            def column(*options: str, names: list[str] = names) -> int | None:
                return next((names.index(o) for o in options if o in names), None)

            level = column("level")
            assert level is not None
            return cls(
                delimiter=delimiter,
                level=level,
                time=column("date and time", "timecreated", "time created", "date", "time"),
                source=column("source", "providername", "provider"),
                event_id=column("event id", "eventid", "id"),
                message=column("message", "description"),
            )
        return None

    def parse(self, line: str) -> Header | None:
        fields = next(csv.reader([line], delimiter=self.delimiter), [])
        if len(fields) <= self.level or severity(fields[self.level]) is None:
            return None

        def get(index: int | None) -> str | None:
            return fields[index].strip() if index is not None and index < len(fields) else None

        event_id = get(self.event_id)
        message = get(self.message)
        if message is None:
            # Exports without a message column end with it (Event Viewer's CSV does).
            used = {i for i in (self.level, self.time, self.source, self.event_id) if i is not None}
            message = " ".join(f for i, f in enumerate(fields) if i not in used and i > max(used))
        text = f"Event {event_id}: {message}" if event_id else message
        return Header(
            message=text, timestamp=get(self.time), level=get(self.level), source=get(self.source)
        )
