"""Peer comparison with django-helpdesk (issue 9): ``python -m bench.peer.run``."""
