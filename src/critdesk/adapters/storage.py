"""Where uploaded files live: a small interface, the local-disk store, an in-memory fake, and
the encrypting store that wraps either of them.

Keys are chosen by the caller (random, never derived from a user's file name) and are
slash-separated relative paths such as ``3f/3f9c…``. A writer is acknowledged only by
``commit()``: until then nothing is visible under the key, and ``abort()`` leaves nothing behind.

``EncryptedStorage`` seals every file it writes (``critdesk.privacy.encryption``: AES-256-GCM
in 64 KiB chunks) and hands back seekable plaintext readers; files stored before encryption
(no header) are still read as they are until ``critdesk storage rotate-key`` seals them.
``storage_from_settings`` is the one place the app, the jobs and the commands get theirs.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol

from critdesk.privacy.encryption import Header, SealedWriter, open_sealed, read_header

if TYPE_CHECKING:
    from critdesk.config import Settings
    from critdesk.privacy.keys import KeyRing

_KEY = re.compile(r"[a-z0-9]+(?:/[a-z0-9]+)*")
PART_SUFFIX = ".part"
# A re-encryption in progress (rotation); one older than this was left by a crash.
REKEY_SUFFIX = ".rekey"
REKEY_STALE_SECONDS = 600.0
COPY_BYTES = 1024**2


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


class RawStorage(Storage, Protocol):
    """What the encrypting store needs of the store under it, besides ``Storage``."""

    def iter_keys(self) -> Iterator[str]:
        """Every committed key (unfinished writes left out), in a stable order."""

    def open_replace(self, key: str) -> StorageWriter:
        """A writer whose ``commit()`` atomically replaces the existing bytes under ``key``
        (``FileNotFoundError`` if they are gone by then); a reader already open keeps seeing
        the old bytes. ``FileExistsError`` while another replacement of the key runs."""


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

    def open_replace(self, key: str) -> _LocalWriter:
        final = self.path(key)
        if not final.exists():
            raise FileNotFoundError(key)
        rekey = final.with_name(final.name + REKEY_SUFFIX)
        try:
            if time.time() - rekey.stat().st_mtime > REKEY_STALE_SECONDS:
                rekey.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
        return _LocalWriter(final, synced={final.parent}, suffix=REKEY_SUFFIX, replace=True)

    def open_read(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        final = self.path(key)
        for suffix in ("", PART_SUFFIX, REKEY_SUFFIX):
            final.with_name(final.name + suffix).unlink(missing_ok=True)

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def iter_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder, subfolders, names in os.walk(self.root):
            subfolders.sort()
            relative = Path(folder).relative_to(self.root)
            for name in sorted(names):
                key = (relative / name).as_posix()
                if _KEY.fullmatch(key):
                    yield key


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _LocalWriter:
    def __init__(
        self,
        final: Path,
        *,
        synced: set[Path],
        suffix: str = PART_SUFFIX,
        replace: bool = False,
    ) -> None:
        self.final = final
        self.part = final.with_name(final.name + suffix)
        self.replace = replace
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
        if self.replace and not self.final.exists():
            # Deleted while being re-encrypted (retention, erasure): do not bring it back.
            self.abort()
            raise FileNotFoundError(self.final.name)
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

    def iter_keys(self) -> Iterator[str]:
        yield from sorted(self.files)

    def open_replace(self, key: str) -> _MemoryWriter:
        if check_key(key) not in self.files:
            raise FileNotFoundError(key)
        return _MemoryWriter(self, key, replace=True)


class _MemoryWriter:
    def __init__(self, storage: MemoryStorage, key: str, *, replace: bool = False) -> None:
        self.storage = storage
        self.key = key
        self.replace = replace
        self.buffer: io.BytesIO | None = io.BytesIO()

    def write(self, data: bytes | memoryview) -> None:
        assert self.buffer is not None, "write after commit or abort"
        self.buffer.write(data)

    def commit(self) -> None:
        assert self.buffer is not None, "commit after commit or abort"
        if self.replace and self.key not in self.storage.files:
            self.buffer = None
            raise FileNotFoundError(self.key)
        self.storage.files[self.key] = self.buffer.getvalue()
        if not self.replace:
            self.storage.open_writers.discard(self.key)
        self.buffer = None

    def abort(self) -> None:
        if self.buffer is not None:
            self.buffer = None
            if not self.replace:
                self.storage.open_writers.discard(self.key)


# --- encryption at rest ----------------------------------------------------------------------

Resealed = Literal["current", "sealed", "resealed"]


class EncryptedStorage:
    """Seals what it writes under the key ring's current key; reads sealed files under any
    key of the ring, and plaintext files (stored before encryption) as they are."""

    def __init__(self, inner: RawStorage, keys: KeyRing, *, chunk_size: int | None = None) -> None:
        self.inner = inner
        self.keyring = keys
        self.chunk_size = chunk_size

    @property
    def root(self) -> Path:
        """The folder of the files, when the store under this one is on local disk."""
        return Path(self.inner.root)  # type: ignore[attr-defined]

    def _seal_into(self, sink: StorageWriter) -> SealedWriter:
        extra = {} if self.chunk_size is None else {"chunk_size": self.chunk_size}
        try:
            return SealedWriter(
                sink, key_id=self.keyring.current_id, master_key=self.keyring.current, **extra
            )
        except BaseException:
            sink.abort()
            raise

    def open_write(self, key: str) -> StorageWriter:
        return self._seal_into(self.inner.open_write(key))

    def open_read(self, key: str) -> BinaryIO:
        raw = self.inner.open_read(key)
        try:
            header = read_header(raw, name=key)
            if header is None:
                raw.seek(0)
                return raw
            master_key = self.keyring.get(header.key_id)
        except BaseException:
            raw.close()
            raise
        return open_sealed(raw, header, master_key, name=key)  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def size(self, key: str) -> int:
        with self.open_read(key) as stream:
            return stream.seek(0, io.SEEK_END)

    def iter_keys(self) -> Iterator[str]:
        return self.inner.iter_keys()

    def header_of(self, key: str) -> Header | None:
        """The file's header (which key sealed it), or None for a plaintext file."""
        with self.inner.open_read(key) as raw:
            return read_header(raw, name=key)

    def reseal(self, key: str) -> Resealed:
        """Seals the file under the current key unless it already is: atomically (a reader
        sees the old file or the new one, whole), streaming, and safe to repeat."""
        header = self.header_of(key)
        if header is not None and header.key_id == self.keyring.current_id:
            return "current"
        writer = self._seal_into(self.inner.open_replace(key))
        try:
            with self.open_read(key) as source:
                shutil.copyfileobj(source, writer, COPY_BYTES)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        return "sealed" if header is None else "resealed"

    def verify(self, key: str) -> str | None:
        """Reads the whole file, authenticating every chunk; returns its key id (None for a
        plaintext file). Raises ``SealedFileError`` for a damaged file or an unknown key."""
        header = self.header_of(key)
        with self.open_read(key) as stream:
            while stream.read(COPY_BYTES):
                pass
        return None if header is None else header.key_id


def attachments_root(settings: Settings) -> Path:
    return settings.data_dir / "attachments"


def storage_from_settings(settings: Settings) -> EncryptedStorage:
    """The attachments' store: local files under the data folder, sealed with the configured
    keys (``critdesk.privacy.keys``)."""
    from critdesk.privacy.keys import keyring_from_settings

    return EncryptedStorage(
        LocalStorage(attachments_root(settings)), keyring_from_settings(settings)
    )
