"""The Audit-Alembic test suite; run it with ./sqla_nose.py or pytest."""
