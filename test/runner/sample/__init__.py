"""A small suite the runner tests select from; it passes unless
AUDIT_ALEMBIC_SAMPLE_FAIL is set."""
