"""Audit-Alembic: keep a history of every Alembic upgrade, downgrade and stamp.

Alembic records only a database's current revision; an :class:`Auditor`
wired into ``env.py`` through ``on_version_apply`` adds one row per step
to a history table of the migrated database.

The public names are imported when first used, so that the command line
starts without loading SQLAlchemy or Alembic.
"""
import importlib
from typing import TYPE_CHECKING
from typing import Any

from . import exc

if TYPE_CHECKING:  # for type checkers: the names __getattr__ gives
    from .auditor import Auditor as Auditor
    from .compat import alembic_supports_callback as \
        alembic_supports_callback
    from .record import DetailColumnValues as DetailColumnValues
    from .values import CommonColumnValues as CommonColumnValues

__version__ = '0.3.0'

__all__ = ['Auditor', 'CommonColumnValues', 'DetailColumnValues',
           'alembic_supports_callback', 'exc', '__version__']

#: Public name -> the module defining it.
_LAZY = {
    'Auditor': '.auditor',
    'CommonColumnValues': '.values',
    'DetailColumnValues': '.record',
    'alembic_supports_callback': '.compat',
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
