"""The encrypted file format: AES-256-GCM over fixed-size chunks (the STREAM construction).

Layout of a sealed file::

    header = MAGIC (8) | version (1) | chunk size (4) | key id length (1) | key id (1-32 ASCII)
             | salt (16) | nonce prefix (8)                         integers are big-endian
    body   = chunk 0 | chunk 1 | … | chunk n-1                      each: ciphertext | GCM tag (16)

Every chunk but the last holds exactly ``chunk size`` plaintext bytes; the last holds 1 to
``chunk size`` (0 only when the whole file is empty), so the plaintext size and the position
of every chunk follow from the file's size. Each file is sealed under its own key, derived with
HKDF-SHA256 from the master key its header names and its random salt: no (key, nonce) pair
repeats however many files one master key seals. Chunk ``i`` is sealed with the nonce
``prefix || i`` (4 bytes) and the associated data ``header || i || final flag``, so that

- a changed header byte (the key id, the chunk size, the salt) fails every chunk;
- reordered or swapped chunks fail (the index is bound), as do chunks of another file;
- cutting the file at a chunk boundary fails (the new last chunk was sealed as not final), and
  so does appending (the old last chunk was sealed as final).

A reader authenticates the last chunk when it opens, so a truncated or extended file is refused
before a byte is served; every other chunk is authenticated as it is read. Any position is
one chunk's decryption away, so zip listings and ranges never decrypt a whole file, let alone
to disk. Failures raise ``SealedFileError`` (an ``OSError``: the stored file cannot be read),
never return garbage.
"""

from __future__ import annotations

import io
import os
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# A high byte and a line end, as PNG's signature has: a file mangled as text fails at once.
MAGIC = b"\x89CDSEAL\n"
VERSION = 1
TAG_BYTES = 16
SALT_BYTES = 16
PREFIX_BYTES = 8
KEY_BYTES = 32
DEFAULT_CHUNK_BYTES = 64 * 1024
# A reader allocates one chunk: a damaged header must not make it allocate gigabytes.
MAX_CHUNK_BYTES = 16 * 1024**2
MAX_CHUNKS = 2**32
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_FIXED = struct.Struct(">8sBIB")
_POSITION = struct.Struct(">IB")
_HKDF_INFO = b"critdesk sealed file v1"


class SealedFileError(OSError):
    """A stored file that cannot be decrypted; the message says which and why."""


class TamperedFile(SealedFileError):
    """Authentication failed: the file was changed, cut, extended or is not a sealed file."""


class UnknownKey(SealedFileError):
    """The file names a key id that is not configured here."""

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"the file is sealed under the key {key_id!r}, which is not configured "
            "(CRITDESK_STORAGE_KEYS or the key file)"
        )
        self.key_id = key_id


class Sink(Protocol):
    def write(self, data: bytes | memoryview) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Header:
    key_id: str
    chunk_size: int
    salt: bytes
    prefix: bytes

    @classmethod
    def new(cls, key_id: str, chunk_size: int = DEFAULT_CHUNK_BYTES) -> Header:
        if not KEY_ID.fullmatch(key_id):
            raise ValueError(f"not a key id: {key_id!r}")
        if not 1 <= chunk_size <= MAX_CHUNK_BYTES:
            raise ValueError(f"chunk size out of range: {chunk_size}")
        return cls(key_id, chunk_size, os.urandom(SALT_BYTES), os.urandom(PREFIX_BYTES))

    def encode(self) -> bytes:
        key_id = self.key_id.encode("ascii")
        fixed = _FIXED.pack(MAGIC, VERSION, self.chunk_size, len(key_id))
        return fixed + key_id + self.salt + self.prefix

    @property
    def length(self) -> int:
        return _FIXED.size + len(self.key_id) + SALT_BYTES + PREFIX_BYTES


def read_header(stream: BinaryIO, *, name: str = "file") -> Header | None:
    """The header at the stream's start, or None for a file that is not sealed (plaintext
    stored before encryption was turned on). Leaves the stream anywhere."""
    stream.seek(0)
    fixed = stream.read(_FIXED.size)
    if not fixed.startswith(MAGIC):
        return None
    if len(fixed) < _FIXED.size:
        raise TamperedFile(f"{name}: the header is cut short")
    _magic, version, chunk_size, id_length = _FIXED.unpack(fixed)
    if version != VERSION:
        raise SealedFileError(f"{name}: format version {version} is not supported")
    rest = stream.read(id_length + SALT_BYTES + PREFIX_BYTES)
    if len(rest) < id_length + SALT_BYTES + PREFIX_BYTES:
        raise TamperedFile(f"{name}: the header is cut short")
    key_id = rest[:id_length].decode("ascii", errors="replace")
    if not KEY_ID.fullmatch(key_id) or not 1 <= chunk_size <= MAX_CHUNK_BYTES:
        raise TamperedFile(f"{name}: the header is damaged")
    salt = rest[id_length : id_length + SALT_BYTES]
    return Header(key_id, chunk_size, salt, rest[id_length + SALT_BYTES :])


def _file_cipher(master_key: bytes, salt: bytes) -> AESGCM:
    if len(master_key) != KEY_BYTES:
        raise ValueError("a storage key is 32 bytes")
    derived = HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=salt, info=_HKDF_INFO)
    return AESGCM(derived.derive(master_key))


class _Chunks:
    """Nonces and associated data of one file's chunks."""

    def __init__(self, header: Header, master_key: bytes) -> None:
        self.header = header
        self.encoded = header.encode()
        self.cipher = _file_cipher(master_key, header.salt)

    def nonce(self, index: int) -> bytes:
        if not 0 <= index < MAX_CHUNKS:
            raise SealedFileError("the file is too large for the format (2^32 chunks)")
        return self.header.prefix + index.to_bytes(4, "big")

    def associated(self, index: int, final: bool) -> bytes:
        return self.encoded + _POSITION.pack(index, final)


class SealedWriter:
    """Seals bytes as they are written into ``sink`` (a storage writer), holding at most one
    chunk plus the current write: a chunk is sealed only once a later byte shows it is not the
    last, and ``commit`` seals what is left as the final chunk."""

    def __init__(
        self,
        sink: Sink,
        *,
        key_id: str,
        master_key: bytes,
        chunk_size: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        self.chunks = _Chunks(Header.new(key_id, chunk_size), master_key)
        self.sink = sink
        self.pending = bytearray()
        self.index = 0
        self.committed = False
        sink.write(self.chunks.encoded)

    def write(self, data: bytes | memoryview) -> None:
        assert not self.committed, "write after commit"
        self.pending += data
        size = self.chunks.header.chunk_size
        if len(self.pending) <= size:
            return
        ready = (len(self.pending) - 1) // size
        sealed = bytearray(ready * (size + TAG_BYTES))
        with memoryview(self.pending) as plain, memoryview(sealed) as out:
            for n in range(ready):
                self._seal_into(plain[n * size : (n + 1) * size], out[n * (size + TAG_BYTES) :])
        del self.pending[: ready * size]
        self.sink.write(memoryview(sealed))

    def _seal_into(self, plain: memoryview, out: memoryview, *, final: bool = False) -> None:
        chunks = self.chunks
        associated = chunks.associated(self.index, final)
        chunks.cipher.encrypt_into(
            chunks.nonce(self.index), plain, associated, out[: len(plain) + TAG_BYTES]
        )
        self.index += 1

    def commit(self) -> None:
        assert not self.committed, "commit after commit"
        last = bytearray(len(self.pending) + TAG_BYTES)
        with memoryview(self.pending) as plain, memoryview(last) as out:
            self._seal_into(plain, out, final=True)
        self.pending = bytearray()
        self.sink.write(memoryview(last))
        self.sink.commit()
        self.committed = True

    def abort(self) -> None:
        self.pending = bytearray()
        self.sink.abort()


class SealedReader(io.RawIOBase):
    """A seekable, read-only view of a sealed file's plaintext, one chunk decrypted at a time.

    ``raw`` is the stored file (seekable); it is closed with the reader.
    """

    def __init__(
        self, raw: BinaryIO, header: Header, master_key: bytes, *, name: str = "file"
    ) -> None:
        super().__init__()
        self.raw, self.name = raw, name
        self.chunks = _Chunks(header, master_key)
        self.sealed_size = header.chunk_size + TAG_BYTES
        body = raw.seek(0, io.SEEK_END) - header.length
        if body < TAG_BYTES:
            raise TamperedFile(f"{name}: the file is cut short (no complete chunk)")
        self.count = -(-body // self.sealed_size)
        last = body - (self.count - 1) * self.sealed_size
        if last < TAG_BYTES or (last == TAG_BYTES and self.count > 1):
            raise TamperedFile(f"{name}: the file was cut or extended inside a chunk")
        self.size = body - self.count * TAG_BYTES
        self.position = 0
        self.cached: tuple[int, bytes] = (-1, b"")
        # The last chunk first: a file cut at a chunk boundary, or extended, fails here.
        self._chunk(self.count - 1)

    def _chunk(self, index: int) -> bytes:
        if self.cached[0] == index:
            return self.cached[1]
        header = self.chunks.header
        self.raw.seek(header.length + index * self.sealed_size)
        sealed = self.raw.read(self.sealed_size)
        final = index == self.count - 1
        try:
            plain = self.chunks.cipher.decrypt(
                self.chunks.nonce(index), sealed, self.chunks.associated(index, final)
            )
        except InvalidTag:
            raise TamperedFile(
                f"{self.name}: chunk {index + 1} of {self.count} failed authentication (the "
                "file was changed, reordered, cut or extended, or sealed with another key)"
            ) from None
        self.cached = (index, plain)
        return plain

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.position
        elif whence == io.SEEK_END:
            offset += self.size
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence: {whence}")
        if offset < 0:
            raise OSError(f"negative seek position {offset}")
        self.position = offset
        return offset

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("read of a closed file")
        left = max(self.size - self.position, 0)
        size = left if size is None or size < 0 else min(size, left)
        parts = []
        while size > 0:
            index, offset = divmod(self.position, self.chunks.header.chunk_size)
            piece = self._chunk(index)[offset : offset + size]
            parts.append(piece)
            self.position += len(piece)
            size -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readall(self) -> bytes:
        return self.read()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
            self.cached = (-1, b"")
        super().close()


def open_sealed(
    raw: BinaryIO, header: Header, master_key: bytes, *, name: str = "file"
) -> SealedReader:
    """A reader over ``raw``; closes ``raw`` if the file is refused."""
    try:
        return SealedReader(raw, header, master_key, name=name)
    except BaseException:
        raw.close()
        raise
