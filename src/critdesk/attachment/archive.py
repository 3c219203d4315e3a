"""Listing a zip file without extracting it, refusing zip bombs.

Only the central directory is read (``ZipInfo.file_size`` and ``compress_size`` as the archive
declares them): nothing is decompressed and nothing is written to disk. Before ``zipfile`` reads
the directory into memory, its declared entry count and size are checked from the end record, so
that a directory of millions of entries is refused without being parsed.

The limits bound what the archive *declares*. Whoever later decompresses an entry (log
analysis, an engineer's tooling) must still cap the bytes it actually inflates, since a crafted
entry can inflate to more than it declares.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO

from critdesk.errors import Invalid

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 65_535
# A central-directory record is 46 bytes plus name, extra field and comment; real ones stay
# far below this average, so a directory larger than this per allowed entry is padding or a trap.
_DIRECTORY_BYTES_PER_ENTRY = 4096


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_total_bytes: int = 8 * 1024**3
    max_ratio: int = 200
    max_entries: int = 10_000
    # Small entries compress far beyond any bomb ratio (a page of blanks); the ratio is only
    # judged for entries, and archives, that inflate to at least this much.
    ratio_floor_bytes: int = 1024**2


def _refuse(reason: str, message: str) -> Invalid:
    return Invalid("archive_refused", message, reason=reason)


def _unreadable(message: str) -> Invalid:
    return Invalid("archive_unreadable", f"the zip file cannot be read: {message}")


def _declared_directory(stream: BinaryIO, size: int) -> tuple[int, int]:
    """(entry count, central directory bytes) from the end record, ZIP64 included."""
    tail_length = min(size, _EOCD.size + _MAX_COMMENT)
    stream.seek(size - tail_length)
    tail = stream.read(tail_length)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or at + _EOCD.size > len(tail):
        raise _unreadable("it has no end-of-central-directory record")
    _sig, _disk, _cd_disk, _here, entries, directory, offset, _comment = _EOCD.unpack_from(tail, at)
    if entries != 0xFFFF and directory != 0xFFFFFFFF and offset != 0xFFFFFFFF:
        return entries, directory
    locator_at = size - tail_length + at - _ZIP64_LOCATOR.size
    record_at = locator_at - _ZIP64_EOCD.size
    if record_at < 0:
        raise _unreadable("its ZIP64 end record is missing")
    stream.seek(record_at)
    raw = stream.read(_ZIP64_EOCD.size + _ZIP64_LOCATOR.size)
    record = _ZIP64_EOCD.unpack_from(raw, 0)
    locator = _ZIP64_LOCATOR.unpack_from(raw, _ZIP64_EOCD.size)
    if record[0] != _ZIP64_EOCD_SIGNATURE or locator[0] != _ZIP64_LOCATOR_SIGNATURE:
        raise _unreadable("its ZIP64 end record is missing")
    return record[7], record[8]


def _check_declared(stream: BinaryIO, size: int, limits: ArchiveLimits) -> None:
    entries, directory = _declared_directory(stream, size)
    if entries > limits.max_entries:
        raise _refuse(
            "too_many_entries",
            f"the archive declares {entries} entries; the limit is {limits.max_entries}",
        )
    if directory > max(limits.max_entries, 1) * _DIRECTORY_BYTES_PER_ENTRY:
        raise _refuse(
            "directory_too_large", f"the archive's central directory is {directory} bytes"
        )


def _read_directory(stream: BinaryIO) -> list[zipfile.ZipInfo]:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as e:
        raise _unreadable(str(e) or type(e).__name__) from e
    except (NotImplementedError, OSError) as e:
        # Multi-disk archives, seeks before the start of the file.
        raise _unreadable(str(e) or type(e).__name__) from e


def _check_entries(infos: list[zipfile.ZipInfo], size: int, limits: ArchiveLimits) -> None:
    if len(infos) > limits.max_entries:
        raise _refuse(
            "too_many_entries",
            f"the archive holds {len(infos)} entries; the limit is {limits.max_entries}",
        )
    total = 0
    for info in infos:
        ratio_of = max(info.compress_size, 1)
        big = info.file_size >= limits.ratio_floor_bytes
        if big and info.file_size > limits.max_ratio * ratio_of:
            raise _refuse(
                "compression_ratio",
                f"the entry {info.filename!r} inflates {info.file_size // ratio_of}:1; "
                f"the limit is {limits.max_ratio}:1",
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _refuse(
                "too_large_uncompressed",
                f"the archive inflates to more than {limits.max_total_bytes} bytes",
            )
    if total >= limits.ratio_floor_bytes and total > limits.max_ratio * max(size, 1):
        raise _refuse(
            "compression_ratio",
            f"the archive inflates {total // max(size, 1)}:1 overall; "
            f"the limit is {limits.max_ratio}:1",
        )


def list_zip(stream: BinaryIO, size: int, limits: ArchiveLimits) -> list[dict[str, Any]]:
    """The entries (``name``, ``size``, ``compressed_size``) of the zip in a seekable stream.

    Raises ``Invalid`` ``archive_refused`` (with the ``reason``) over a limit and
    ``archive_unreadable`` for a corrupt file. Nested archives are listed as entries, never
    opened.
    """
    _check_declared(stream, size, limits)
    infos = _read_directory(stream)
    _check_entries(infos, size, limits)
    return [
        {
            "name": _printable(info.filename),
            "size": info.file_size,
            "compressed_size": info.compress_size,
        }
        for info in infos
    ]


def _printable(name: str) -> str:
    # Entry names are shown, never used as paths; control characters would only garble a page.
    return "".join(ch if ch.isprintable() else "?" for ch in name[:1024])
