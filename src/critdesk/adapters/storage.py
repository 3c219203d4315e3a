"""Where uploaded files live: a small interface, the local-disk store and an in-memory fake.

Keys are chosen by the caller (random, never derived from a user's file name) and are
slash-separated relative paths such as ``3f/3f9c…``. A writer is acknowledged only by
``commit()``: until then nothing is visible under the key, and ``abort()`` leaves nothing behind.
An encrypting store can wrap another one behind the same interface.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"[a-z0-9]+(?:/[a-z0-9]+)*")
PART_SUFFIX = ".part"


class StorageWriter(Protocol):
    def write(self, data: bytes | memoryview) -> None:
        """Appends data; the buffer is only read during the call, never kept."""

    def commit(self) -> None:
        """Makes the bytes durable and visible under the key; only then is the write done."""

    def abort(self) -> None:
        """Discards everything written; safe to call more than once, and after commit does
        nothing."""


class Storage(Protocol):
    def open_write(self, key: str) -> StorageWriter: ...

    def open_read(self, key: str) -> BinaryIO:
        """A seekable binary stream of the committed bytes; the caller closes it."""

    def delete(self, key: str) -> None:
        """Removes the bytes (and any unfinished write); an absent key is not an error."""

    def size(self, key: str) -> int: ...


def new_key() -> str:
    """A random key, fanned out over 256 folders so that no folder grows huge."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}"


def check_key(key: str) -> str:
    if len(key) > 200 or not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under one folder; writes go to ``key.part`` and are renamed once synced."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def open_write(self, key: str) -> _LocalWriter:
        final = self.path(key)
        if final.exists():
            raise FileExistsError(key)
        # Folders made now (the root on the first upload, a fan-out folder) are durable only
        # once the folders holding them are synced too; the writer does that on commit.
        made = [f for f in (final.parent, *final.parent.parents) if not f.exists()]
        final.parent.mkdir(parents=True, exist_ok=True)
        return _LocalWriter(final, synced={final.parent, *(f.parent for f in made)})

    def open_read(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        final = self.path(key)
        for path in (final, final.with_name(final.name + PART_SUFFIX)):
            path.unlink(missing_ok=True)

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _LocalWriter:
    def __init__(self, final: Path, *, synced: set[Path]) -> None:
        self.final = final
        self.part = final.with_name(final.name + PART_SUFFIX)
        self.synced = sorted(synced, key=lambda f: len(f.parts), reverse=True)
        # Exclusive create: two writers can never share a file, and the mode keeps customers'
        # files readable by the service account only.
        self.fd: int | None = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.done = False

    def write(self, data: bytes | memoryview) -> None:
        assert self.fd is not None, "write after commit or abort"
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def commit(self) -> None:
        assert self.fd is not None, "commit after commit or abort"
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None
        os.replace(self.part, self.final)
        # The rename is durable only once its folder is (and any folder made for it, above).
        for folder in self.synced:
            _fsync_folder(folder)
        self.done = True

    def abort(self) -> None:
        if self.done:
            return
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.part.unlink(missing_ok=True)
        self.done = True


class MemoryStorage:
    """The fake for tests: committed bytes in a dict, and a record of what was deleted."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.open_writers: set[str] = set()
        self.deleted: list[str] = []

    def open_write(self, key: str) -> _MemoryWriter:
        check_key(key)
        if key in self.files or key in self.open_writers:
            raise FileExistsError(key)
        self.open_writers.add(key)
        return _MemoryWriter(self, key)

    def open_read(self, key: str) -> BinaryIO:
        return io.BytesIO(self.files[check_key(key)])

    def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.files.pop(key, None)
        self.open_writers.discard(key)

    def size(self, key: str) -> int:
        return len(self.files[check_key(key)])


class _MemoryWriter:
    def __init__(self, storage: MemoryStorage, key: str) -> None:
        self.storage = storage
        self.key = key
        self.buffer: io.BytesIO | None = io.BytesIO()

    def write(self, data: bytes | memoryview) -> None:
        assert self.buffer is not None, "write after commit or abort"
        self.buffer.write(data)

    def commit(self) -> None:
        assert self.buffer is not None, "commit after commit or abort"
        self.storage.files[self.key] = self.buffer.getvalue()
        self.storage.open_writers.discard(self.key)
        self.buffer = None

    def abort(self) -> None:
        if self.buffer is not None:
            self.buffer = None
            self.storage.open_writers.discard(self.key)
