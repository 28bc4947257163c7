"""Tests of the audit-alembic command line, run as a real subprocess."""
