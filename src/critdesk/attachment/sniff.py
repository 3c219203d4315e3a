"""What an uploaded file is, judged from its first bytes and never from what the client says.

Pure functions over the file's head (its first ``HEAD_BYTES``), its safe name and, for zip
files, the names in its listing: no I/O, so they are tested with tables of examples.

Kinds (the first rule that matches wins):

- ``export``: the vendor's Entity/Project/Workspace exports: a name ending ``.mpk`` or ``.mpr``,
  or a zip holding ``project.json``, ``workspace.json`` or ``entity.json`` at its top level or one
  folder down (an export zipped together with its folder);
- ``screenshot``: PNG, JPEG, GIF or WebP content;
- ``log``: text named ``*.log``, ``*.txt`` or ``*.out``, or text whose lines mostly carry a time
  stamp or a log level; a gzip file whose decompressed start is such a log;
- ``archive``: zip, gzip, tar and the other compressed containers;
- ``other``: everything else.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import puremagic

HEAD_BYTES = 8192
MAX_NAME_CHARS = 200
FALLBACK_NAME = "attachment"

TEXT = "text/plain"
BINARY = "application/octet-stream"
ZIP = "application/zip"
GZIP = "application/gzip"
TAR = "application/x-tar"

EXPORT_SUFFIXES = (".mpk", ".mpr")
EXPORT_MANIFESTS = frozenset({"project.json", "workspace.json", "entity.json"})
LOG_SUFFIXES = (".log", ".txt", ".out")
TAR_SUFFIXES = (".tar.gz", ".tgz")
SCREENSHOT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
ARCHIVE_TYPES = frozenset(
    {
        ZIP,
        GZIP,
        TAR,
        "application/x-bzip2",
        "application/x-xz",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/zstd",
    }
)
# Zip's local-file, empty-archive and spanned-archive signatures. puremagic guesses an Office
# document for any zip; every such file is a zip first, and is listed as one.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# puremagic's names for types that have a registered (RFC 6713) one.
_CANONICAL = {"application/x-gzip": GZIP, "application/x-zip-compressed": ZIP}
# Control characters that turn up in real logs: tab, newlines, form feed, backspace, escape
# (coloured output).
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\b\x1b")
_CONTROL_BYTES = frozenset(range(32)) - _TEXT_CONTROLS
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"  # ISO 8601 and most frameworks
    r"|\b\d{1,2}:\d{2}:\d{2}\b"  # syslog, time-only formats
    r"|\b\d{2}/[A-Z][a-z]{2}/\d{4}:"  # access logs
)
_LEVEL = re.compile(
    r"\b(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|FATAL|CRITICAL)\b"
    r"|^\s+at [\w$.<>]+\("  # Java stack frames
    r"|\b\w+(?:Exception|Error)\b"
)
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def safe_name(raw: str | None) -> str:
    """The client's file name reduced to a harmless base name; never empty.

    Any folder part (``/`` or ``\\``) goes, as do control and format characters (including
    bidirectional overrides that disguise an extension) and leading dots; long names keep their
    extension.
    """
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME_CHARS].rstrip()
    return name or FALLBACK_NAME


def is_text(head: bytes) -> bool:
    """Text in any ASCII-compatible encoding (UTF-8, Latin-1, cp1252) or UTF-16 with a BOM."""
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte in _CONTROL_BYTES)
    return controls * 100 <= len(head)


def _textual(media_type: str) -> bool:
    return (
        media_type.startswith("text/")
        or media_type.endswith(("/json", "/xml", "+xml", "+json"))
        or media_type == "application/javascript"
    )


def _magic(head: bytes, *, text: bool) -> str | None:
    try:
        found = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    # puremagic's confidence grows with the length of the signature matched; text content can
    # start with a short one (``MZ``) by chance, so for text only long or textual ones count.
    candidates = [
        m
        for m in found
        if m.mime_type and (not text or m.confidence >= 0.4 or _textual(m.mime_type))
    ]
    best = max(candidates, key=lambda m: m.confidence, default=None)
    return None if best is None else _CANONICAL.get(best.mime_type, best.mime_type)


def media_type(head: bytes) -> str:
    """The media type from the magic numbers; text if it reads as text; else octet-stream."""
    if head.startswith(_ZIP_MAGIC):
        return ZIP
    text = is_text(head)
    found = _magic(head, text=text)
    if found is not None:
        return found
    return TEXT if text else BINARY


def decode_head(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace")


def looks_like_log(text: str) -> bool:
    """Most of the first lines carry a time stamp or a log level (at least two such lines)."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    matching = sum(1 for line in lines if _TIMESTAMP.search(line) or _LEVEL.search(line))
    return matching >= 2 and matching * 2 >= len(lines)


def gunzip_head(head: bytes, limit: int = 65_536) -> bytes | None:
    """The start of a gzip file's content; the output is capped, so a bomb cannot inflate it."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, limit)
    except zlib.error:
        return None


def is_export_listing(names: list[str]) -> bool:
    for name in names:
        parts = [p for p in name.replace("\\", "/").split("/") if p]
        if 1 <= len(parts) <= 2 and parts[-1].lower() in EXPORT_MANIFESTS:
            return True
    return False


def _is_log(name: str, head: bytes) -> bool:
    return name.endswith(LOG_SUFFIXES) or looks_like_log(decode_head(head))


def _gzip_kind(name: str, head: bytes) -> str:
    inner = gunzip_head(head)
    if name.endswith(TAR_SUFFIXES) or inner is None or inner[257:262] == b"ustar":
        return "archive"
    return "log" if is_text(inner) and _is_log(name.removesuffix(".gz"), inner) else "archive"


def kind_of(*, name: str, media_type: str, head: bytes, entry_names: list[str] | None) -> str:
    """One of ``ATTACHMENT_KINDS``, by the rules in this module's docstring."""
    lower = name.lower()
    zipped_export = media_type == ZIP and is_export_listing(entry_names or [])
    if lower.endswith(EXPORT_SUFFIXES) or zipped_export:
        return "export"
    if media_type in SCREENSHOT_TYPES:
        return "screenshot"
    if media_type == GZIP:
        return _gzip_kind(lower, head)
    if media_type in ARCHIVE_TYPES:
        return "archive"
    if (media_type == TEXT or media_type.startswith("text/")) and _is_log(lower, head):
        return "log"
    return "other"
