"""The sealed file format: what goes in comes out, and any change to the file is refused."""

from __future__ import annotations

import io
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critdesk.privacy.encryption import (
    DEFAULT_CHUNK_BYTES,
    MAGIC,
    TAG_BYTES,
    Header,
    SealedFileError,
    SealedReader,
    SealedWriter,
    TamperedFile,
    open_sealed,
    read_header,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CHUNK = DEFAULT_CHUNK_BYTES
SECRET = b"password=Hunter2-northwind-prod"


class Sink:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.committed = False
        self.aborted = False

    def write(self, data: bytes | memoryview) -> None:
        self.buffer.write(data)

    def commit(self) -> None:
        self.committed = True

    def abort(self) -> None:
        self.aborted = True


def seal(
    data: bytes, *, key: bytes = KEY, key_id: str = "k1", chunk: int = CHUNK, step: int = 70_000
) -> bytes:
    sink = Sink()
    writer = SealedWriter(sink, key_id=key_id, master_key=key, chunk_size=chunk)
    for start in range(0, len(data), step):
        writer.write(memoryview(data)[start : start + step])
    writer.commit()
    assert sink.committed
    return sink.buffer.getvalue()


def unseal(sealed: bytes, *, key: bytes = KEY) -> bytes:
    raw = io.BytesIO(sealed)
    header = read_header(raw)
    assert header is not None
    with open_sealed(raw, header, key) as reader:
        return reader.read()


def reader_of(sealed: bytes, *, key: bytes = KEY) -> SealedReader:
    raw = io.BytesIO(sealed)
    header = read_header(raw)
    assert header is not None
    return open_sealed(raw, header, key)


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17],
    ids=["empty", "one", "chunk-1", "chunk", "chunk+1", "two-chunks", "multi"],
)
def test_it_reads_back_exactly_what_was_written(size: int) -> None:
    data = os.urandom(size)
    sealed = seal(data)
    header = Header.new("k1")
    chunks = max(1, -(-size // CHUNK))
    assert len(sealed) == header.length + size + chunks * TAG_BYTES
    assert unseal(sealed) == data
    assert reader_of(sealed).size == size


def test_a_large_multi_chunk_file_reads_back_intact_in_any_read_size() -> None:
    data = os.urandom(5 * 1024**2 + 12_345)
    sealed = seal(data, step=1024**2 + 7)
    with reader_of(sealed) as reader:
        parts = []
        while piece := reader.read(999_983):
            parts.append(piece)
    assert b"".join(parts) == data


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=600),
    chunk=st.integers(min_value=1, max_value=64),
    step=st.integers(min_value=1, max_value=200),
)
def test_any_content_chunking_and_write_sizes_round_trip(
    data: bytes, chunk: int, step: int
) -> None:
    assert unseal(seal(data, chunk=chunk, step=step)) == data


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=500), start=st.integers(0, 600), length=st.integers(0, 300)
)
def test_a_range_read_is_the_same_slice_of_the_plaintext(
    data: bytes, start: int, length: int
) -> None:
    with reader_of(seal(data, chunk=16)) as reader:
        assert reader.seek(start) == start
        expected = data[start : start + length]
        assert reader.read(length) == expected
        assert reader.tell() == start + len(expected)


def test_seeking_from_the_end_and_the_current_position() -> None:
    data = bytes(range(256)) * 1000
    with reader_of(seal(data, chunk=1000)) as reader:
        assert reader.seekable() and reader.readable()
        assert reader.seek(-10, io.SEEK_END) == len(data) - 10
        assert reader.read() == data[-10:]
        reader.seek(5)
        reader.seek(3, io.SEEK_CUR)
        assert reader.read(4) == data[8:12]
        buffer = bytearray(6)
        assert reader.readinto(buffer) == 6 and bytes(buffer) == data[12:18]
        with pytest.raises(OSError):
            reader.seek(-1)


def test_the_stored_bytes_hold_no_plaintext() -> None:
    data = (SECRET + b"\n") * 20_000
    sealed = seal(data)
    assert sealed.startswith(MAGIC)
    for needle in (SECRET, b"Hunter2", b"northwind", data[:64]):
        assert needle not in sealed


def test_two_seals_of_the_same_content_differ() -> None:
    """A fresh salt and nonce prefix per file: equal files are not recognisable as equal."""
    data = b"same content" * 100
    assert seal(data) != seal(data)


def test_an_aborted_writer_aborts_its_sink() -> None:
    sink = Sink()
    writer = SealedWriter(sink, key_id="k1", master_key=KEY)
    writer.write(b"partial")
    writer.abort()
    assert sink.aborted and not sink.committed


def test_a_file_without_the_header_is_not_sealed() -> None:
    assert read_header(io.BytesIO(b"2026-11-25 ERROR plain old log\n")) is None
    assert read_header(io.BytesIO(b"")) is None


# --- tampering --------------------------------------------------------------------------------

DATA = os.urandom(3 * 1000 + 500)


def sealed_small() -> tuple[bytes, int]:
    sealed = seal(DATA, chunk=1000)
    header = read_header(io.BytesIO(sealed))
    assert header is not None
    return sealed, header.length


def read_all_or_raise(sealed: bytes, key: bytes = KEY) -> bytes:
    return unseal(sealed, key=key)


@pytest.mark.parametrize("where", ["salt", "prefix", "first chunk", "middle chunk", "last tag"])
def test_a_flipped_byte_anywhere_is_refused(where: str) -> None:
    sealed, header_length = sealed_small()
    offset = {
        "salt": header_length - 20,
        "prefix": header_length - 3,
        "first chunk": header_length + 10,
        "middle chunk": header_length + 1016 + 500,
        "last tag": len(sealed) - 1,
    }[where]
    damaged = bytearray(sealed)
    damaged[offset] ^= 0x01
    with pytest.raises(TamperedFile, match="failed authentication"):
        read_all_or_raise(bytes(damaged))


def test_a_changed_chunk_size_in_the_header_is_refused() -> None:
    sealed, _ = sealed_small()
    damaged = bytearray(sealed)
    struct.pack_into(">I", damaged, len(MAGIC) + 1, 500)
    with pytest.raises(TamperedFile):
        read_all_or_raise(bytes(damaged))


@pytest.mark.parametrize("cut", ["chunk boundary", "inside a chunk", "header only", "header cut"])
def test_a_truncated_file_is_refused_when_opened(cut: str) -> None:
    sealed, header_length = sealed_small()
    at = {
        "chunk boundary": header_length + 2 * 1016,
        "inside a chunk": len(sealed) - 100,
        "header only": header_length,
        "header cut": header_length - 5,
    }[cut]
    with pytest.raises(TamperedFile):
        reader_of(sealed[:at])


@pytest.mark.parametrize(
    "extra", [b"x", bytes(range(256)) * 3 + bytes(248), bytes(range(16))], ids=["1", "1016", "16"]
)
def test_an_extended_file_is_refused_when_opened(extra: bytes) -> None:
    sealed, _ = sealed_small()
    with pytest.raises(TamperedFile):
        reader_of(sealed + extra)


def test_swapped_chunks_are_refused() -> None:
    sealed, header_length = sealed_small()
    first = slice(header_length, header_length + 1016)
    second = slice(header_length + 1016, header_length + 2032)
    swapped = bytearray(sealed)
    swapped[first], swapped[second] = sealed[second], sealed[first]
    with pytest.raises(TamperedFile, match="chunk 1 of 4"):
        read_all_or_raise(bytes(swapped))


def test_a_chunk_from_another_file_is_refused() -> None:
    sealed, header_length = sealed_small()
    other = seal(DATA, chunk=1000)
    spliced = bytearray(sealed)
    spliced[header_length : header_length + 1016] = other[header_length : header_length + 1016]
    with pytest.raises(TamperedFile):
        read_all_or_raise(bytes(spliced))


def test_the_wrong_key_is_refused_not_decrypted_to_garbage() -> None:
    sealed, _ = sealed_small()
    with pytest.raises(TamperedFile):
        read_all_or_raise(sealed, key=OTHER_KEY)


def test_a_relabelled_key_id_is_refused() -> None:
    """Changing the header's key id to another configured key fails authentication."""
    sealed = seal(DATA, key_id="k1")
    relabelled = sealed.replace(b"\x02k1", b"\x02k2", 1)
    assert relabelled != sealed
    with pytest.raises(TamperedFile):
        read_all_or_raise(relabelled)


def test_an_unknown_format_version_is_refused() -> None:
    sealed, _ = sealed_small()
    damaged = bytearray(sealed)
    damaged[len(MAGIC)] = 9
    with pytest.raises(SealedFileError, match="version 9"):
        read_header(io.BytesIO(bytes(damaged)))


def test_a_damaged_chunk_is_reported_when_reached_by_a_ranged_read() -> None:
    sealed, header_length = sealed_small()
    damaged = bytearray(sealed)
    damaged[header_length + 1016 + 5] ^= 0x80  # inside the second chunk
    with reader_of(bytes(damaged)) as reader:
        assert reader.read(1000) == DATA[:1000]  # the first chunk is intact
        with pytest.raises(TamperedFile, match="chunk 2 of 4"):
            reader.read(10)
