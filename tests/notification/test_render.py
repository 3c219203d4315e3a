"""The e-mail renderer's short cuts write what compat32 writes."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import compat32

from hypothesis import given
from hypothesis import strategies as st

from critdesk.notification.render import POLICY, CaseView, Sender, case_email

NAMES = st.sampled_from(["Subject", "To", "From", "Message-ID", "X-Critdesk-Case", "References"])


@given(name=NAMES, value=st.text(max_size=120))
def test_quick_folding_writes_every_header_as_compat32_does(name: str, value: str) -> None:
    assert POLICY.fold_binary(name, value) == compat32.fold_binary(name, value)
    assert POLICY.fold(name, value) == compat32.fold(name, value)


@given(
    name=NAMES,
    value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=100),
)
def test_quick_folding_of_printable_ascii_matches_too(name: str, value: str) -> None:
    # The short cut's own domain (st.text above mostly draws non-ASCII), long lines included.
    assert POLICY.fold_binary(name, value) == compat32.fold_binary(name, value)


def test_a_case_email_reads_back_whole_with_its_own_boundary() -> None:
    view = CaseView(
        ref="PCH-000042",
        title="Claims portal answers HTTP 503 for every user — après la mise à jour " * 2,
        severity="S1",
        state="new",
        organisation="Northwind Insurance",
        reporter_id=1,
        owner_id=None,
        due_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
        kind="reported",
        message=None,
        data={},
    )
    messages = [
        case_email(
            sender=Sender("desk@critdesk.example", "critdesk.example", "https://desk.example"),
            key=f"k{n}",
            to="alice@northwind.example",
            person=(1, "Alice", "customer"),
            case=view,
            created_at=datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
        )
        for n in range(2)
    ]
    boundaries = {message.get_boundary() for message in messages}
    assert len(boundaries) == 2  # random per message
    for message in messages:
        wire = message.as_bytes()
        assert all(len(line) <= 78 for line in wire.split(b"\n"))
        parsed = email.message_from_bytes(wire)
        assert parsed.get_content_type() == "multipart/alternative"
        text, html = (part.get_payload(decode=True).decode() for part in parsed.get_payload())
        assert "PCH-000042" in text and "après la mise à jour" in text
        assert "<html" in html.lower()
        subject = str(email.header.make_header(email.header.decode_header(parsed["Subject"])))
        assert subject.startswith("[PCH-000042]") and "après" in subject
