"""Test support for Audit-Alembic: targets, a base TestCase, scratch envs.

The runner plugins live in :mod:`audit_alembic.testing.plugin`; they are
loaded by file path (see ``sqla_nose.py`` and ``test/conftest.py``) so
that coverage starts before :mod:`audit_alembic` is imported.
"""
