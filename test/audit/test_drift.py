"""Schema drift in the trail: the schema after each run, and a change no
migration made found at the start of the next, through real Alembic
runs with ``Auditor.create(details=True)``."""
import io

from sqlalchemy import Column
from sqlalchemy import MetaData
from sqlalchemy import Table
from sqlalchemy import inspect
from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic import cli
from audit_alembic.testing.fixtures import AlembicProcess
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import TestBase
from audit_alembic.values import CHAINED
from test.audit.graphs import BRANCHY
from test.audit.graphs import LINEAR

HISTORY = 'alembic_version_history'
SNAPSHOTS = HISTORY + '_schema'
#: A revision whose table has a column of each common type, defaults,
#: an index, a unique constraint and a foreign key: what servers
#: normalise as they store it.
RICH = Rev('R', upgrade='''op.create_table(
        "drift_rich",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False,
                  server_default="x"),
        sa.Column("amount", sa.Numeric(10, 2), server_default="0"),
        sa.Column("flag", sa.Boolean, server_default=sa.true()),
        sa.Column("at", sa.DateTime, server_default=sa.func.now()),
        sa.Column("note", sa.Text),
        sa.Column("big", sa.BigInteger),
        sa.Column("parent_id", sa.Integer,
                  sa.ForeignKey("drift_rich.id", ondelete="CASCADE")),
        sa.UniqueConstraint("name", "big", name="uq_drift_rich"),
        sa.CheckConstraint("amount >= 0", name="ck_drift_rich"),
    )
    op.create_index("ix_drift_rich_note_name", "drift_rich", ["name"])''',
           downgrade='op.drop_table("drift_rich")')


def details_auditor():
    return Auditor.create('1.0', details=True)


class DriftTestBase(TestBase):
    __backend__ = True

    def env(self, revisions=LINEAR, **kw):
        """A scratch project whose database ``audit-alembic`` reaches too
        (a file for an in-memory SQLite target)."""
        env = self.process_scratch_env(revisions, auditor=details_auditor(),
                                       **kw)
        env.own('drift_hand', 'drift_rich')
        #: The database of the project.
        self.db = env.engine
        return env

    def execute(self, *statements):
        with self.db.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def drifted(self, env, *command):
        """Run Alembic ``command``, which finds drift: its one warning,
        the change's summary."""
        with self.assertLogs('audit_alembic.auditor', 'WARNING') as logs:
            env.run(*command)
        warning, = logs.output
        self.assertIn('schema drift since run ', warning)
        return warning.rsplit(': ', 1)[1]

    def statuses(self, env):
        return [row['status'] for row in env.history()]

    def drift_rows(self, env):
        return [row for row in env.history() if row['status'] == 'drift']

    def assertVerifies(self, env):
        """``audit-alembic verify`` (in-process) passes, its chain check
        too."""
        import contextlib
        import json
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(['verify', '-c', env.ini_path, '--format',
                               'json'])
        checks = {check['check']: check
                  for check in json.loads(out.getvalue())['checks']}
        self.assertEqual(status, 0, out.getvalue() + err.getvalue())
        self.assertTrue(checks['chain']['passed'], checks['chain'])
        self.assertIsNone(checks['chain']['skipped'], checks['chain'])


class DriftFoundTest(DriftTestBase):
    """Each hand change between two deploys: one drift row, before the
    next run's first step, and none after."""

    def changed(self, *statements, revisions=LINEAR, first='B',
                then='head'):
        env = self.env(revisions)
        env.run('upgrade', first)
        self.execute(*statements)
        summary = self.drifted(env, 'upgrade', then)
        drift, = self.drift_rows(env)
        self.assertEqual(summary, drift['message'])
        rows = env.history()
        at = rows.index(drift)
        # Before the run's steps, at the revisions the database was at.
        self.assertEqual(drift['alembic_version'], first)
        self.assertEqual(drift['prev_alembic_version'], first)
        self.assertEqual(drift['operation_type'], 'drift')
        self.assertTrue(drift['schema_hash'])
        self.assertTrue(drift['row_hash'])
        self.assertTrue(drift['run_id'])
        self.assertEqual([r['run_id'] for r in rows[at + 1:]
                          if r['status'] == 'ok'][:1], [drift['run_id']]
                         if then != first else [])
        # The next run finds nothing new.
        env.run('upgrade', 'head')
        self.assertEqual(len(self.drift_rows(env)), 1)
        self.assertVerifies(env)
        return drift['message']

    def test_a_column_added_by_hand(self):
        message = self.changed(
            'ALTER TABLE scratch_a ADD COLUMN note VARCHAR(20)')
        self.assertEqual(message, '+column scratch_a.note')

    def test_a_new_table(self):
        message = self.changed(
            'CREATE TABLE drift_hand (id INTEGER PRIMARY KEY)')
        self.assertEqual(message, '+table drift_hand')

    def test_a_dropped_index(self):
        message = self.changed('DROP INDEX ix_drift_rich_note_name' + (
            ' ON drift_rich' if self.dialect_name in ('mysql', 'mariadb')
            else ''), revisions=[RICH], first='R', then='R')
        self.assertEqual(message, '-index drift_rich.ix_drift_rich_note_name')

    def test_a_changed_nullability(self):
        if self.dialect_name == 'sqlite':
            self.skipTest('SQLite cannot alter a column')
        statement = {
            'postgresql': 'ALTER TABLE drift_rich ALTER COLUMN note SET '
                          'NOT NULL',
        }.get(self.dialect_name,
              'ALTER TABLE drift_rich MODIFY note TEXT NOT NULL')
        message = self.changed(statement, revisions=[RICH], first='R',
                               then='R')
        self.assertEqual(message, '~column drift_rich.note')

    def test_several_changes_in_one_row(self):
        message = self.changed(
            'ALTER TABLE scratch_a ADD COLUMN note VARCHAR(20)',
            'CREATE TABLE drift_hand (id INTEGER PRIMARY KEY)')
        self.assertEqual(message, '+table drift_hand; +column scratch_a.note')

    def test_in_another_schema_watched(self):
        if self.dialect_name != 'postgresql':
            self.skipTest('a second schema is tested on PostgreSQL')
        import secrets
        schema = 'drift_%s' % secrets.token_hex(4)
        env = self.scratch_env(LINEAR, auditor=Auditor.create(
            '1.0', details=True, schemas=[schema]))
        self.db = env.engine
        self.execute('CREATE SCHEMA %s' % schema,
                     'CREATE TABLE %s.billed (id INTEGER PRIMARY KEY)'
                     % schema)
        self.addCleanup(self.execute, 'DROP SCHEMA %s CASCADE' % schema)
        env.run('upgrade', 'A')
        self.execute('ALTER TABLE %s.billed ADD COLUMN note TEXT' % schema)
        self.drifted(env, 'upgrade', 'head')
        self.assertEqual([row['message'] for row in self.drift_rows(env)],
                         ['+column %s.billed.note' % schema])

    def test_found_by_a_run_with_no_step(self):
        env = self.env()
        env.run('upgrade', 'head')
        self.execute('CREATE TABLE drift_hand (id INTEGER PRIMARY KEY)')
        self.drifted(env, 'upgrade', 'head')
        self.assertEqual(self.statuses(env)[-1], 'drift')


class NoFalseDriftTest(DriftTestBase):
    """What the migrations did themselves is never drift."""

    def assertNoDrift(self, env):
        self.assertEqual(self.drift_rows(env), [])
        # And the schema the trail ends with is the live one.
        from audit_alembic.drift import SchemaWatch
        watch = env.config.attributes['auditor'].schema_watch
        assert isinstance(watch, SchemaWatch)
        with self.db.connect() as connection:
            baseline = watch.baseline(connection)
            self.assertEqual(watch.take(connection)[1],
                             baseline.schema_hash)

    def test_upgrade_downgrade_and_stamp_cycles(self):
        env = self.env(BRANCHY)
        for command in (('upgrade', 'heads'), ('downgrade', 'D0'),
                        ('upgrade', 'heads'), ('stamp', 'base'),
                        ('stamp', 'heads'), ('downgrade', 'base'),
                        ('upgrade', 'E1'), ('upgrade', 'heads')):
            env.run(*command)
            self.assertNoDrift(env)

    def test_server_normalisations(self):
        env = self.env([RICH])
        env.run('upgrade', 'R')
        env.run('upgrade', 'R')
        self.assertNoDrift(env)
        env.run('downgrade', 'base')
        env.run('upgrade', 'head')
        self.assertNoDrift(env)

    def test_transaction_per_migration(self):
        env = self.env(LINEAR, transaction_per_migration=True)
        env.run('upgrade', 'head')
        env.run('downgrade', 'A')
        env.run('upgrade', 'head')
        self.assertNoDrift(env)
        # The last step's row carries the schema: no row of its own.
        self.assertNotIn('snapshot', self.statuses(env))

    def test_a_failed_attempt(self):
        # MySQL and MariaDB keep the table a failed step made: the failed
        # attempt's row has the schema after the rollback.
        env = self.env([Rev('A'), Rev('B', 'A', upgrade=(
            'op.create_table("drift_hand", sa.Column("id", sa.Integer, '
            'primary_key=True))\n    raise ValueError("no")'),
            downgrade='pass')])
        env.run('upgrade', 'A')
        with self.assertRaises(ValueError):
            env.run('upgrade', 'head')
        failed = env.history()[-1]
        self.assertEqual(failed['status'], 'failed')
        self.assertTrue(failed['schema_hash'])
        env.run('upgrade', 'A')
        self.assertNoDrift(env)

    def test_in_the_callers_transaction(self):
        env = self.env()
        with self.db.connect() as connection:
            with connection.begin():
                env.run('upgrade', 'head', connection=connection)
        env.run('upgrade', 'head')
        self.assertNoDrift(env)

    def test_concurrent_deploys(self):
        env = self.process_scratch_env(
            [Rev('A'), Rev('B', 'A'), Rev('C', 'B'), Rev('D', 'C')],
            auditor=details_auditor())
        env.run('upgrade', 'A')
        running = [AlembicProcess(env.ini_path, 'upgrade', 'head',
                                  environ={'APP_VERSION': '1.0'})
                   for _ in range(2)]
        for process in running:
            process.wait()
        if env.heads() != {'D'}:
            env.run('upgrade', 'head')
        env.run('upgrade', 'head')
        self.assertEqual([row for row in env.history()
                          if row['status'] == 'drift'], [])

    def test_a_run_going_elsewhere_on_mysql(self):
        # Its DDL is seen before its rows: a change found while another
        # session holds the run mark waits for that run's snapshot.
        if self.dialect_name not in ('mysql', 'mariadb'):
            self.skipTest('MySQL and MariaDB')
        from audit_alembic import locks
        env = self.env()
        env.run('upgrade', 'B')
        table = env.config.attributes['auditor'].table
        with self.db.connect() as other:
            locks.mark_run(other, table)
            self.execute('CREATE TABLE drift_hand (id INTEGER PRIMARY KEY)')
            env.run('upgrade', 'B')
            self.assertEqual(self.drift_rows(env), [])
            locks.unmark_run(other)
        self.drifted(env, 'upgrade', 'B')
        self.assertEqual([row['message'] for row in self.drift_rows(env)],
                         ['+table drift_hand'])


class OlderTablesTest(DriftTestBase):
    """A 0.2.0-shaped table and a details table from before snapshots get
    ``schema_hash`` and the companion table, and their chain holds."""

    def test_a_0_2_0_table(self):
        env = self.env()
        env.config.attributes['auditor'] = Auditor.create('1.0')
        env.run('upgrade', 'A')
        self.assertNotIn(SNAPSHOTS, inspect(self.db).get_table_names())
        env.config.attributes['auditor'] = details_auditor()
        env.run('upgrade', 'head')
        self.assertIn('schema_hash', [c['name'] for c in inspect(
            self.db).get_columns(HISTORY)])
        self.assertIn(SNAPSHOTS, inspect(self.db).get_table_names())
        self.assertTrue(env.history()[-1]['schema_hash'])

    def test_a_details_table_from_before_snapshots(self):
        env = self.env()
        new = details_auditor()
        old_table = Table(HISTORY, MetaData(), *[
            Column(c.name, c.type, primary_key=c.primary_key,
                   nullable=c.nullable)
            for c in new.table.columns if c.name != 'schema_hash'])
        make_row = {name: value for name, value in new._make_row.items()
                    if name != 'schema_hash'}
        env.config.attributes['auditor'] = Auditor(
            old_table, make_row, record_failures=True, complete_table=True,
            chain=list(CHAINED))
        env.run('upgrade', 'B')
        self.assertNotIn('schema_hash', [c['name'] for c in inspect(
            self.db).get_columns(HISTORY)])
        env.config.attributes['auditor'] = new
        env.run('upgrade', 'head')
        rows = env.history()
        self.assertEqual([row['schema_hash'] is not None for row in rows],
                         [False, False, True])
        self.assertVerifies(env)


class OfflineTest(DriftTestBase):

    def test_offline_scripts_take_no_snapshot(self):
        env = self.env()
        script = env.sql('upgrade', 'head')
        self.assertIn(HISTORY, script)
        self.assertNotIn(SNAPSHOTS, script)
        self.assertNotIn('schema_hash', script.split('CREATE TABLE', 1)[0])
