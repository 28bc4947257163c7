"""Where Audit-Alembic's files are, and how child processes find them.

Standard library only at import time: the test runner loads this file
by path before coverage starts (see ``testing/plugin/bootstrap.py``).
"""
import os

#: The folder holding the ``audit_alembic`` package: the checkout root
#: when running from a checkout.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The ``env.py`` that README.rst shows, the demo writes and the test
#: fixtures use.
ENV_PY_TEMPLATE = os.path.join(PACKAGE_ROOT, 'audit_alembic', 'templates',
                               'env.py')


def read_env_py_template() -> str:
    """The text of :data:`ENV_PY_TEMPLATE`."""
    with open(ENV_PY_TEMPLATE, encoding='utf-8') as f:
        return f.read()


def child_environment(**variables: str) -> dict[str, str]:
    """``os.environ`` plus ``variables`` for a child process (``alembic``,
    ``audit-alembic``) that must import this copy of :mod:`audit_alembic`
    and find a ``sqlite3`` module."""
    from . import compat
    path = [PACKAGE_ROOT] + compat.sqlite3_path_entries() + [
        p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path), **variables)
