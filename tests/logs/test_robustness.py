"""Whatever arrives, the analysis reads what it can, in bounded memory, and says what it
could not; it never raises for a bad file (binary content aside, which it refuses)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest

from critdesk.logs.analysis import Analyzer, Options
from critdesk.logs.reader import MAX_LINE_BYTES, LineStats, NotText, read_lines
from tests.logs import samples


def analyse(data: bytes, name: str = "server.log") -> dict:
    analyzer = Analyzer(Options(year=2026))
    analyzer.add_file(io.BytesIO(data), name)
    return analyzer.summary()


def lines_of(data: bytes) -> tuple[list[str], LineStats]:
    stats = LineStats()
    return [line for block in read_lines(io.BytesIO(data), stats) for line in block], stats


class Endless(io.RawIOBase):
    """``size`` bytes of one line made on the fly (never held in memory), then a newline."""

    def __init__(self, prefix: bytes, size: int, suffix: bytes) -> None:
        self.parts = [prefix]
        self.left = size
        self.suffix = suffix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.parts:
            data = self.parts.pop()
        elif self.left > 0:
            data = b"x" * min(len(buffer), self.left)
            self.left -= len(data)
        else:
            data, self.suffix = self.suffix, b""
        buffer[: len(data)] = data
        return len(data)


def test_binary_content_is_refused_with_a_reason() -> None:
    with pytest.raises(NotText, match="binary"):
        analyse(bytes(range(256)) * 64, "core.dump")


def test_a_truncated_gzip_is_analysed_up_to_where_it_ends() -> None:
    text = "".join(
        f"2026-11-25 09:{n // 60 % 60:02d}:{n % 60:02d},{n % 997:03d} ERROR [exec-{n % 13}] "
        f"c.v.Pool - Connection pool exhausted after {n * 7919 % 100003} ms\n"
        for n in range(3000)
    )
    data = gzip.compress(text.encode())
    summary = analyse(data[: len(data) // 2], "server.log.gz")
    assert summary["lines"] > 100
    assert summary["signatures"]
    assert any("truncated" in w for w in summary["warnings"])


def test_a_single_50_mb_line_is_cut_but_counted() -> None:
    stream = Endless(
        b"2026-11-25 09:12:03,114 ERROR [t] c.v.X - huge ",
        50 * 1024**2,
        b"\n2026-11-25 09:12:04,000 WARN  [t] c.v.X - after it\n",
    )
    analyzer = Analyzer(Options(year=2026))
    analyzer.add_file(stream, "huge.log")  # type: ignore[arg-type]
    summary = analyzer.summary()
    assert summary["lines"] == 2
    assert summary["sources"][0]["truncated_lines"] == 1
    assert any("longer than the limit were cut" in w for w in summary["warnings"])
    sample = summary["signatures"][0]["samples"][0]["text"]
    assert len(sample) <= 4100


def test_a_long_line_keeps_only_its_start() -> None:
    lines, stats = lines_of(b"a" * (MAX_LINE_BYTES * 3) + b"\nnext\n")
    assert [len(lines[0]), lines[1]] == [MAX_LINE_BYTES, "next"]
    assert stats.truncated == 1 and stats.longest == MAX_LINE_BYTES * 3


def test_mixed_encodings_decode_with_replacement() -> None:
    data = "2026-11-25 09:12:03,114 ERROR [t] c.v.X - Zürich failed\n".encode()
    data += "2026-11-25 09:12:04,114 ERROR [t] c.v.X - Zürich failed\n".encode("latin-1")
    summary = analyse(data)
    assert summary["lines"] == 2 and summary["events"] == 2
    assert summary["levels"] == {"error": 2}
    assert sum(s["count"] for s in summary["signatures"]) == 2


def test_utf16_with_a_bom_is_read_as_text() -> None:
    summary = analyse(samples.TOMCAT_APP.encode("utf-16"))
    assert summary["sources"][0]["encoding"] == "utf-16"
    assert summary["signatures"][0]["count"] == 2


def test_crlf_line_ends_are_the_same_as_lf() -> None:
    crlf = analyse(samples.TOMCAT_APP.replace("\n", "\r\n").encode())
    lf = analyse(samples.TOMCAT_APP.encode())
    assert crlf["signatures"] == lf["signatures"]
    assert not any("\r" in s["title"] for s in crlf["signatures"])


def test_an_empty_file_has_no_lines() -> None:
    assert analyse(b"")["lines"] == 0
    assert lines_of(b"") == ([], LineStats())


def test_logs_inside_zip_and_tar_archives_are_analysed_member_by_member() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("logs/catalina.out", samples.CATALINA)
        archive.writestr("logs/app.log.gz", gzip.compress(samples.TOMCAT_APP.encode()))
        archive.writestr("screenshot.png", b"\x89PNG\r\n\x1a\n")
    summary = analyse(buffer.getvalue(), "logs.zip")
    assert [s["name"] for s in summary["sources"]] == ["logs/catalina.out", "logs/app.log.gz"]
    assert {s["exception"] for s in summary["signatures"] if s["exception"]} == {
        "NullPointerException",
        "SQLSyntaxErrorException",
    }
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:gz") as archive:
        data = samples.TOMCAT_APP.encode()
        info = tarfile.TarInfo("var/log/app.log")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert analyse(tar.getvalue(), "logs.tar.gz")["sources"][0]["name"] == "var/log/app.log"


def test_a_damaged_zip_is_a_warning_not_a_crash() -> None:
    summary = analyse(b"PK\x03\x04" + b"\x00" * 100, "broken.zip")
    assert summary["lines"] == 0
    assert any("zip" in w for w in summary["warnings"])


def test_a_binary_member_of_an_archive_is_skipped() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("heap.log", bytes(range(256)) * 10)
        archive.writestr("app.log", samples.TOMCAT_APP)
    summary = analyse(buffer.getvalue(), "logs.zip")
    assert summary["signatures"]
    assert any("heap.log" in w and "binary" in w for w in summary["warnings"])
