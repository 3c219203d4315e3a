"""Exception and stack-trace fingerprints from free text (pure functions, no I/O).

A bug report, a case description or a log file holds stack traces in many dialects; two
reports of the same defect share the exception type and the application's own frames even
when their prose, line numbers, thread names and host paths differ. ``extract_signatures``
turns text into comparable strings:

- ``exception:NullPointerException`` — an exception type (simple name: prose says
  "NullPointerException" where a trace says ``java.lang.NullPointerException``);
- ``frame:com.acme.billing.InvoiceService.total`` — a normalised *in-app* frame: no line or
  column numbers, no anonymous-class or lambda counters, no generated-proxy hashes, no host
  path prefixes; framework and runtime frames (``java.*``, Tomcat, Spring, the Python standard
  library and site-packages, ``node_modules``, ``node:internal``…) are left out unless a trace
  has no other frames;
- ``stack:NullPointerException@com.acme.A.f>com.acme.B.g>com.acme.C.h`` — the exception with
  its top three in-app frames: the strongest fingerprint, shared by reports of one defect.

Dialects: Java/Kotlin/.NET (``at a.b.C.m(File.java:12)``, ``Caused by:`` chains — each cause
is a trace of its own), Python tracebacks (``File "…/x.py", line 3, in f``), JavaScript (V8
``at f (file.js:1:2)`` and Firefox ``f@file.js:1:2``), and Mozilla crash signatures
(``[@ nsFoo::Bar ]``). The log-analysis work reuses ``parse_traces`` and ``normalise_*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

STACK_FRAMES = 3
FRAMES_PER_TRACE = 8

# Runtime, container and framework code: a match there says little about *which* defect.
LIBRARY_PREFIXES = (
    "java.",
    "javax.",
    "jakarta.",
    "jdk.",
    "sun.",
    "com.sun.",
    "kotlin.",
    "kotlinx.",
    "scala.",
    "groovy.",
    "org.apache.catalina.",
    "org.apache.coyote.",
    "org.apache.tomcat.",
    "org.apache.jasper.",
    "org.apache.el.",
    "org.springframework.",
    "org.hibernate.",
    "org.eclipse.jetty.",
    "org.jboss.",
    "io.netty.",
    "io.undertow.",
    "reactor.",
    "com.fasterxml.jackson.",
    "com.zaxxer.hikari.",
    "org.postgresql.",
    "oracle.jdbc.",
    "com.microsoft.sqlserver.",
    "org.mariadb.",
    "org.h2.",
    "com.mysql.",
    "org.junit.",
    "junit.",
    "System.",
    "Microsoft.",
)
_LIBRARY_PATHS = ("node_modules/", "node:", "internal/", "<frozen", "<string>", "site-packages/")
_PYTHON_STDLIB = re.compile(r"/lib/python\d[\d.]*/|dist-packages/|\\lib\\")

# Qualified names may carry generated parts ($, <init>, <lambda>).
_QUALIFIED = r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$<][\w$<>]*)+"
_EXCEPTION_NAME = r"(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*?(?:Exception|Error|Throwable|Fault|Panic)"

_JAVA_FRAME = re.compile(rf"^\s*at\s+(?P<frame>{_QUALIFIED})\s*\((?P<where>[^)]*)\)", re.M)
_PY_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+, in (?P<func>[\w<>.]+)', re.M)
_V8_FRAME = re.compile(
    r"^\s*at\s+(?:(?:async\s+)?(?P<func>[^\s(]+(?:\s\[as \w+\])?)\s+)?\(?"
    r"(?P<path>(?:[a-z][\w+.-]*:/*|/|\.{0,2}/|[A-Za-z]:\\)[^\s()]*?):\d+(?::\d+)?\)?\s*$",
    re.M,
)
_GECKO_FRAME = re.compile(r"^\s*(?P<func>[\w$.<>/]*)@(?P<path>\S+?):\d+(?::\d+)?\s*$", re.M)
_EXCEPTION_HEAD = re.compile(
    rf"^\s*(?:(?:Caused by|Exception in thread \"[^\"]*\"|Uncaught(?: \(in promise\))?)"
    rf":?\s*)?(?P<type>{_EXCEPTION_NAME})(?=[:\s]|$)",
    re.M,
)
_EXCEPTION_ANYWHERE = re.compile(rf"(?<![\w$.])(?P<type>{_EXCEPTION_NAME})(?![\w$])")
_CRASH_SIGNATURE = re.compile(r"\[@\s*(?P<sig>[^\]\n]{2,200}?)\s*\]")
_JS_LOCATION = re.compile(r":\d+:\d+\s*$|://")
# Text without any of these holds no trace, exception name or crash signature: most reports.
# (Substring tests: a regular expression alternation costs ten times more.)
_HINTS = ("Exception", "Error", "Throwable", "Fault", "Panic", "Traceback", "@", "at ")
# Exception names are found from their suffix backwards, which is much faster than trying a
# qualified-name pattern at every position of the text; the results are the same.
_SUFFIX = re.compile(r"(?:Exception|Error|Throwable|Fault|Panic)(?![\w$])")
_NAME_ENDING_HERE = re.compile(rf"(?<![\w$.])(?P<type>{_EXCEPTION_NAME})\Z")
_HEAD_PREFIX = re.compile(
    r"\s*(?:(?:Caused by|Exception in thread \"[^\"]*\"|Uncaught(?: \(in promise\))?):?\s*)?"
)
_NAME_WINDOW = 300
# Java, .NET and V8 frame lines start with indented "at " (or "at " at a line's start).
_FRAME_MARKERS = ("\tat ", "  at ", "\nat ")
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):", re.M)

_ANON_CLASS = re.compile(r"\$\d+")
_LAMBDA = re.compile(r"(lambda\$[\w]+?)\$\d+")
_GENERATED = re.compile(r"\$\$\w*?\$\$[0-9a-f]+|(?<=Accessor)\d+|\$\$Lambda\$?[\d/x]*")
_BUNDLE_HASH = re.compile(r"[.-][0-9a-f]{6,}(?=\.m?js$)")
_CRASH_OFFSET = re.compile(r"\s*\+\s*0x[0-9a-f]+|\(\)$")


@dataclass(frozen=True)
class Trace:
    """One exception with the frames under it (outermost call last, as printed)."""

    exception: str | None
    frames: tuple[str, ...] = field(default=())
    in_app: tuple[str, ...] = field(default=())


def exception_name(qualified: str) -> str:
    """``java.lang.IllegalStateException`` → ``IllegalStateException``."""
    return qualified.rsplit(".", 1)[-1]


def normalise_java_frame(frame: str) -> str:
    """Drop anonymous-class counters, lambda numbers and generated-proxy suffixes."""
    frame = _GENERATED.sub("", frame)
    frame = _LAMBDA.sub(r"\1", frame)
    return _ANON_CLASS.sub("", frame)


def normalise_python_frame(path: str, function: str) -> str:
    """``/srv/app/src/critdesk/bug/service.py`` + ``create`` → ``critdesk.bug.service.create``.

    The last three path parts name the module whatever the install prefix was.
    """
    parts = [p for p in re.split(r"[\\/]", path) if p]
    if parts:
        parts[-1] = re.sub(r"\.pyw?$", "", parts[-1])
    return ".".join([*parts[-3:], function])


def normalise_js_frame(path: str, function: str | None) -> str:
    """``at Grid.render (https://x/static/main.3f2a1b9c.js:1:2)`` → ``Grid.render@main.js``."""
    name = re.split(r"[?#]", path)[0].rstrip("/").rsplit("/", 1)[-1]
    name = _BUNDLE_HASH.sub("", name)
    function = (function or "<anonymous>").replace("Object.<anonymous>", "<anonymous>")
    return f"{function}@{name}"


def is_library_frame(frame: str, path: str = "") -> bool:
    if path and (any(p in path for p in _LIBRARY_PATHS) or _PYTHON_STDLIB.search(path)):
        return True
    return frame.startswith(LIBRARY_PREFIXES)


def parse_traces(text: str) -> list[Trace]:
    """Split ``text`` into traces: each exception line owns the frames that follow it."""
    events = _events(text)
    traces: list[Trace] = []
    exception: str | None = None
    frames: list[tuple[str, bool]] = []
    python = False
    for _position, kind, value, library in events:
        if kind == "exception":
            if python and exception is None and frames:
                # A Python traceback prints its frames first and the exception last.
                exception = value
                traces.append(_trace(exception, frames, reverse=True))
                exception, frames, python = None, [], False
                continue
            if exception is not None or frames:
                traces.append(_trace(exception, frames))
            exception, frames = value, []
        elif kind == "traceback":
            if exception is not None or frames:
                traces.append(_trace(exception, frames))
            exception, frames, python = None, [], True
        else:
            frames.append((value, library))
    if exception is not None or frames:
        traces.append(_trace(exception, frames, reverse=python))
    return traces


def _events(text: str) -> list[tuple[int, str, str, bool]]:
    events: list[tuple[int, str, str, bool]] = []
    taken: set[int] = set()
    # Each dialect's marker is looked for first: a substring test costs far less than a scan.
    at = any(marker in text for marker in _FRAME_MARKERS)
    file_line = 'File "' in text
    for m in _JAVA_FRAME.finditer(text) if at else ():
        where = m.group("where")
        if _JS_LOCATION.search(where):
            continue  # "at f (file.js:1:2)" is V8's dialect, handled below
        taken.add(m.start())
        if where in ("<anonymous>", "native"):
            continue  # a JavaScript built-in (Array.map): no place in a fingerprint
        frame = normalise_java_frame(m.group("frame"))
        events.append((m.start(), "frame", frame, is_library_frame(frame, where)))
    for m in _PY_FRAME.finditer(text) if file_line else ():
        path = m.group("path")
        frame = normalise_python_frame(path, m.group("func"))
        events.append((m.start(), "frame", frame, is_library_frame(frame, path)))
    taken.update(e[0] for e in events)
    for regex, marker in ((_V8_FRAME, at), (_GECKO_FRAME, "@" in text)):
        for m in regex.finditer(text) if marker else ():
            if m.start() in taken:
                continue
            path = m.group("path")
            frame = normalise_js_frame(path, m.group("func"))
            events.append((m.start(), "frame", frame, is_library_frame(frame, path)))
    for start, name, head in _exception_mentions(text):
        if head:
            events.append((start, "exception", exception_name(name), False))
    for m in _TRACEBACK.finditer(text) if file_line else ():
        events.append((m.start(), "traceback", "", False))
    events.sort(key=lambda e: e[0])
    return events


@lru_cache(maxsize=64)
def _exception_mentions(text: str) -> tuple[tuple[int, str, bool], ...]:
    """(position, qualified name, opens its line?) of every exception name in ``text``.

    "Opens its line" is ``_EXCEPTION_HEAD``'s reading: only blanks, ``Caused by:``,
    ``Exception in thread "…"`` or ``Uncaught`` before it, and ``:`` or a blank after it.
    """
    mentions = []
    for suffix in _SUFFIX.finditer(text):
        end = suffix.end()
        line_start = text.rfind("\n", 0, suffix.start()) + 1
        window_start = max(line_start, end - _NAME_WINDOW)
        m = _NAME_ENDING_HERE.search(text, window_start, end)
        if m is None:
            continue
        after = text[end : end + 1]
        head = (after in ("", ":") or after.isspace()) and bool(
            _HEAD_PREFIX.fullmatch(text, line_start, m.start())
        )
        mentions.append((m.start(), m.group("type"), head))
    return tuple(mentions)


def _trace(
    exception: str | None, frames: list[tuple[str, bool]], *, reverse: bool = False
) -> Trace:
    ordered = list(reversed(frames)) if reverse else frames
    names = tuple(f for f, _ in ordered)
    in_app = tuple(f for f, library in ordered if not library)
    return Trace(exception=exception, frames=names, in_app=in_app)


def signatures_of_trace(trace: Trace) -> list[str]:
    frames = list(trace.in_app or trace.frames)[:FRAMES_PER_TRACE]
    found = [f"frame:{f}" for f in dict.fromkeys(frames)]
    if trace.exception:
        found.insert(0, f"exception:{trace.exception}")
        if frames:
            found.append(f"stack:{trace.exception}@{'>'.join(frames[:STACK_FRAMES])}")
    elif len(frames) >= 2:
        found.append(f"stack:@{'>'.join(frames[:STACK_FRAMES])}")
    return found


@lru_cache(maxsize=1024)
def extract_signatures(text: str) -> tuple[str, ...]:
    """Every exception/stack fingerprint in ``text``, first occurrence first, no repeats.

    Cached for the last texts: indexing a bug extracts from the same text twice (its
    ``Doc`` and the engine's own look at it).
    """
    if not text or not any(hint in text for hint in _HINTS):
        return ()
    found: list[str] = []
    for trace in parse_traces(text):
        found.extend(signatures_of_trace(trace))
    for _start, name, _head in _exception_mentions(text):
        found.append(f"exception:{exception_name(name)}")
    for m in _CRASH_SIGNATURE.finditer(text) if "[@" in text else ():
        signature = _CRASH_OFFSET.sub("", m.group("sig").strip())
        if signature:
            found.append(f"crash:{signature}")
    return tuple(dict.fromkeys(found))


# --- one line at a time (the log analysis reads traces as lines stream past) -----------------


def java_frame(line: str) -> tuple[str, bool] | None:
    """A Java/Kotlin/.NET frame line as (normalised frame, library?), exactly as
    ``parse_traces`` reads it; None for any other line (or a JavaScript built-in)."""
    m = _JAVA_FRAME.match(line)
    if m is None:
        return None
    where = m.group("where")
    if _JS_LOCATION.search(where) or where in ("<anonymous>", "native"):
        return None
    frame = normalise_java_frame(m.group("frame"))
    return frame, is_library_frame(frame, where)


def exception_at_start(line: str) -> str | None:
    """The exception type a line opens with (``Caused by: a.b.FooException: …``), as
    ``parse_traces`` reads it; None otherwise."""
    m = _EXCEPTION_HEAD.match(line)
    return exception_name(m.group("type")) if m is not None else None


def make_trace(exception: str | None, frames: list[tuple[str, bool]]) -> Trace:
    """The ``Trace`` of an exception and its frames (in printed order)."""
    return _trace(exception, frames)
