#!/usr/bin/env python3
"""Run the Audit-Alembic test suite under nose2, nose style.

    ./sqla_nose.py [-v] [--db NAME | --dburi URL ...] [test names]

Puts this checkout first on ``sys.path``, loads the runner plugin by file
path (so ``--with-coverage`` sees ``audit_alembic`` imported), and runs
nose2 on ``test/``.  Where Python was built without ``sqlite3``, the
plugin's bootstrap stands pysqlite3 in for it.  ``./sqla_nose.py --help``
lists every option; see README.unittests.rst.
"""
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(ROOT, 'audit_alembic', 'testing', 'plugin',
                         'bootstrap.py')


def put_checkout_first():
    """Make the local audit_alembic and test packages win over any other."""
    sys.path[:] = [ROOT] + [p for p in sys.path
                            if os.path.abspath(p or '.') != ROOT]
    stale_test = sys.modules.get('test')
    if stale_test is not None and not getattr(
            stale_test, '__file__', '').startswith(ROOT):
        for name in [n for n in sys.modules if n.split('.')[0] == 'test']:
            del sys.modules[name]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    put_checkout_first()
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
