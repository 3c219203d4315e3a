"""critdesk: a helpdesk for production-critical issues."""

__version__ = "0.1.0"
