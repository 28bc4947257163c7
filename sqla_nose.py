#!/usr/bin/env python3
"""Run the Audit-Alembic test suite under nose2, nose style.

    ./sqla_nose.py [-v] [--db NAME | --dburi URL ...] [test names]

Puts this checkout first on ``sys.path``, loads the runner plugin by file
path (so ``--with-coverage`` sees ``audit_alembic`` imported), and runs
nose2 on ``test/``.  ``./sqla_nose.py --help`` lists every option; see
README.unittests.rst.
"""
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(ROOT, 'audit_alembic', 'testing', 'plugin',
                         'bootstrap.py')
PYSQLITE_PACKAGE = 'pysqlite3-binary'


def put_checkout_first():
    """Make the local audit_alembic and test packages win over any other."""
    sys.path[:] = [ROOT] + [p for p in sys.path
                            if os.path.abspath(p or '.') != ROOT]
    stale_test = sys.modules.get('test')
    if stale_test is not None and not getattr(
            stale_test, '__file__', '').startswith(ROOT):
        for name in [n for n in sys.modules if n.split('.')[0] == 'test']:
            del sys.modules[name]


def ensure_sqlite():
    """Use pysqlite3 where this Python was built without sqlite3."""
    try:
        import sqlite3  # noqa: F401
    except ImportError:
        try:
            import pysqlite3
            from pysqlite3 import dbapi2
        except ImportError:
            sys.exit('%s: error: this Python has no sqlite3 module; '
                     "install a replacement with: pip install '%s'"
                     % (os.path.basename(sys.argv[0]), PYSQLITE_PACKAGE))
        sys.modules['sqlite3'] = pysqlite3
        sys.modules['sqlite3.dbapi2'] = dbapi2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    put_checkout_first()
    ensure_sqlite()
    adapter = runpy.run_path(BOOTSTRAP)['load_adapter']('nose')

    import nose2
    nose2.main(
        argv=[sys.argv[0],
              '--top-level-directory', ROOT,
              '--start-dir', os.path.join(ROOT, 'test'),
              '--config', os.path.join(ROOT, 'setup.cfg')] + argv,
        module=None,
        plugins=[adapter.__name__])


if __name__ == '__main__':
    main()
