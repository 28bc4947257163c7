"""What differs between the versions and builds Audit-Alembic runs on.

The only module that touches a private name of SQLAlchemy or Alembic;
each such use is behind a check of the attribute it needs.
"""
import contextlib
import inspect
import os
import sys
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterator
from typing import Optional

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Dialect

#: The pip requirement that provides ``sqlite3`` where Python lacks it.
PYSQLITE3_PACKAGE = 'pysqlite3-binary'
#: A folder holding a ``sqlite3`` package that stands for pysqlite3, put
#: on ``PYTHONPATH`` of child processes when this Python has no sqlite3.
SQLITE3_SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '_sqlite3_fallback')


def alembic_supports_callback(
        configure_method: Optional[Callable[..., Any]] = None) -> bool:
    """Tell whether ``configure_method`` accepts ``on_version_apply``.

    :param configure_method: a ``configure`` function to inspect; by
        default (or when given ``alembic.context.configure``, a proxy
        without a signature of its own) Alembic's
        ``EnvironmentContext.configure``.
    """
    from alembic import context
    from alembic.runtime.environment import EnvironmentContext
    if configure_method is None or configure_method is context.configure:
        configure_method = EnvironmentContext.configure
    try:
        parameters = inspect.signature(configure_method).parameters
    except (TypeError, ValueError):
        return False
    return 'on_version_apply' in parameters


@contextlib.contextmanager
def standard_conforming_strings(dialect: 'Dialect') -> Iterator[None]:
    """Render PostgreSQL string literals for a server with
    ``standard_conforming_strings`` on (the default since 9.1).

    SQLAlchemy 2.0 renders them for servers without it (doubling
    backslashes) until a connection says otherwise, and offline there is
    no connection; 2.1 assumes the standard and has no such flag.
    """
    from . import dialects  # this file is also loaded by path alone
    flag = '_backslash_escapes'  # private in SQLAlchemy 2.0
    if (not dialects.server(dialect).has_standard_conforming_strings or
            not getattr(dialect, flag, False)):
        yield
        return
    setattr(dialect, flag, False)
    try:
        yield
    finally:
        setattr(dialect, flag, True)


def ensure_sqlite3() -> bool:
    """Make ``import sqlite3`` work where Python was built without it, by
    standing pysqlite3 in for it.

    :return: False if there is neither module, else True.
    """
    try:
        import sqlite3  # noqa: F401
        return True
    except ImportError:
        pass
    try:
        import pysqlite3
        from pysqlite3 import dbapi2
    except ImportError:
        return False
    sys.modules['sqlite3'] = pysqlite3
    sys.modules['sqlite3.dbapi2'] = dbapi2
    return True


def sqlite3_path_entries() -> list[str]:
    """``PYTHONPATH`` entries child processes need for SQLite: the
    pysqlite3 shim where this Python has no sqlite3, else none."""
    try:
        import sqlite3  # noqa: F401
    except ImportError:
        return [SQLITE3_SHIM_DIR]
    if getattr(sys.modules['sqlite3'], '__name__', '') == 'pysqlite3':
        return [SQLITE3_SHIM_DIR]
    return []


#: The first Alembic that reads ``[tool.alembic]`` of ``pyproject.toml``
#: (``Config(toml_file=...)``, ``alembic init --template pyproject``).
ALEMBIC_PYPROJECT_VERSION = (1, 16)


def alembic_version() -> tuple[int, ...]:
    """The installed Alembic's version, as a tuple of numbers."""
    import alembic
    parts: list[int] = []
    for part in alembic.__version__.split('.'):
        digits = ''.join(c for c in part if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def alembic_reads_pyproject() -> bool:
    """Whether the installed Alembic reads ``pyproject.toml`` (1.16+)."""
    return alembic_version() >= ALEMBIC_PYPROJECT_VERSION


def alembic_config(ini_file: Optional[str], toml_file: Optional[str],
                   ini_section: str) -> 'Config':
    """An ``alembic.config.Config`` of ``ini_file`` (or None) and, where
    this Alembic reads one, ``toml_file`` (or None)."""
    from alembic.config import Config
    if alembic_reads_pyproject():
        return Config(ini_file, toml_file=toml_file, ini_section=ini_section)
    return Config(ini_file, ini_section=ini_section)


def load_toml(path: str) -> dict[str, Any]:
    """The parsed TOML file ``path`` (a dict), with the parser Python or
    Alembic provides.

    :raise ValueError: if the file is not TOML, or no parser is there.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        try:
            from alembic.util.compat import tomllib
        except ImportError:
            raise ValueError('reading TOML needs Python 3.11 or Alembic '
                             '1.16') from None
    with open(path, 'rb') as f:
        data: dict[str, Any] = tomllib.load(f)
    return data


#: The functions of ``alembic.command`` that only list a run's steps.
PURE_STEP_FUNCTIONS = ('upgrade', 'downgrade', 'do_stamp')


def migrates(ctx: Any) -> bool:
    """Whether the run of migration context ``ctx`` may apply steps: not
    where Alembic runs ``env.py`` for a command that only reads (its
    ``current``, ``check``...), told by the function it keeps in
    ``opts['fn']`` (see :func:`planned_steps`)."""
    fn: Any = getattr(ctx, 'opts', {}).get('fn')
    return (getattr(fn, '__module__', None) != 'alembic.command' or
            getattr(fn, '__name__', None) in PURE_STEP_FUNCTIONS)


def planned_steps(ctx: Any, heads: Any) -> Optional[int]:
    """How many steps the run of migration context ``ctx``, started at
    revisions ``heads``, applies; None where that cannot be told.

    Alembic keeps the function that lists them (its command's ``upgrade``,
    ``downgrade`` or ``stamp``, a pure computation over the scripts) in
    the context's ``opts['fn']``, and calls it with the heads as the run
    starts; no public API gives the list.
    """
    fn: Any = getattr(ctx, 'opts', {}).get('fn')
    # Only those known to compute and nothing more: autogenerate's
    # (``revision``, ``check``) fills the new script as it runs.
    if getattr(fn, '__module__', None) != 'alembic.command' or \
            getattr(fn, '__name__', None) not in PURE_STEP_FUNCTIONS:
        return None
    try:
        return len(list(fn(tuple(heads), ctx)))
    except Exception:
        return None


def engine_isolation_level(dialect: Any) -> Optional[str]:
    """The isolation level ``create_engine(isolation_level=...)`` gave
    every connection of ``dialect``'s engine, or None.  SQLAlchemy 2.0
    and 2.1 keep it in the dialect's private ``_on_connect_isolation_
    level`` (no public API tells it without a query); None where a
    version has it no more."""
    level = getattr(dialect, '_on_connect_isolation_level', None)
    return level if isinstance(level, str) else None
