"""Ids beyond what an integer column holds name nothing: a clear 422, never the database
driver's overflow error (a 500 on PostgreSQL)."""

from __future__ import annotations

import pytest

TOO_BIG = 2**31  # one past PostgreSQL's integer; 2**62 was the bound these routes had


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/organisations/{TOO_BIG}/acceptable-use",
        f"/api/v1/availability?organisation_id={TOO_BIG}",
        f"/api/v1/access-log?organisation={TOO_BIG}",
        f"/api/v1/cases/CD-000001/attachments/{TOO_BIG}",
    ],
)
def test_an_id_beyond_the_integer_range_is_refused_as_invalid(client, login, path) -> None:
    response = client.get(path, headers=login("admin@vendor.example"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
