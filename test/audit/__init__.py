"""Tests of the audit_alembic library."""
