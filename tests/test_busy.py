"""A database too busy to answer in time is a 503 to retry, never a 500."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from critdesk.auth import service as auth


def test_a_locked_database_answers_503_with_retry_after(client, login, monkeypatch) -> None:
    headers = login("alice@northwind.example")

    def locked(**_kwargs: object) -> None:
        raise OperationalError(
            "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(auth, "user_for_token", locked)
    response = client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "busy"


def test_other_database_errors_stay_server_errors(client, login, monkeypatch) -> None:
    headers = login("alice@northwind.example")

    def broken(**_kwargs: object) -> None:
        raise OperationalError("SELECT", None, sqlite3.OperationalError("no such table: x"))

    monkeypatch.setattr(auth, "user_for_token", broken)
    assert client.get("/api/v1/cases", headers=headers).status_code == 500


pytestmark = pytest.mark.filterwarnings("ignore")
