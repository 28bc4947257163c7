"""The Auditor's log, ``audit_alembic.auditor``: where users, and their
logging configuration, look for what the auditor did.

The modules that log for the Auditor get the logger as they log, not as
they are imported: ``env.py``'s ``fileConfig()`` disables every logger
that exists before it runs, and a module may be imported before it (as
:mod:`.failure` is, to set its ``RECORD_TIMEOUT``).
"""
import logging

#: The name of the Auditor's logger: that of :mod:`.auditor`.
AUDITOR = 'audit_alembic.auditor'


def auditor() -> logging.Logger:
    """The Auditor's logger."""
    return logging.getLogger(AUDITOR)
