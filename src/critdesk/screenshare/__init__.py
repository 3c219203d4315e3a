"""Screen-sharing sessions: proposed slots, the accepted one, the invitation and the notes."""
