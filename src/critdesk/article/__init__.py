"""Articles: anonymised write-ups of resolved cases, redacted, reviewed by a second person and
published to the knowledge base (and, optionally, the community forum)."""
