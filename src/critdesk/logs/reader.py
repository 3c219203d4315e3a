"""Reading an uploaded log as text, a block of lines at a time, in bounded memory.

``open_sources`` looks at a stored file's first bytes and yields the logs inside it: the
file itself (plain text), its gzip stream, or the log-like members of a zip or tar archive,
each decompressed as it is read — nothing is extracted to disk or held whole in memory.
``read_lines`` turns one such binary stream into lists of lines:

- UTF-8 (a BOM is dropped) decoded with ``errors="replace"``, or UTF-16 when a BOM says so;
- ``\\r\\n`` and ``\\n`` end lines; an empty file yields nothing;
- a line longer than ``max_line_bytes`` keeps only its start (its length is still counted
  in ``LineStats``), so a single 50 MB line costs ``max_line_bytes`` of memory, not 50 MB;
- content that is not text (NUL bytes, control characters) raises ``NotText`` up front.

Decompression errors (a truncated gzip) surface as ``SourceError`` after the lines read so
far: the caller keeps what it had.
"""

from __future__ import annotations

import codecs
import gzip
import io
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

CHUNK_BYTES = 1024**2
MAX_LINE_BYTES = 64 * 1024
HEAD_BYTES = 8192
# Inside archives: members whose names say "log", or text files, are analysed.
LOG_NAME_HINTS = (".log", ".txt", ".out", ".err", "log", "catalina", "syslog", "messages")
MAX_MEMBERS = 500


class NotText(Exception):
    """The content is binary, not a log."""


class SourceError(Exception):
    """The container or compression is damaged; ``str(error)`` says how."""


@dataclass
class LineStats:
    lines: int = 0
    truncated: int = 0
    longest: int = 0
    encoding: str = "utf-8"


@dataclass
class CountingReader(io.RawIOBase):
    """Counts the bytes read from the stored file (the progress of an analysis)."""

    raw: BinaryIO
    count: int = 0
    _closed: bool = field(default=False, repr=False)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.raw.seekable()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()


# --- text ------------------------------------------------------------------------------------

_CONTROL = frozenset(range(32)) - frozenset(b"\t\n\r\f\b\x1b")


def _encoding(head: bytes) -> tuple[str, int]:
    """(encoding, BOM length) from the first bytes; raises ``NotText`` for binary content."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 0
    if b"\x00" in head:
        raise NotText("the file holds binary data (NUL bytes), not text")
    controls = sum(1 for byte in head if byte in _CONTROL)
    if controls * 20 > len(head):
        raise NotText("the file holds binary data (control characters), not text")
    return "utf-8", 0


def read_lines(
    stream: BinaryIO,
    stats: LineStats,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[list[str]]:
    """Blocks of complete lines (no line ends), in order."""
    for block in read_blocks(stream, stats, max_line_bytes=max_line_bytes, chunk_bytes=chunk_bytes):
        yield block.split("\n")


def read_blocks(
    stream: BinaryIO,
    stats: LineStats,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[str]:
    """Blocks of complete lines joined by ``\\n`` (no final line end), in order."""
    head = _read_some(stream, HEAD_BYTES)
    if not head:
        return
    encoding, bom = _encoding(head)
    stats.encoding = encoding
    if encoding == "utf-16":
        texts = _utf16_texts(head, stream, stats, max_line_bytes, chunk_bytes)
    else:
        texts = _utf8_texts(head[bom:], stream, stats, max_line_bytes, chunk_bytes)
    for text in texts:
        stats.lines += text.count("\n") + 1
        yield _cap(text, stats, max_line_bytes)


def _read_some(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes; damage after some bytes is left for the next read to raise."""
    data = b""
    while len(data) < size:
        try:
            more = stream.read(size - len(data))
        except SourceError:
            if data:
                return data
            raise
        if not more:
            break
        data += more
    return data


def _decode(block: bytes) -> str:
    text = block.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n") if "\r" in text else text


def _utf8_texts(
    first: bytes, stream: BinaryIO, stats: LineStats, max_line: int, chunk_bytes: int
) -> Iterator[str]:
    pending = bytearray()  # the start of a line that continues in the next chunk
    overflow = 0  # bytes of that line beyond ``max_line`` (dropped, counted)
    chunk = first
    while chunk:
        end = chunk.rfind(b"\n")
        if end < 0:
            overflow = _carry(pending, chunk, overflow, max_line)
        else:
            first_end = chunk.find(b"\n")
            overflow = _carry(pending, chunk[:first_end], overflow, max_line)
            _count_long(stats, len(pending) + overflow, max_line)
            head = _decode(bytes(pending)).rstrip("\r")
            pending.clear()
            if first_end < end:
                # Decoded with its last line end, so that a final "\r\n" is seen whole.
                yield head + "\n" + _decode(chunk[first_end + 1 : end + 1])[:-1]
            else:
                yield head
            overflow = _carry(pending, chunk[end + 1 :], 0, max_line)
        chunk = stream.read(chunk_bytes)
    if pending or overflow:
        _count_long(stats, len(pending) + overflow, max_line)
        yield _decode(bytes(pending)).rstrip("\r")


def _carry(pending: bytearray, data: bytes, overflow: int, max_line: int) -> int:
    """Appends ``data`` to the pending line up to ``max_line``; returns the bytes dropped."""
    room = max_line - len(pending)
    if room >= len(data):
        pending += data
        return overflow
    if room > 0:
        pending += data[:room]
    return overflow + len(data) - max(room, 0)


def _count_long(stats: LineStats, length: int, max_line: int) -> None:
    stats.longest = max(stats.longest, length)
    if length > max_line:
        stats.truncated += 1


def _cap(text: str, stats: LineStats, max_line: int) -> str:
    """Cuts lines that arrived whole in one chunk but are still over the limit."""
    if len(text) <= max_line or not _may_hold_a_long_line(text, max_line):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > max_line:
            stats.truncated += 1
            stats.longest = max(stats.longest, len(line.encode("utf-8", errors="replace")))
            lines[i] = line[:max_line]
    return "\n".join(lines)


def _may_hold_a_long_line(text: str, max_line: int) -> bool:
    """A line longer than ``max_line`` covers a whole aligned window of half that size, with
    no line end in it: a few ``in`` checks per megabyte instead of a look at every line."""
    window = max(1, max_line // 2)
    return any("\n" not in text[i : i + window] for i in range(0, len(text) - window + 1, window))


def _utf16_texts(
    first: bytes, stream: BinaryIO, stats: LineStats, max_line: int, chunk_bytes: int
) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    pending = ""
    overflow = 0
    chunk = first
    while True:
        final = not chunk
        text = decoder.decode(chunk, final=final)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        end = text.rfind("\n")
        if end < 0:
            room = max_line - len(pending)
            overflow += max(0, len(text) - room)
            pending += text[: max(room, 0)]
        else:
            first_end = text.find("\n")
            head = pending + text[:first_end]
            _count_long(stats, len(head) + overflow, max_line)
            head = head[:max_line].rstrip("\r")
            yield head + text[first_end:end] if first_end < end else head
            rest = text[end + 1 :]
            pending, overflow = rest[:max_line], max(0, len(rest) - max_line)
        if final:
            break
        chunk = stream.read(chunk_bytes)
    if pending or overflow:
        _count_long(stats, len(pending) + overflow, max_line)
        yield pending.rstrip("\r")


# --- containers ------------------------------------------------------------------------------


@dataclass
class Source:
    """One log to read: the file itself, or one member of an archive."""

    name: str
    stream: BinaryIO
    # A member of an archive: a binary one is skipped, not a reason to refuse the file.
    archived: bool = False


GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def open_sources(stream: BinaryIO, name: str) -> Iterator[Source]:
    """The logs in a stored file. Damaged containers raise ``SourceError``."""
    head = _read_some(stream, HEAD_BYTES)
    if head.startswith(ZIP_MAGIC):
        if not stream.seekable():
            raise SourceError("a zip file can only be read from seekable storage")
        stream.seek(0)
        yield from _zip_members(stream)
        return
    stream = _Prefixed(head, stream)  # type: ignore[assignment]
    if head.startswith(GZIP_MAGIC):
        inner = _GzipReader(stream)
        inner_head = inner.peek_head()
        if len(inner_head) > 262 and inner_head[257:262] == b"ustar":
            yield from _tar_members(cast(BinaryIO, inner))
            return
        yield Source(name.removesuffix(".gz"), cast(BinaryIO, inner))
        return
    if len(head) > 262 and head[257:262] == b"ustar":
        yield from _tar_members(stream)
        return
    yield Source(name, stream)


class _Prefixed(io.RawIOBase):
    """The bytes already read from a stream, then the rest of it (no seeking needed)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:size], self.head[size:]
            return data
        return self.rest.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _GzipReader(io.RawIOBase):
    """A gzip stream whose damage (a truncated file) is reported as ``SourceError``."""

    def __init__(self, raw: BinaryIO) -> None:
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")
        self._error: SourceError | None = None
        self._head = b""
        self._head_used = True

    def peek_head(self) -> bytes:
        self._head = self._read(HEAD_BYTES)
        self._head_used = False
        return self._head

    def readable(self) -> bool:
        return True

    def _read(self, size: int) -> bytes:
        """Up to ``size`` bytes; what decompressed before damage is returned first, and the
        damage is raised on the next call."""
        if self._error is not None:
            raise self._error
        parts: list[bytes] = []
        wanted = size if size >= 0 else 1 << 62
        while wanted > 0:
            try:
                part = self._gzip.read1(min(wanted, 1 << 16))
            except EOFError as error:
                self._error = SourceError("the gzip file is truncated (it ends mid-stream)")
                self._error.__cause__ = error
            except (OSError, zlib.error) as error:
                self._error = SourceError(f"the gzip file is damaged: {error}")
                self._error.__cause__ = error
            else:
                if part:
                    parts.append(part)
                    wanted -= len(part)
                    continue
            break
        if not parts and self._error is not None:
            raise self._error
        return b"".join(parts)

    def read(self, size: int = -1) -> bytes:
        if not self._head_used:
            self._head_used = True
            head, self._head = self._head, b""
            if 0 <= size < len(head):
                self._head = head[size:]
                self._head_used = False
                return head[:size]
            return head  # a short read: the rest comes (or fails) on the next call
        return self._read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _looks_like_log(name: str) -> bool:
    lower = name.lower().rsplit("/", 1)[-1]
    return (
        lower.endswith(LOG_NAME_HINTS)
        or any(h in lower for h in LOG_NAME_HINTS)
        or (lower.endswith(".gz") and _looks_like_log(lower.removesuffix(".gz")))
    )


def _zip_members(stream: BinaryIO) -> Iterator[Source]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as error:
        raise SourceError(f"the zip file is damaged: {error}") from error
    with archive:
        members = [i for i in archive.infolist() if not i.is_dir() and _looks_like_log(i.filename)]
        for info in members[:MAX_MEMBERS]:
            try:
                member: BinaryIO = archive.open(info)  # type: ignore[assignment]
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
                raise SourceError(f"{info.filename}: cannot be read: {error}") from error
            with member:
                if info.filename.lower().endswith(".gz"):
                    member = _GzipReader(member)  # type: ignore[assignment]
                yield Source(
                    info.filename,
                    cast(BinaryIO, _ZipMemberReader(member, info.filename)),
                    archived=True,
                )


class _ZipMemberReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO, name: str) -> None:
        self.raw, self.name = raw, name

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(size)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
            raise SourceError(f"{self.name}: damaged in the archive: {error}") from error

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _tar_members(stream: BinaryIO) -> Iterator[Source]:
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            count = 0
            for info in archive:
                if not info.isfile() or not _looks_like_log(info.name):
                    continue
                member = archive.extractfile(info)
                if member is None:
                    continue
                count += 1
                if count > MAX_MEMBERS:
                    break
                yield Source(info.name, member, archived=True)  # type: ignore[arg-type]
    except (tarfile.TarError, EOFError) as error:
        raise SourceError(f"the tar archive is damaged: {error}") from error
