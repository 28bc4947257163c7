"""``audit-alembic demo``: a scratch project, Alembic runs, the history."""
import configparser
import io
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from unittest import mock

from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from audit_alembic import paths
from audit_alembic.cli import demo
from audit_alembic.exc import CommandError
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase
from test.cli.support import child_environment
from test.cli.support import parse_table
from test.cli.support import url_text

COMMANDS = ['$ alembic upgrade head', '$ alembic upgrade head',
            '$ alembic downgrade -1', '$ alembic stamp head',
            '$ audit-alembic history', '$ audit-alembic status',
            '$ audit-alembic verify',
            '$ audit-alembic digest    # keep it outside the database',
            "$ audit-alembic verify --digest '<that line>'"]
HISTORY = COMMANDS.index('$ audit-alembic history')
#: direction, kind, "from -> to" and status of the rows the demo leaves
#: where each step commits by itself (SQLite, MariaDB).
STEPS = [
    ['up', 'migration', '<base> -> 1975ea83b712', 'ok'],
    ['up', 'migration', '1975ea83b712 -> ae1027a6acf', 'ok'],
    ['up', 'migration', 'ae1027a6acf -> 27c6a30d7c24', 'failed'],
    ['up', 'migration', 'ae1027a6acf -> 27c6a30d7c24', 'ok'],
    # The column added by hand, found as the downgrade starts.
    ['up', 'drift', '27c6a30d7c24 -> 27c6a30d7c24', 'drift'],
    ['down', 'migration', '27c6a30d7c24 -> ae1027a6acf', 'ok'],
    ['up', 'stamp', 'ae1027a6acf -> 27c6a30d7c24', 'ok'],
]
#: Where the first upgrade is one transaction (PostgreSQL), its first
#: two steps are undone with the third.
ONE_TRANSACTION_STEPS = [
    ['up', 'migration', '<base> -> 27c6a30d7c24', 'failed'],
    ['up', 'migration', '<base> -> 1975ea83b712', 'ok'],
    ['up', 'migration', '1975ea83b712 -> ae1027a6acf', 'ok'],
] + STEPS[3:]
DEMO_TABLES = {'demo_account', 'demo_invoice', 'alembic_version',
               'alembic_version_history', 'alembic_version_history_schema'}
#: The steps Alembic logs in each of the four commands, in the format of
#: alembic.ini's logging.
LOGGED_STEPS = [
    ['INFO  [alembic.runtime.migration] Running upgrade  -> 1975ea83b712, '
     'create account table',
     'INFO  [alembic.runtime.migration] Running upgrade 1975ea83b712 -> '
     'ae1027a6acf, add a column',
     'INFO  [alembic.runtime.migration] Running upgrade ae1027a6acf -> '
     '27c6a30d7c24, add an invoice table'],
    ['INFO  [alembic.runtime.migration] Running upgrade ae1027a6acf -> '
     '27c6a30d7c24, add an invoice table'],
    ['INFO  [alembic.runtime.migration] Running downgrade 27c6a30d7c24 -> '
     'ae1027a6acf, add an invoice table'],
    ['INFO  [alembic.runtime.migration] Running stamp_revision ae1027a6acf '
     '-> 27c6a30d7c24'],
]
#: Where the first upgrade is undone as a whole, the second runs it all.
ONE_TRANSACTION_LOGGED_STEPS = LOGGED_STEPS[:1] * 2 + LOGGED_STEPS[2:]


def process_state():
    """What running the demo in this process must leave as it found:
    logging (levels, handlers, propagation, disabled loggers),
    os.environ, the working directory and sys.path."""
    for name in ('alembic', 'alembic.runtime.migration'):
        logging.getLogger(name)
    loggers = dict(logging.Logger.manager.loggerDict, root=logging.root)
    return ({name: (logger.level, list(logger.handlers), logger.propagate,
                    logger.disabled)
             for name, logger in loggers.items()
             if isinstance(logger, logging.Logger)},
            dict(os.environ), os.getcwd(), list(sys.path))


#: The state of a logger as ``logging.getLogger`` creates it.
NEW_LOGGER = (logging.NOTSET, [], True, False)


class DemoOutputMixin:
    def assertDemoOutput(self, text, steps=STEPS, logged=LOGGED_STEPS):
        """The commands in order, each with the steps Alembic ``logged``,
        then the history table; returns the table's rows."""
        positions = []
        for command in COMMANDS:
            start = positions[-1] + 1 if positions else 0
            positions.append(text.find(command + '\n', start))
        self.assertNotIn(-1, positions, text)
        for i, logged_steps in enumerate(logged):
            output = text[positions[i]:positions[i + 1]].splitlines()
            self.assertIn('INFO  [alembic.runtime.migration] Context impl ',
                          output[1])
            self.assertEqual([line for line in output
                              if ' Running ' in line], logged_steps)
        by_hand = text[positions[1]:positions[2]]
        self.assertIn('\n$ # by hand, outside the migrations:\n$ ALTER TABLE '
                      'demo_account ADD COLUMN nickname VARCHAR(30)\n',
                      by_hand)
        self.assertRegex(
            text[positions[2]:positions[3]],
            r'\nWARNI \[audit_alembic.auditor\] schema drift since run '
            r'[0-9a-f]{8} \(.* UTC\), recorded in alembic_version_history: '
            r'\+column demo_account.nickname\n')
        first_try = text[positions[0]:positions[1]]
        self.assertIn('RuntimeError: the first try of this step fails, on '
                      'purpose\n', first_try)
        self.assertRegex(first_try,
                         r'\[\d+ lines of traceback\]\nRuntimeError: ')
        self.assertNotIn('File "', first_try)
        table = text[positions[HISTORY]:].split('\n', 1)[1].split('\n\n')[0]
        headers, rows = parse_table(table)
        self.assertEqual(headers[2:11], [
            'direction', 'kind', 'from -> to', 'user version', 'status',
            'run', 'took', 'by', 'error'])
        self.assertEqual([row[2:5] + row[6:7] for row in rows], steps)
        self.assertEqual({row[5] for row in rows}, {'myapp 1.0'})
        self.assertEqual([row[10] for row in rows if row[6] == 'failed'],
                         ['RuntimeError: the first try of this step fails, on '
                          'purpose'])
        # A drift row shows the change where a failure shows its error.
        self.assertEqual([row[10] for row in rows if row[6] == 'drift'],
                         ['+column demo_account.nickname'])
        status = text.split('$ audit-alembic status\n', 1)[1]
        status = status.split('\n$ audit-alembic verify\n')
        self.assertEqual(
            [line.split()[-1] for line in status[0].splitlines()[2:5]],
            ['table', 'column', 'table'])
        self.assertIn('  stamped  ', status[0].splitlines()[4])
        self.assertIn('database at: 27c6a30d7c24\npending: none\n',
                      status[0])
        self.assertTrue(status[1].startswith('ok       replay'), status[1])
        # It ends with a digest, and verifies against it.
        from audit_alembic import digest
        after = text[positions[-2]:].splitlines()
        found = digest.parse(after[1])
        self.assertEqual((found.rows, found.last_id), (len(rows), len(rows)))
        self.assertIn('ok       digests', text[positions[-1]:])
        return rows


class DemoTest(DemoOutputMixin, CLITestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='audit_alembic_demo_test_')
        self.addCleanup(shutil.rmtree, self.directory, True)

    def test_scratch_project_is_removed(self):
        # The one run of the real console script; the others run in
        # this process.
        tmp = os.path.join(self.directory, 'tmp')
        os.mkdir(tmp)
        result = self.cli('demo', env=child_environment(TMPDIR=tmp))
        text = self.assertSucceeds(result)
        self.assertDemoOutput(text)
        project = re.search(r'project in (\S+):', text).group(1)
        self.assertTrue(project.startswith(tmp), project)
        self.assertIn('Removed the scratch project', text)
        self.assertEqual(os.listdir(tmp), [])

    def test_keep(self):
        kept = os.path.join(self.directory, 'kept')
        text = self.assertSucceeds(self.main('demo', '--keep', kept))
        self.assertDemoOutput(text)
        self.assertIn('cd %s && alembic history' % kept, text)
        ini = os.path.join(kept, 'alembic.ini')
        self.assertTrue(os.path.isfile(ini))
        with open(os.path.join(kept, 'migrations', 'env.py')) as f:
            self.assertEqual(f.read(), paths.read_env_py_template())
        # The demo prints Alembic's log as the project's alembic.ini has
        # the alembic command print it.
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(ini)
        self.assertEqual(parser.get('formatter_generic', 'format'),
                         demo.LOG_FORMAT)

        # The real alembic command works in the kept project.
        result = subprocess.run(
            [sys.executable, '-m', 'alembic', '-c', ini, 'current'],
            cwd=self.directory, env=child_environment(),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), '27c6a30d7c24 (head)')
        # The stamp the output suggests lets the user go on from there.
        stamp = re.search(r'"alembic (stamp \w+)"', text).group(1)
        self.alembic_api(ini, *stamp.split())
        self.alembic_api(ini, 'downgrade', 'base')
        engine = create_engine('sqlite:///' + os.path.join(kept, 'demo.db'))
        self.addCleanup(engine.dispose)
        self.assertFalse({'demo_account', 'demo_invoice'} &
                         set(inspect(engine).get_table_names()))
        with engine.connect() as connection:
            self.assertEqual(connection.execute(sql(
                'SELECT version_num FROM alembic_version')).all(), [])

    def alembic_api(self, ini, name, *args):
        """``alembic -c INI NAME ARGS`` through Alembic's API, in this
        process, leaving its logging and sys.path alone."""
        from alembic import command
        from alembic.config import Config
        config = Config(ini)
        config.attributes['configure_logger'] = False
        saved = list(sys.path)
        try:
            getattr(command, name)(config, *args)
        finally:
            sys.path[:] = saved

    def set_alembic_logger(self, level=logging.WARNING, propagate=True):
        """Give the ``alembic`` logger a known state (whatever an earlier
        test left), restored after the test."""
        logger = logging.getLogger('alembic')
        self.addCleanup(setattr, logger, 'propagate', logger.propagate)
        self.addCleanup(logger.setLevel, logger.level)
        logger.setLevel(level)
        logger.propagate = propagate

    def assertProcessAsFound(self, before):
        """``process_state()`` as it was ``before``, but for loggers that
        libraries created meanwhile (e.g. SQLAlchemy's, per pool class),
        left as created."""
        loggers, *rest = process_state()
        created = {name: state for name, state in loggers.items()
                   if name not in before[0]}
        self.assertEqual({name: state for name, state in created.items()
                          if state != NEW_LOGGER}, {})
        self.assertEqual(({name: state for name, state in loggers.items()
                           if name in before[0]}, *rest), before)

    def test_leaves_the_process_as_found(self):
        self.set_alembic_logger()
        # A program's own log handler gets no copy of the demo's lines.
        log = io.StringIO()
        handler = logging.StreamHandler(log)
        logging.root.addHandler(handler)
        self.addCleanup(logging.root.removeHandler, handler)
        before = process_state()
        self.assertDemoOutput(self.assertSucceeds(self.main('demo')))
        self.assertProcessAsFound(before)
        self.assertEqual(log.getvalue(), '')

    def test_unexpected_failure(self):
        # The first try's error is not the one the demo expects.
        self.set_alembic_logger()
        before = process_state()
        with mock.patch.object(demo, 'FIRST_TRY_ERROR', 'another error'):
            result = self.main('demo')
        message = self.assertFails(result)
        self.assertEqual(message, '`alembic upgrade head` failed: '
                         'RuntimeError: the first try of this step fails, '
                         'on purpose')
        self.assertIn('Running upgrade ae1027a6acf -> 27c6a30d7c24',
                      result.stdout)
        self.assertProcessAsFound(before)

    def test_first_try_must_fail(self):
        commands = (('stamp', 'ae1027a6acf'),) + demo.COMMANDS[1:]
        with mock.patch.object(demo, 'COMMANDS', commands):
            result = self.main('demo')
        self.assertFails(result, '`alembic stamp ae1027a6acf` succeeded',
                         'the demo expected it to fail with "%s"'
                         % demo.FIRST_TRY_ERROR)

    def test_failure_message_is_one_line_without_password(self):
        url = make_url('postgresql://scott:sekrit@db.example/test')
        error = RuntimeError('cannot log in to %s\n[SQL: SELECT 1]'
                             % url.render_as_string(hide_password=False))
        with mock.patch('alembic.command.upgrade', side_effect=error), \
                self.assertRaises(CommandError) as caught:
            demo._run_alembic(self.directory, ('upgrade', 'head'), url,
                              io.StringIO())
        self.assertEqual(str(caught.exception),
                         '`alembic upgrade head` failed: RuntimeError: '
                         'cannot log in to postgresql://***@db.example/test')

    def test_keep_refuses_a_directory_in_use(self):
        with open(os.path.join(self.directory, 'precious.txt'), 'w'):
            pass
        self.assertFails(self.main('demo', '--keep', self.directory),
                         '--keep', 'not empty')
        self.assertEqual(os.listdir(self.directory), ['precious.txt'])


class DemoInMemoryTest(CLITestCase):

    def test_in_memory_sqlite_is_refused(self):
        # Each spelling SQLAlchemy reads as an in-memory database, the
        # file: URIs included.
        for url in ('sqlite://', 'sqlite:///:memory:',
                    'sqlite:///file::memory:?uri=true',
                    'sqlite:///file:demo?mode=memory&uri=true'):
            with self.subTest(url=url):
                self.assertFails(self.main('demo', '--url', url),
                                 'an in-memory SQLite database does not '
                                 'outlive a command')


class DemoDatabaseTest(DemoOutputMixin, CLITestCase):
    __backend__ = True

    def test_url(self):
        url = self.file_database_url()
        new_file = url.get_backend_name() == 'sqlite' and \
            not os.path.exists(url.database)
        text = self.assertSucceeds(self.main('demo', '--url', url_text(url)))
        if url.get_backend_name() == 'postgresql':
            self.assertDemoOutput(text, ONE_TRANSACTION_STEPS,
                                  ONE_TRANSACTION_LOGGED_STEPS)
        else:
            self.assertDemoOutput(text)
        if url.password:
            self.assertNotIn(url.password, text)
        if new_file:
            self.assertFalse(os.path.exists(url.database))
            return
        engine = create_engine(url)
        self.addCleanup(engine.dispose)
        self.assertFalse(DEMO_TABLES & set(inspect(engine).get_table_names()))

    def test_url_refuses_a_database_with_its_tables(self):
        db = self.audited_database([Rev('A')])
        db.run('upgrade', 'head')
        self.assertFails(self.main('demo', '--url', db.url_text),
                         'alembic_version',
                         hidden=[p for p in [db.url.password] if p])
        self.assertEqual(len(db.rows()), 1)
        self.assertEqual(db.env.heads(), {'A'})
