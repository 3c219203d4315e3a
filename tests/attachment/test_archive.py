"""Listing zips from their central directory, and refusing bombs before parsing them."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from critdesk.attachment.archive import ArchiveLimits, list_zip
from critdesk.errors import Invalid
from tests.attachment.conftest import LOG, noise, zip_bytes

DEFAULT = ArchiveLimits()


def listed(data: bytes, limits: ArchiveLimits = DEFAULT) -> list[dict]:
    return list_zip(io.BytesIO(data), len(data), limits)


def refusal(data: bytes, limits: ArchiveLimits = DEFAULT) -> Invalid:
    with pytest.raises(Invalid) as raised:
        listed(data, limits)
    return raised.value


def with_end_record(data: bytes, **fields: int) -> bytes:
    """The zip with fields of its end-of-central-directory record overwritten."""
    at = data.rfind(b"PK\x05\x06")
    names = ["sig", "disk", "cd_disk", "here", "entries", "directory", "offset", "comment"]
    values = dict(zip(names, struct.unpack_from("<4s4H2LH", data, at), strict=True)) | fields
    return data[:at] + struct.pack("<4s4H2LH", *values.values()) + data[at + 22 :]


def test_entries_are_listed_with_both_sizes() -> None:
    data = zip_bytes({"logs/app.log": LOG * 10, "readme.txt": b"hi"})
    assert listed(data) == [
        {
            "name": "logs/app.log",
            "size": len(LOG) * 10,
            "compressed_size": pytest.approx(0, abs=400),
        },
        {"name": "readme.txt", "size": 2, "compressed_size": 4},
    ]


def test_an_empty_zip_lists_nothing() -> None:
    assert listed(zip_bytes({})) == []


def test_control_characters_in_entry_names_are_masked() -> None:
    assert listed(zip_bytes({"a\x1b[31m.log": b"x"}))[0]["name"] == "a?[31m.log"


def test_one_entry_inflating_past_the_ratio_is_refused() -> None:
    error = refusal(zip_bytes({"zeros.bin": bytes(8 * 1024**2)}))
    assert error.code == "archive_refused"
    assert error.details == {"reason": "compression_ratio"}
    assert "zeros.bin" in error.message


def test_small_entries_may_compress_well_beyond_the_ratio() -> None:
    (entry,) = listed(zip_bytes({"blank.txt": bytes(500_000)}))
    assert entry["size"] > DEFAULT.max_ratio * entry["compressed_size"]


def test_many_small_entries_are_judged_by_the_overall_ratio() -> None:
    limits = ArchiveLimits(ratio_floor_bytes=100_000)
    data = zip_bytes({f"blank{n}.txt": bytes(60_000) for n in range(20)})
    assert refusal(data, limits).details == {"reason": "compression_ratio"}
    assert "overall" in refusal(data, limits).message


def test_the_total_uncompressed_size_is_capped() -> None:
    data = zip_bytes({"a": noise(3000), "b": noise(3000)})
    error = refusal(data, ArchiveLimits(max_total_bytes=5000))
    assert error.details == {"reason": "too_large_uncompressed"}


def test_too_many_entries_are_refused() -> None:
    data = zip_bytes({f"{n}.txt": b"" for n in range(11)})
    assert refusal(data, ArchiveLimits(max_entries=10)).details == {"reason": "too_many_entries"}
    assert len(listed(data, ArchiveLimits(max_entries=11))) == 11


def test_a_declared_entry_count_is_refused_before_the_directory_is_parsed() -> None:
    forged = with_end_record(zip_bytes({"a": b"a"}), entries=60_000, here=60_000)
    error = refusal(forged)
    assert error.details == {"reason": "too_many_entries"}
    assert "60000" in error.message


def test_a_huge_declared_directory_is_refused_before_it_is_read() -> None:
    forged = with_end_record(zip_bytes({"a": b"a"}), directory=2**31)
    assert refusal(forged).details == {"reason": "directory_too_large"}


def test_the_zip64_end_record_is_what_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)  # forces the ZIP64 records
    data = zip_bytes({"a": b"a", "b": b"b", "c": b"c"})
    assert b"PK\x06\x06" in data
    data = with_end_record(data, entries=0xFFFF, here=0xFFFF)
    monkeypatch.undo()
    assert len(listed(data)) == 3
    assert refusal(data, ArchiveLimits(max_entries=2)).details == {"reason": "too_many_entries"}


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + b"\x00" * 100,
        zip_bytes({"a.log": LOG})[:-10],
        b"PK\x05\x06" + b"\x00" * 10,
        with_end_record(zip_bytes({"a": b"a"}), directory=10_000),
    ],
    ids=["no-end-record", "truncated", "short-end-record", "directory-before-the-start"],
)
def test_a_corrupt_zip_is_unreadable(data: bytes) -> None:
    assert refusal(data).code == "archive_unreadable"
