"""Business calendars: opening hours, public holidays and closed days for SLA clocks."""
