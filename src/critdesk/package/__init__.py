"""Support packages: desk access, availability calendar, channels, SLA targets, queue weight."""
