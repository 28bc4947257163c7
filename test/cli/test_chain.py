"""The tamper-evident chain of ``details=True`` and what ``verify`` makes
of real tampering, script edits and concurrent writers."""
import datetime
import glob
import json
import os
import shutil
import tempfile
import unittest.mock

from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic.hashing import KEY_VARIABLE
from audit_alembic.hashing import chain_hash
from audit_alembic.testing.fixtures import AlembicProcess
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.values import CHAINED
from test.audit.graphs import BRANCHY
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase

HISTORY = 'alembic_version_history'


def with_key(key):
    """Run with ``AUDIT_ALEMBIC_KEY`` set to ``key`` (unset for None)."""
    environment = dict(os.environ)
    environment.pop(KEY_VARIABLE, None)
    if key is not None:
        environment[KEY_VARIABLE] = key
    return unittest.mock.patch.dict(os.environ, environment, clear=True)


def another_connection_writes(op):
    """From a migration script: append a copy of the history's last row
    as an offline script would (no hash, host, user or duration), on
    another connection, and commit it."""
    engine = create_engine(op.get_bind().engine.url)
    try:
        with engine.begin() as connection:
            table = Table(HISTORY, MetaData(), autoload_with=connection)
            last = connection.execute(select(table).order_by(
                table.c.id.desc()).limit(1)).mappings().one()
            connection.execute(table.insert(), {
                name: value for name, value in last.items()
                if name not in ('id', 'row_hash', 'host', 'os_user',
                                'duration_ms')})
    finally:
        engine.dispose()


class ChainTestBase(CLITestCase):
    __backend__ = True

    def setUp(self):
        super().setUp()
        patcher = with_key(None)
        patcher.start()
        self.addCleanup(patcher.stop)

    def details_database(self, revisions=LINEAR, **kw):
        return self.audited_database(
            revisions, auditor=Auditor.create('1.0', details=True), **kw)

    def report(self, db):
        """The JSON report of verify: check name -> its dict."""
        result = self.main('verify', '-c', db.env.ini_path, '--format',
                           'json')
        document = json.loads(result.stdout)
        self.assertEqual(result.returncode, 0 if document['passed'] else 1,
                         result.stderr)
        return {check['check']: check for check in document['checks']}

    def execute(self, db, *statements):
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def broken_rows(self, report):
        return [problem['rows'] for problem in report['chain']['problems']]


class ChainTest(ChainTestBase):

    def test_untouched_branchy_history_verifies(self):
        db = self.details_database(BRANCHY)
        for command in (('upgrade', 'E'), ('upgrade', 'E0'),
                        ('upgrade', 'F'), ('downgrade', 'E0'),
                        ('upgrade', 'heads'), ('stamp', 'G3'),
                        ('downgrade', 'C'), ('stamp', 'heads')):
            db.run(*command)
        report = self.report(db)
        for name in ('replay', 'scripts', 'failures', 'chain'):
            self.assertTrue(report[name]['passed'], report[name])
            self.assertIsNone(report[name]['skipped'], name)
        self.assertIn('SHA-256; AUDIT_ALEMBIC_KEY is not set',
                      report['chain']['description'])
        self.assertTrue(all(row['row_hash'] for row in db.rows()))

    def test_row_hash_is_documented_serialisation(self):
        db = self.details_database()
        db.run('upgrade', 'B')
        first, second = db.rows()
        # The last row of the run carries the schema's hash (the rows a
        # transaction holds to its end all do): covered, after the
        # others; a NULL one is left out.
        self.assertIsNotNone(second['schema_hash'])
        self.assertIn(first['schema_hash'], (None, second['schema_hash']))
        for previous, row in ((None, first), (first['row_hash'], second)):
            covered = [row[name] for name in CHAINED]
            if row['schema_hash'] is not None:
                covered.append(row['schema_hash'])
            self.assertEqual(row['row_hash'], chain_hash(previous, covered))

    def test_updated_revision(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        ids = [row['id'] for row in db.rows()]
        self.execute(db, "UPDATE %s SET alembic_version = 'X' WHERE id = %d"
                     % (HISTORY, ids[1]))
        report = self.report(db)
        self.assertEqual(self.broken_rows(report), [[ids[1]]])
        self.assertIn('row %d (after row %d): its hash does not follow'
                      % (ids[1], ids[0]),
                      report['chain']['problems'][0]['message'])

    def test_deleted_middle_row(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        ids = [row['id'] for row in db.rows()]
        self.execute(db, 'DELETE FROM %s WHERE id = %d' % (HISTORY, ids[1]))
        self.assertEqual(self.broken_rows(self.report(db)), [[ids[2]]])

    def test_swapped_ids(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        a, b = [row['id'] for row in db.rows()][1:]
        self.execute(db,
                     'UPDATE %s SET id = -1 WHERE id = %d' % (HISTORY, a),
                     'UPDATE %s SET id = %d WHERE id = %d' % (HISTORY, a, b),
                     'UPDATE %s SET id = %d WHERE id = -1' % (HISTORY, b))
        self.assertEqual(self.broken_rows(self.report(db)), [[a], [b]])

    def forge_row(self, db):
        """Append a row with a recomputed plain SHA-256, as someone with
        write access but not the key would."""
        last = db.rows()[-1]
        forged = dict(last, alembic_version='EVIL',
                      prev_alembic_version=last['alembic_version'],
                      changed_at=datetime.datetime(2030, 1, 1),
                      schema_hash=None)
        forged['row_hash'] = chain_hash(
            last['row_hash'], [forged[name] for name in CHAINED])
        del forged['id']
        table = Table(HISTORY, MetaData(), autoload_with=db.engine)
        with db.engine.begin() as connection:
            connection.execute(table.insert().values(forged))
        return db.rows()[-1]['id']

    def test_forged_row_without_a_key_is_not_caught(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        self.forge_row(db)
        # What the chain cannot do without a key; replay still sees it.
        report = self.report(db)
        self.assertTrue(report['chain']['passed'])
        self.assertFalse(report['replay']['passed'])

    def test_forged_row_with_a_key_is_caught(self):
        db = self.details_database()
        with with_key('s3cret key'):
            db.run('upgrade', 'head')
            forged = self.forge_row(db)
            report = self.report(db)
        self.assertEqual(self.broken_rows(report), [[forged]])
        self.assertIn('HMAC-SHA-256 with AUDIT_ALEMBIC_KEY',
                      report['chain']['description'])

    def test_wrong_key_is_said_once(self):
        db = self.details_database()
        with with_key('right key'):
            db.run('upgrade', 'head')
        for key in ('wrong key', None):
            with with_key(key):
                report = self.report(db)
            problem, = report['chain']['problems']
            self.assertEqual(problem['message'], (
                'wrong key or tampered: none of the 3 chained rows checks '
                '(AUDIT_ALEMBIC_KEY is %s)' % ('set' if key else 'not set: '
                                               'were they written with a '
                                               'key?')))
            with with_key(key):
                result = self.main('verify', '-c', db.env.ini_path)
            self.assertFindings(result, 'verification failed: chain')
            self.assertEqual(result.stdout.count('\n         - '), 1,
                             result.stdout)
        with with_key('right key'):
            self.assertTrue(self.report(db)['chain']['passed'])

    def test_rows_before_the_chain_are_unchained(self):
        db = self.audited_database(LINEAR)  # a 0.2.0 table
        db.run('upgrade', 'A')
        db.env.config.attributes['auditor'] = Auditor.create(
            '1.0', details=True)
        db.run('upgrade', 'head')
        report = self.report(db)
        self.assertTrue(report['chain']['passed'], report['chain'])
        first = db.rows()[0]['id']
        self.assertEqual(report['chain']['notes'], [
            '1 row is unchained (written before the chain started), not '
            'checked: %d' % first])
        # Its NULL status is no failure: status still shows when it ran.
        status = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        self.assertEqual([r['state'] for r in status['revisions']],
                         ['applied'] * 3)
        self.assertEqual(status['revisions'][0]['history_id'], first)

    def test_offline_rows_are_unchained(self):
        db = self.details_database()
        db.run('upgrade', 'A')
        script = db.env.sql('upgrade', 'A:head')
        from test.audit.test_offline import statements
        with db.engine.begin() as connection:
            for statement in statements(script):
                connection.execute(text(statement).execution_options(
                    no_parameters=True))
        db.run('downgrade', 'A')
        rows = db.rows()
        self.assertEqual([row['row_hash'] is None for row in rows],
                         [False, True, True, False, False])
        report = self.report(db)
        self.assertTrue(report['chain']['passed'], report['chain'])
        self.assertIn('2 rows are unchained (written by offline scripts',
                      report['chain']['notes'][0])

    def test_removed_hashes(self):
        # Edited, then its hash cleared: in the middle, the next row's link
        # breaks; at the end, the row is online-written yet unchained.
        db = self.details_database()
        db.run('upgrade', 'head')
        ids = [row['id'] for row in db.rows()]
        for row_id in (ids[1], ids[2]):
            self.execute(db, "UPDATE %s SET user_version = 'evil', "
                             'row_hash = NULL WHERE id = %d'
                         % (HISTORY, row_id))
        report = self.report(db)
        self.assertEqual(self.broken_rows(report), [[ids[1]], [ids[2]]])
        self.assertIn('row %d has no hash, though rows up to %d are chained'
                      % (ids[1], ids[0]),
                      report['chain']['problems'][0]['message'])

    def test_edited_script(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        script, = glob.glob(os.path.join(db.env.directory, 'scripts',
                                         'versions', 'B_*.py'))
        with open(script, 'a') as f:
            f.write('# edited after it ran\n')
        report = self.report(db)
        message, = [p['message'] for p in report['scripts']['problems']]
        self.assertIn('the script of revision B changed after row %d ran it'
                      % db.rows()[1]['id'], message)
        status = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        self.assertEqual([r['script'] for r in status['revisions']],
                         ['unchanged', 'CHANGED', 'unchanged'])
        # Run again as edited, the record agrees with it.
        db.run('downgrade', 'A')
        db.run('upgrade', 'head')
        self.assertTrue(self.report(db)['scripts']['passed'])

    def test_reads_only(self):
        db = self.details_database()
        db.run('upgrade', 'head')
        self.execute(db, "UPDATE %s SET alembic_version = 'X' WHERE id = %d"
                     % (HISTORY, db.rows()[0]['id']))
        before = db.contents()
        for command in ('verify', 'status'):
            self.main(command, '-c', db.env.ini_path)
        self.assertEqual(db.contents(), before)


class ConcurrentChainTest(ChainTestBase):
    """Writers of one history table: real ``alembic`` processes at once,
    and connections taking turns."""

    def project(self, revisions, version_table='alembic_version',
                engine=None, **options):
        if engine is None:
            env = self.process_scratch_env(
                revisions, auditor=Auditor.create('1.0', details=True),
                version_table=version_table, **options)
        else:
            env = ScratchEnvironment(
                engine, revisions,
                auditor=Auditor.create('1.0', details=True),
                version_table=version_table, **options)
            self.addCleanup(env.close)
        # The alembic command reads no version table option: have this
        # project's env.py take it from alembic.ini.
        env_py = os.path.join(env.directory, 'scripts', 'env.py')
        with open(env_py) as f:
            source = f.read()
        anchor = ('options = dict(config.attributes.get('
                  '"configure_options", {}))\n')
        self.assertIn(anchor, source)
        with open(env_py, 'w') as f:
            f.write(source.replace(anchor, anchor + (
                'options.setdefault("version_table", config.get_main_option('
                '"version_table"))\n')))
        with open(env.ini_path) as f:
            ini = f.read()
        with open(env.ini_path, 'w') as f:
            f.write(ini.replace('[alembic]\n', '[alembic]\nversion_table = '
                                '%s\n' % version_table, 1))
        return env

    def start(self, env, *command):
        return AlembicProcess(env.ini_path, *command,
                              environ={'APP_VERSION': '1.0'})

    def verify_chain(self, env, *args):
        result = self.main('verify', '-c', env.ini_path, '--format', 'json',
                           *args)
        self.assertTrue(result.stdout, result.stderr)
        checks = {c['check']: c for c in json.loads(result.stdout)['checks']}
        self.assertTrue(checks['chain']['passed'], checks['chain'])
        self.assertIsNone(checks['chain']['skipped'])
        return checks

    def test_four_processes_upgrading_at_once(self):
        env = self.project([Rev('A'), Rev('B', 'A'), Rev('C', 'B'),
                            Rev('D', 'C'), Rev('E', 'D')])
        running = [self.start(env, 'upgrade', 'head') for _ in range(4)]
        for process in running:
            process.wait()
        if env.heads() != {'E'}:
            env.run('upgrade', 'head')
        self.verify_chain(env)
        self.assertEqual([r['alembic_version'] for r in env.history()
                          if r['status'] == 'ok'], list('ABCDE'))

    def test_two_projects_sharing_one_history_table(self):
        first = self.project([Rev('P1'), Rev('P2', 'P1'), Rev('P3', 'P2')],
                             'first_version')
        second = self.project([Rev('Q1'), Rev('Q2', 'Q1'), Rev('Q3', 'Q2')],
                              'second_version', engine=first.engine)
        running = [self.start(env, 'upgrade', 'head')
                   for env in (first, second, first, second)]
        for process in running:
            process.wait()
        for env, head in ((first, 'P3'), (second, 'Q3')):
            if env.heads() != {head}:
                env.run('upgrade', 'head')
        self.assertEqual(sorted(r['alembic_version'] for r in first.history()
                                if r['status'] == 'ok'),
                         ['P1', 'P2', 'P3', 'Q1', 'Q2', 'Q3'])
        # Only the chain: the replay of one project sees the other's steps.
        self.verify_chain(first, '--version-table', 'first_version')

    def test_another_connection_writing_between_two_steps(self):
        # A run keeps the link after its last row for its next step
        # (SQLite: across the step's commit, while no other connection
        # has committed since); here another connection appends a row
        # between two steps (each committed: the others see the table),
        # so the link must be read again.
        env = self.project([
            Rev('P1'),
            Rev('P2', 'P1', upgrade='from test.cli.test_chain import '
                'another_connection_writes; another_connection_writes(op)',
                downgrade='pass'),
            Rev('P3', 'P2')], transaction_per_migration=True)
        env.run('upgrade', 'head')
        self.assertEqual([(r['alembic_version'], r['row_hash'] is None)
                          for r in env.history()],
                         [('P1', False), ('P1', True), ('P2', False),
                          ('P3', False)])
        self.verify_chain(env)

    def test_a_run_again_after_its_rollback(self):
        # The link after rows a rollback undid is not kept.
        env = self.project([Rev('P1', upgrade='pass', downgrade='pass')])
        with env.engine.connect() as connection:
            connection.begin()
            env.run('upgrade', 'P1', connection=connection)
            connection.rollback()
            env.run('upgrade', 'P1', connection=connection)
            connection.commit()
        self.assertEqual([r['alembic_version'] for r in env.history()],
                         ['P1'])
        self.verify_chain(env)


class ChainLockTest(ChainTestBase):

    def lock_name(self, connection, table):
        from audit_alembic.locks import session_lock_name
        name_sql, parameters = session_lock_name(table)
        return connection.exec_driver_sql(
            'SELECT ' + name_sql, parameters).scalar()

    def test_lock_is_free_once_the_command_is_done(self):
        if self.dialect_name not in ('mysql', 'mariadb'):
            self.skipTest('a session lock of MySQL and MariaDB')
        db = self.details_database()
        db.run('upgrade', 'A')
        db.run('upgrade', 'head')  # a connection back from the pool
        table = db.env.config.attributes['auditor'].table
        with db.engine.connect() as connection:
            name = self.lock_name(connection, table)
            self.assertEqual(connection.scalar(
                text('SELECT IS_FREE_LOCK(:name)'), {'name': name}), 1)

    def test_lock_is_named_per_database(self):
        # The server's locks are shared by its databases: tables of one
        # name in two databases must not wait for each other.
        if self.dialect_name not in ('mysql', 'mariadb'):
            self.skipTest('a session lock of MySQL and MariaDB')
        metadata = MetaData()
        here = Table('alembic_version_history', metadata)
        there = Table('alembic_version_history', metadata, schema='other')
        db = self.details_database()
        with db.engine.connect() as connection:
            database = connection.exec_driver_sql(
                'SELECT DATABASE()').scalar()
            named = Table('alembic_version_history', MetaData(),
                          schema=database)
            name = self.lock_name(connection, here)
            self.assertEqual(name, self.lock_name(connection, named))
            self.assertNotEqual(name, self.lock_name(connection, there))
            self.assertRegex(name, r'^audit_alembic_[0-9a-f]{16}$')


class SqliteChainLockTest(unittest.TestCase):
    """SQLite lets one writer at a time write a database file: a step's
    own write of the version table keeps concurrent writers of a history
    table in the same file waiting, and the chain takes no lock of its
    own; one in another (attached) file is locked apart."""

    def statements(self, schema):
        directory = tempfile.mkdtemp(prefix='audit_alembic_db_')
        self.addCleanup(shutil.rmtree, directory, True)
        engine = create_engine(
            'sqlite:///' + os.path.join(directory, 'main.db'))
        self.addCleanup(engine.dispose)

        @event.listens_for(engine, 'connect')
        def attach(dbapi_connection, record):
            dbapi_connection.execute("ATTACH DATABASE '%s' AS aux" % (
                os.path.join(directory, 'aux.db')))

        auditor = Auditor.create('1.0', details=True,
                                 metadata=MetaData(schema=schema))
        env = ScratchEnvironment(engine, LINEAR, auditor=auditor)
        self.addCleanup(env.close)
        env.run('upgrade', 'A')
        seen = []
        event.listen(engine, 'before_cursor_execute',
                     lambda *args: seen.append(args[2]))
        env.run('upgrade', 'head')
        with engine.connect() as connection:
            hashes = connection.execute(select(
                auditor.table.c.row_hash).order_by(
                    auditor.table.c.id)).scalars().all()
        self.assertEqual(len(hashes), len(LINEAR))
        self.assertNotIn(None, hashes)
        # The history table's, not its companion's (which keeps schema
        # snapshots).
        return [statement for statement in seen if HISTORY in statement
                and HISTORY + '_schema' not in statement]

    def test_same_file_as_the_version_table(self):
        statements = self.statements(None)
        self.assertTrue([s for s in statements if s.startswith('INSERT')])
        self.assertEqual([s for s in statements if s.startswith('UPDATE')],
                         [])

    def test_attached_file_of_its_own(self):
        statements = self.statements('aux')
        self.assertEqual(
            len([s for s in statements if s.startswith('UPDATE')]),
            len([s for s in statements if s.startswith('INSERT')]))


class ReplayBesideFailuresTest(ChainTestBase):

    def test_failed_attempts_are_no_gap_in_the_ids(self):
        db = self.details_database([
            Rev('A'), Rev('B', 'A', upgrade='raise ValueError("no")',
                          downgrade='pass')])
        db.run('upgrade', 'A')
        with self.assertRaises(ValueError):
            db.run('upgrade', 'head')
        first, failed = [row['id'] for row in db.rows()]
        # The first row edited: replay finds a step that starts from
        # nowhere, right after a failed attempt, not a deletion.
        self.execute(db, "UPDATE %s SET alembic_version = 'X' WHERE id = %d"
                     % (HISTORY, first))
        db.env.config.attributes['auditor'] = False
        db.run('stamp', 'A')
        db.env.config.attributes['auditor'] = None
        db.run('stamp', 'base')
        message, = [p['message'] for p in self.report(db)['replay'][
            'problems'] if 'starts from' in p['message']]
        self.assertNotIn('rows were deleted', message)
