"""docs/deploy.md names every setting there is (a new one must be documented)."""

from __future__ import annotations

from pathlib import Path

from critdesk.config import Settings

DEPLOY = Path(__file__).parents[2] / "docs" / "deploy.md"


def test_every_setting_is_documented() -> None:
    text = DEPLOY.read_text()
    missing = [
        f"CRITDESK_{name.upper()}"
        for name in Settings.model_fields
        if f"`CRITDESK_{name.upper()}`" not in text
    ]
    assert not missing, f"document these in docs/deploy.md: {missing}"
