"""Projects made by ``alembic init``, with either template, read the way
Alembic reads them (``alembic.ini`` and ``pyproject.toml``)."""
import contextlib
import io
import os
import shutil
import tempfile
import unittest

from audit_alembic import compat
from audit_alembic import paths
from test.cli.support import CLITestCase

PYPROJECT_SKIP = ('Alembic %s has no pyproject template (1.16+)'
                  % '.'.join(map(str, compat.alembic_version())))


class ProjectLayoutTest(CLITestCase):
    """A project of ``alembic init --template TEMPLATE`` whose env.py is
    Audit-Alembic's, upgraded to head."""

    def make_project(self, template):
        from alembic import command
        self.directory = tempfile.mkdtemp(prefix='audit_alembic_init_')
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        # Alembic reports each file it makes on stdout: keep it.
        with contextlib.redirect_stdout(io.StringIO()):
            command.init(self.config(),
                         os.path.join(self.directory, 'migrations'),
                         template=template)
        ini = os.path.join(self.directory, 'alembic.ini')
        with open(ini) as f:
            text = f.read()
        with open(ini, 'w') as f:
            f.write(text.replace('driver://user:pass@localhost/dbname',
                                 'sqlite:///%(here)s/app.db'))
        shutil.copy(os.path.join(os.path.dirname(paths.__file__),
                                 'templates', 'env.py'),
                    os.path.join(self.directory, 'migrations', 'env.py'))
        with contextlib.redirect_stdout(io.StringIO()):
            command.revision(self.config(), 'one', rev_id='aaa1')
            command.revision(self.config(), 'two', rev_id='bbb2')
        command.upgrade(self.config(), 'head')

    def config(self):
        """Alembic's Config of the project, as ``alembic`` builds it in
        its directory."""
        ini = os.path.join(self.directory, 'alembic.ini')
        toml = os.path.join(self.directory, 'pyproject.toml')
        config = compat.alembic_config(ini, toml, 'alembic')
        config.attributes['configure_logger'] = False
        config.stdout = io.StringIO()
        return config

    def write(self, name, text):
        with open(os.path.join(self.directory, name), 'a') as f:
            f.write(text)

    def assertCommandsWork(self, *args):
        for command in ('status', 'history'):
            out = self.assertSucceeds(self.main(command, *args,
                                                cwd=self.directory))
            self.assertIn('bbb2', out)
        out = self.assertSucceeds(self.main('verify', *args,
                                            cwd=self.directory))
        self.assertIn('ok       scripts', out)

    def test_generic_template(self):
        self.make_project('generic')
        self.assertCommandsWork()

    @unittest.skipUnless(compat.alembic_reads_pyproject(), PYPROJECT_SKIP)
    def test_pyproject_template(self):
        self.make_project('pyproject')
        with open(os.path.join(self.directory, 'pyproject.toml')) as f:
            self.assertIn('script_location', f.read())
        self.assertCommandsWork()
        self.assertCommandsWork('-c', 'alembic.ini')
        self.assertCommandsWork('-c', 'pyproject.toml')

    @unittest.skipUnless(compat.alembic_reads_pyproject(), PYPROJECT_SKIP)
    def test_pyproject_from_another_directory(self):
        self.make_project('pyproject')
        result = self.main('status', '-c',
                           os.path.join(self.directory, 'alembic.ini'))
        self.assertIn('bbb2', self.assertSucceeds(result))

    @unittest.skipUnless(compat.alembic_reads_pyproject(), PYPROJECT_SKIP)
    def test_our_settings_in_pyproject(self):
        self.make_project('pyproject')
        self.write('pyproject.toml',
                   '\n[tool.audit_alembic]\ntable_name = "toml_history"\n')
        result = self.main('history', cwd=self.directory)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('no table toml_history', result.stderr)
        self.write('alembic.ini',
                   '\n[audit_alembic]\ntable_name = ini_history\n')
        result = self.main('history', cwd=self.directory)
        self.assertIn('no table ini_history', result.stderr)

    @unittest.skipUnless(compat.alembic_reads_pyproject(), PYPROJECT_SKIP)
    def test_unknown_setting_in_pyproject(self):
        self.make_project('pyproject')
        self.write('pyproject.toml',
                   '\n[tool.audit_alembic]\ntable_nme = "x"\n')
        result = self.main('history', cwd=self.directory)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('table_nme in the [tool.audit_alembic] table',
                      result.stderr)

    def test_our_settings_are_interpolated(self):
        self.make_project('generic')
        self.write('alembic.ini', '\n[audit_alembic]\nprefix = x\n'
                                  'table_name = %(prefix)s_history\n')
        result = self.main('history', cwd=self.directory)
        self.assertIn('unknown option prefix', result.stderr)
        self.write('alembic.ini', '\n[DEFAULT]\nprefix = y\n')
        with open(os.path.join(self.directory, 'alembic.ini')) as f:
            text = f.read().replace('prefix = x\n', '')
        with open(os.path.join(self.directory, 'alembic.ini'), 'w') as f:
            f.write(text)
        result = self.main('history', cwd=self.directory)
        self.assertIn('no table y_history', result.stderr)
