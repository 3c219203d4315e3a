"""Pure rules for screen-sharing slots and the iCalendar invitation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vText

MAX_SLOTS = 5
MAX_SLOT = timedelta(hours=4)
MIN_SLOT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


class SlotError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_slots(slots: list[Slot], now: datetime) -> list[Slot]:
    """Proposed slots: 1–5, in the future, 15 min to 4 h long, not overlapping; sorted."""
    if not 1 <= len(slots) <= MAX_SLOTS:
        raise SlotError("invalid_slots", f"propose between 1 and {MAX_SLOTS} slots")
    ordered = sorted(slots, key=lambda s: s.start)
    for slot in ordered:
        if slot.start <= now:
            raise SlotError("slot_in_past", "every proposed slot must start in the future")
        if not MIN_SLOT <= slot.end - slot.start <= MAX_SLOT:
            raise SlotError("invalid_slot_length", "a slot lasts between 15 minutes and 4 hours")
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise SlotError("overlapping_slots", "proposed slots must not overlap")
    return ordered


def matching_slot(slots: list[Slot], start: datetime) -> Slot | None:
    return next((slot for slot in slots if slot.start == start), None)


@dataclass(frozen=True, slots=True)
class Invitation:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str
    meeting_link: str
    organizer_email: str
    organizer_name: str
    attendees: tuple[tuple[str, str], ...]  # (email, name)
    stamp: datetime
    cancelled: bool = False


def ics(invitation: Invitation) -> bytes:
    """An RFC 5545 invitation (METHOD:REQUEST, or CANCEL once cancelled)."""
    calendar = Calendar()
    calendar.add("prodid", "-//critdesk//screen-sharing//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if invitation.cancelled else "REQUEST")
    event = Event()
    event.add("uid", invitation.uid)
    event.add("sequence", invitation.sequence)
    event.add("dtstamp", invitation.stamp)
    event.add("dtstart", invitation.start)
    event.add("dtend", invitation.end)
    event.add("summary", invitation.summary)
    event.add("description", f"{invitation.description}\n\nJoin: {invitation.meeting_link}")
    event.add("location", invitation.meeting_link)
    event.add("url", invitation.meeting_link)
    event.add("status", "CANCELLED" if invitation.cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{invitation.organizer_email}")
    organizer.params["cn"] = vText(invitation.organizer_name)
    event["organizer"] = organizer
    for email, name in invitation.attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
