"""Writes corpus.jsonl: the labelled redaction corpus, hand-written item by item.

Run ``.venv/bin/python tests/data/redaction/build.py`` after editing the items (the modules
``items_*.py`` beside this file). Each item names the organisation profile(s) whose terms the
desk would know when redacting it (every organisation's name is always known, as in
``redaction.service.known_terms``) and labels every span a careful human would redact:
``(category, original)`` marks each standalone occurrence of ``original``.

Labelling conventions (the same as the redactor's, so that recall measures detection):
a customer URL is labelled whole as ``url``; in a connection string only the host
(``hostname``) and the password (``secret``); a home path up to the user name (``path``);
a password, key or token by its value only (``secret``); a PEM private key as its whole block.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from items_heldout import ITEMS as HELDOUT_ITEMS  # noqa: E402
from items_logs import ITEMS as LOG_ITEMS  # noqa: E402
from items_mail import ITEMS as MAIL_ITEMS  # noqa: E402
from items_negative import ITEMS as NEGATIVE_ITEMS  # noqa: E402
from items_secrets import ITEMS as SECRET_ITEMS  # noqa: E402
from profiles import ALL_ORGANISATIONS, PROFILES  # noqa: E402


def build(sources: tuple[list, ...] | None = None) -> list[dict[str, object]]:  # type: ignore[type-arg]
    lines = []
    seen = set()
    for source in sources or (MAIL_ITEMS, LOG_ITEMS, SECRET_ITEMS, NEGATIVE_ITEMS):
        for raw in source:
            item_id, profiles, text, spans = raw[:4]
            extra = raw[4] if len(raw) > 4 else {}
            if item_id in seen:
                raise SystemExit(f"duplicate id {item_id}")
            seen.add(item_id)
            known: dict[str, list[str]] = {"organisations": list(ALL_ORGANISATIONS)}
            for name in profiles:
                for key, values in PROFILES[name].items():
                    known.setdefault(key, []).extend(values)
            for span in spans:
                if span[1] not in text:
                    raise SystemExit(f"{item_id}: {span[1]!r} is not in the text")
            lines.append(
                {"id": item_id, "text": text, "known": known, "spans": [list(s) for s in spans]}
                | extra
            )
    return lines


def write(items: list[dict[str, object]], out: Path) -> None:
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    print(f"wrote {len(items)} items to {out}")


if __name__ == "__main__":
    write(build(), HERE / "corpus.jsonl")
    # The held-out set lives in its own folder: `eval redaction` on the default folder and
    # the targets test read corpus.jsonl only.
    write(build((HELDOUT_ITEMS,)), HERE / "heldout" / "heldout.jsonl")
