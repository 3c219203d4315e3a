"""The conversation on a case: customer-visible comments and internal engineer notes."""
