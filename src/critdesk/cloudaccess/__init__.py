"""Time-boxed, justified, audited access to the vendor's cloud systems for one environment."""
