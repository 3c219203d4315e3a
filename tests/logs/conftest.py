"""The demo's accounts get one password hash per test process (hashing is slow)."""

from __future__ import annotations

import pytest

from tests.auth.test_pages import hash_the_demo_password_once


@pytest.fixture(autouse=True)
def _one_password_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    hash_the_demo_password_once(monkeypatch)
