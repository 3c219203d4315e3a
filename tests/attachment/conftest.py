"""Building upload bodies and files of every kind the desk has to recognise."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critdesk.app import create_app

BOUNDARY = "test-boundary-7MA4YWxkTrZu0gW"
LOG = (
    b"2026-11-25 09:12:03,114 ERROR [http-nio-8080-exec-4] c.v.runtime.Checkout - HTTP 500\n"
    b"2026-11-25 09:12:03,115 WARN  [http-nio-8080-exec-4] c.v.runtime.Pool - pool exhausted\n"
    b"2026-11-25 09:12:04,001 INFO  [main] c.v.runtime.Health - degraded\n"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81"
    b"\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 32


def noise(size: int, seed: int = 3) -> bytes:
    """Incompressible bytes, the same in every test process (xdist compares parameter ids)."""
    return random.Random(seed).randbytes(size)


def zip_bytes(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def gz_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def multipart(*parts: tuple[bytes, bytes], boundary: str = BOUNDARY) -> bytes:
    """A multipart body from (Content-Disposition parameters, content) pairs, sent verbatim."""
    body = b""
    for disposition, content in parts:
        body += f"--{boundary}\r\n".encode()
        body += b"Content-Disposition: form-data; " + disposition + b"\r\n\r\n"
        body += content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload(
    client: Any,
    headers: dict[str, str],
    ref: str,
    content: bytes = LOG,
    name: str = "server.log",
    media_type: str = "text/plain",
    **fields: Any,
) -> Any:
    data = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in fields.items()
    }
    return client.post(
        f"/api/v1/cases/{ref}/attachments",
        headers=headers,
        files={"file": (name, content, media_type)},
        data=data,
    )


def stored_files(settings: Any) -> list[str]:
    root = settings.data_dir / "attachments"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def client_with(settings: Any, clock: Any, database: Any) -> Iterator[Callable[..., TestClient]]:
    """A client of an app whose settings differ from the suite's (limits made small)."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(settings.model_copy(update=overrides), clock=clock, database=database)
        client = TestClient(app, raise_server_exceptions=False)
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
