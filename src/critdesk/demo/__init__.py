"""The fixed demo data set: anyone can try the desk and script against it."""
