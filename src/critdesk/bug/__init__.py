"""Bug reports: find the known bug first, file a reproducible one otherwise, close the loop."""
