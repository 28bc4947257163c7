"""Audit-Alembic: keep a history of every Alembic upgrade, downgrade and stamp.

Alembic records only a database's current revision; an :class:`Auditor`
wired into ``env.py`` through ``on_version_apply`` adds one row per step
to a history table of the migrated database.
"""
from . import exc
from .auditor import Auditor
from .compat import alembic_supports_callback
from .values import CommonColumnValues

__version__ = '0.3.0'

__all__ = ['Auditor', 'CommonColumnValues', 'alembic_supports_callback',
           'exc', '__version__']
