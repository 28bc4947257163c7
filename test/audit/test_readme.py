"""README.rst's env.py, pasted into a fresh project, run by `alembic`."""
import contextlib
import io
import os
import re
import subprocess
import sys
import unittest

from sqlalchemy import create_engine

import audit_alembic

from audit_alembic import paths
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import LINEAR

README = os.path.join(paths.PACKAGE_ROOT, 'README.rst')


def readme_env_py():
    """The README's complete env.py (the code block wiring the hook)."""
    with open(README) as f:
        text = f.read()
    for block in re.findall(r'\.\. code-block:: python\n\n((?:    .*\n|\n)+)',
                            text):
        if 'def run_migrations_online' in block:
            return re.sub(r'^    ', '', block, flags=re.M).rstrip('\n') + '\n'
    raise AssertionError('README.rst has no env.py block')


class ReadmeEnvPyTest(unittest.TestCase):
    def test_readme_shows_the_shipped_template(self):
        self.assertEqual(readme_env_py(), paths.read_env_py_template())


class ReadmeQuickstartTest(TestBase):
    __backend__ = True

    def alembic(self, *args):
        result = subprocess.run(
            [sys.executable, '-m', 'alembic'] + list(args), cwd=self.project,
            capture_output=True, text=True, timeout=120,
            env=paths.child_environment(APP_VERSION='2.4.0'))
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def alembic_api(self, name, *args, **kw):
        """``alembic NAME ARGS`` through Alembic's API in this process
        (quicker than a child), leaving its logging (env.py's fileConfig),
        sys.path (alembic.ini's prepend_sys_path) and stdout alone; returns
        what the command wrote as its output (an offline script)."""
        from alembic import command
        from alembic.config import Config
        output = io.StringIO()
        config = Config(os.path.join(self.project, 'alembic.ini'),
                        output_buffer=output)
        config.attributes['configure_logger'] = False
        saved = list(sys.path)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                getattr(command, name)(config, *args, **kw)
        finally:
            sys.path[:] = saved
        return output.getvalue()

    def test_pasted_env_py_records_upgrade_and_downgrade(self):
        url = self.file_database_url()
        engine = create_engine(url)
        self.addCleanup(engine.dispose)
        # An empty scratch environment: it owns, and drops afterwards,
        # alembic_version and the history table.
        env = ScratchEnvironment(engine, url=url)
        self.addCleanup(env.close)
        self.project = os.path.join(env.directory, 'project')
        os.makedirs(self.project)

        self.alembic_api('init', os.path.join(self.project, 'migrations'))
        with open(os.path.join(self.project, 'migrations', 'env.py'),
                  'w') as f:
            f.write(readme_env_py())
        ini = os.path.join(self.project, 'alembic.ini')
        with open(ini) as f:
            text = f.read()
        url_line = 'sqlalchemy.url = ' + url.render_as_string(
            hide_password=False).replace('%', '%%')
        with open(ini, 'w') as f:
            f.write(re.sub(r'^sqlalchemy\.url = .*$', lambda m: url_line,
                           text, flags=re.M))
        self.alembic_api('revision', message='first', rev_id='1975ea83b712')
        self.alembic_api('revision', message='second', rev_id='ae1027a6acf')
        # The real command runs the pasted env.py.
        self.alembic('upgrade', 'head')
        self.alembic('downgrade', '-1')
        self.assertEqual(
            [(r['prev_alembic_version'], r['alembic_version'],
              r['operation_type'], r['operation_direction'],
              r['user_version']) for r in env.history()],
            [('', '1975ea83b712', 'migration', 'up', '2.4.0'),
             ('1975ea83b712', 'ae1027a6acf', 'migration', 'up', '2.4.0'),
             ('ae1027a6acf', '1975ea83b712', 'migration', 'down', '2.4.0')])
        script = self.alembic_api('upgrade', 'head', sql=True)
        self.assertIn('INSERT INTO alembic_version_history', script)


def readme_auditor_examples():
    """The README's literal blocks that build an ``auditor``."""
    with open(README) as f:
        text = f.read()
    return [re.sub(r'^    ', '', block, flags=re.M)
            for block in re.findall(r'::\n\n((?:    .*\n|\n)+)', text)
            if 'auditor = audit_alembic.Auditor' in block]


class ReadmeCustomTablesTest(TestBase):
    def run_example(self, source):
        namespace = {'audit_alembic': audit_alembic}
        exec(compile(source, README, 'exec'), namespace)
        auditor = namespace['auditor']
        env = self.scratch_env(LINEAR, auditor=auditor)
        env.run('upgrade', 'head')
        return auditor.table.name, env.history(auditor.table.name)

    def test_create_example_runs_as_written(self):
        name, rows = self.run_example(readme_auditor_examples()[0])
        self.assertEqual(name, 'schema_history')
        self.assertEqual([(r['app_version'], r['heads']) for r in rows],
                         [('2.4.0', 'A'), ('2.4.0', 'B'), ('2.4.0', 'C')])

    def test_own_table_example_runs_as_written(self):
        name, rows = self.run_example(readme_auditor_examples()[1])
        self.assertEqual(name, 'deployments')
        self.assertEqual([r['revision'] for r in rows], ['A', 'B', 'C'])
