"""The runner plugins without the ``test`` extra: one line naming it."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from audit_alembic.paths import PACKAGE_ROOT as ROOT

#: A sitecustomize that hides the modules named in HIDE_MODULES, as on an
#: installation without the test extra (as tools/no_sqlite3 does for
#: sqlite3).
SHIM = '''\
import os
import sys

HIDDEN = set(os.environ['HIDE_MODULES'].split(','))


class HideModules:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in HIDDEN:
            raise ModuleNotFoundError('No module named %r' % name, name=name)
        return None


sys.meta_path.insert(0, HideModules())
'''
LOAD = ("import runpy; runpy.run_path(%r)['load_adapter']('%%s')"
        % os.path.join(ROOT, 'audit_alembic', 'testing', 'plugin',
                       'bootstrap.py'))
EXTRA = "install the test extra: pip install 'audit-alembic[test]'"


class WithoutTestExtraTest(unittest.TestCase):
    def run_without(self, module, *args):
        shim = tempfile.mkdtemp(prefix='audit_alembic_shim_')
        self.addCleanup(shutil.rmtree, shim, True)
        with open(os.path.join(shim, 'sitecustomize.py'), 'w') as f:
            f.write(SHIM)
        env = dict(os.environ, HIDE_MODULES=module, PYTHONPATH=shim)
        for name in ('COVERAGE_PROCESS_START', 'COVERAGE_RCFILE'):
            env.pop(name, None)
        return subprocess.run([sys.executable] + list(args), cwd=ROOT,
                              env=env, capture_output=True, text=True,
                              timeout=60)

    def assertOneLine(self, result, module):
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertEqual(result.stdout, '')
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn('needs %s, which is not installed' % module, lines[0])
        self.assertIn(EXTRA, lines[0])

    def test_sqla_nose_without_nose2(self):
        result = self.run_without('nose2', 'sqla_nose.py', '--processes',
                                  '1', 'test.runner.test_masking')
        self.assertOneLine(result, 'nose2')

    def test_pytest_plugin_without_pytest(self):
        result = self.run_without('pytest', '-c', LOAD % 'pytest')
        self.assertOneLine(result, 'pytest')
