"""What differs between the versions and builds Audit-Alembic runs on.

The only module that touches a private name of SQLAlchemy or Alembic;
each such use is behind a check of the attribute it needs.
"""
import contextlib
import inspect
import os
import sys

#: The pip requirement that provides ``sqlite3`` where Python lacks it.
PYSQLITE3_PACKAGE = 'pysqlite3-binary'
#: A folder holding a ``sqlite3`` package that stands for pysqlite3, put
#: on ``PYTHONPATH`` of child processes when this Python has no sqlite3.
SQLITE3_SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '_sqlite3_fallback')


def alembic_supports_callback(configure_method=None):
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
def standard_conforming_strings(dialect):
    """Render PostgreSQL string literals for a server with
    ``standard_conforming_strings`` on (the default since 9.1).

    SQLAlchemy 2.0 renders them for servers without it (doubling
    backslashes) until a connection says otherwise, and offline there is
    no connection; 2.1 assumes the standard and has no such flag.
    """
    flag = '_backslash_escapes'  # private in SQLAlchemy 2.0
    if dialect.name != 'postgresql' or not getattr(dialect, flag, False):
        yield
        return
    setattr(dialect, flag, False)
    try:
        yield
    finally:
        setattr(dialect, flag, True)


def ensure_sqlite3():
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


def sqlite3_path_entries():
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


def alembic_version():
    """The installed Alembic's version, as a tuple of numbers."""
    import alembic
    parts = []
    for part in alembic.__version__.split('.'):
        digits = ''.join(c for c in part if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def alembic_reads_pyproject():
    """Whether the installed Alembic reads ``pyproject.toml`` (1.16+)."""
    return alembic_version() >= ALEMBIC_PYPROJECT_VERSION


def alembic_config(ini_file, toml_file, ini_section):
    """An ``alembic.config.Config`` of ``ini_file`` (or None) and, where
    this Alembic reads one, ``toml_file`` (or None)."""
    from alembic.config import Config
    if alembic_reads_pyproject():
        return Config(ini_file, toml_file=toml_file, ini_section=ini_section)
    return Config(ini_file, ini_section=ini_section)


def load_toml(path):
    """The parsed TOML file ``path`` (a dict), with the parser Python or
    Alembic provides.

    :raise ValueError: if the file is not TOML, or no parser is there.
    """
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            from alembic.util.compat import tomllib
        except ImportError:
            raise ValueError('reading TOML needs Python 3.11 or Alembic '
                             '1.16') from None
    with open(path, 'rb') as f:
        return tomllib.load(f)
