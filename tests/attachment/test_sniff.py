"""What a file is, from its first bytes; and which name it may keep."""

from __future__ import annotations

import pytest

from critdesk.attachment import sniff
from tests.attachment.conftest import (
    GIF,
    JPEG,
    LOG,
    PNG,
    WEBP,
    gz_bytes,
    noise,
    tar_bytes,
    zip_bytes,
)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (zip_bytes({"a": b"a"}), "application/zip"),
        (zip_bytes({}), "application/zip"),
        (zip_bytes({"word/document.xml": b"<w/>"}), "application/zip"),
        (gz_bytes(b"x"), "application/gzip"),
        (tar_bytes({"a.log": b"x"}), "application/x-tar"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (LOG, "text/plain"),
        ("Grüße, café\n".encode("cp1252"), "text/plain"),
        ("Grüße, café\n".encode("utf-16"), "text/plain"),
        (b"MZ is how this text file happens to start\n" * 3, "text/plain"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "text/html"),
        (b"\x00\x01\x02\x03" * 100, "application/octet-stream"),
        (noise(4096), "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_the_media_type_comes_from_the_magic_numbers(head: bytes, expected: str) -> None:
    assert sniff.media_type(head[: sniff.HEAD_BYTES]) == expected


@pytest.mark.parametrize(
    ("name", "head", "entries", "kind"),
    [
        ("server.log", b"started\n", None, "log"),
        ("notes.txt", b"hello\n", None, "log"),
        ("nohup.out", b"hello\n", None, "log"),
        ("console", LOG, None, "log"),
        ("readme.md", b"# Read me\n\nNothing here.\n", None, "other"),
        ("server.log.gz", gz_bytes(LOG), None, "log"),
        ("catalina.gz", gz_bytes(LOG), None, "log"),
        ("data.gz", gz_bytes(noise(300)), None, "archive"),
        ("logs.tar.gz", gz_bytes(tar_bytes({"a.log": LOG})), None, "archive"),
        ("logs.gz", gz_bytes(tar_bytes({"a.log": LOG})), None, "archive"),
        ("logs.tar", tar_bytes({"a.log": LOG}), None, "archive"),
        ("bundle.zip", zip_bytes({"a.log": LOG}), ["a.log"], "archive"),
        ("Shop.zip", zip_bytes({}), ["project.json"], "export"),
        ("Shop.zip", zip_bytes({}), ["Shop/workspace.json"], "export"),
        ("Shop.zip", zip_bytes({}), ["a/b/project.json"], "archive"),
        ("Orders.mpk", zip_bytes({}), ["x"], "export"),
        ("Orders.MPR", noise(100), None, "export"),
        ("screen.png", PNG, None, "screenshot"),
        ("screen.png", zip_bytes({"a": b"a"}), ["a"], "archive"),
        ("app.exe", b"\x00" * 100, None, "other"),
    ],
)
def test_each_kind_follows_the_documented_rule(
    name: str, head: bytes, entries: list[str] | None, kind: str
) -> None:
    media_type = sniff.media_type(head)
    assert sniff.kind_of(name=name, media_type=media_type, head=head, entry_names=entries) == kind


def test_log_lines_are_recognised_by_time_stamps_or_levels() -> None:
    assert sniff.looks_like_log(LOG.decode())
    assert sniff.looks_like_log("Nov 25 09:12:03 host app[12]: failed\nNov 25 09:12:04 again\n")
    assert sniff.looks_like_log(
        "java.lang.IllegalStateException: boom\n\tat com.v.Checkout.run(Checkout.java:42)\n"
    )
    assert not sniff.looks_like_log("Dear support,\nthe shop is down.\nRegards\n")
    assert not sniff.looks_like_log("ERROR once\n")


def test_a_gzip_bomb_head_is_inflated_only_up_to_a_cap() -> None:
    bomb = gz_bytes(bytes(50 * 1024**2))
    assert len(sniff.gunzip_head(bomb[: sniff.HEAD_BYTES]) or b"") <= 65_536


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("server.log", "server.log"),
        ("../../etc/passwd", "passwd"),
        ("C:\\evil\\x.log", "x.log"),
        ("\\\\server\\share\\y.txt", "y.txt"),
        ("..", "attachment"),
        ("...", "attachment"),
        (".env", "env"),
        ("", "attachment"),
        (None, "attachment"),
        ("  spaced out.log  ", "spaced out.log"),
        ("line\nbreak\r.log", "linebreak.log"),
        ("nul\x00byte.log", "nulbyte.log"),
        ("tab\there.log", "tabhere.log"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("zero\u200bwidth.log", "zerowidth.log"),
        ("Überweisung.txt", "Überweisung.txt"),
        ("e\u0301.log", "é.log"),
    ],
)
def test_names_are_reduced_to_a_safe_base_name(raw: str | None, safe: str) -> None:
    assert sniff.safe_name(raw) == safe


def test_long_names_keep_their_extension_and_the_cap() -> None:
    name = sniff.safe_name("a" * 250 + ".log")
    assert len(name) == sniff.MAX_NAME_CHARS
    assert name.endswith("a.log")
    without = sniff.safe_name("b" * 250)
    assert without == "b" * sniff.MAX_NAME_CHARS
