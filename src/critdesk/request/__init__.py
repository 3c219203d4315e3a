"""Info requests: what an engineer asks of the customer, and the customer's answers."""
