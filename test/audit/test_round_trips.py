"""What a step costs in statements: what ``details=True`` adds per step
over a plain Auditor (the chain's lock and the read of its last link),
counted with SQLAlchemy's ``before_cursor_execute`` (which does not see
SQLite's ``PRAGMA data_version``, read in-process on the driver's
connection to tell that no other connection has committed since the
last step) as the
difference between a 20-step and a 10-step run of migrations that change
nothing, so that what each run does once (making sure the table exists,
the schema's snapshot, the digest) cancels out."""
from unittest import mock

from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from audit_alembic import Auditor
from audit_alembic import dialects
from audit_alembic.testing.fixtures import Rev
from audit_alembic.testing.fixtures import ScratchEnvironment
from audit_alembic.testing.fixtures import TestBase


def chain(n):
    """N revisions in a line that change nothing: the schema, and so what
    the snapshots cost, is the same after 10 steps and after 20."""
    ids = ['r%04d' % i for i in range(1, n + 1)]
    return [Rev(rev, ids[i - 1] if i else None, upgrade='pass',
                downgrade='pass') for i, rev in enumerate(ids)]


class RoundTripTest(TestBase):
    __backend__ = True

    def statements_per_step(self, auditor, callers_transaction=False,
                            **options):
        """Statements per step of an upgrade: those of a 20-step run less
        those of a 10-step one, over 10."""
        env = self.scratch_env(chain(20), auditor=auditor, **options)
        env.run('upgrade', 'head')  # the table, once
        env.run('downgrade', 'base')
        counted = []

        def count(*args):
            counted.append(args[2])

        counts = {}
        for target, steps in (('r0010', 10), ('head', 20)):
            event.listen(self.engine, 'before_cursor_execute', count)
            try:
                if callers_transaction:
                    with self.engine.connect() as connection:
                        connection.begin()
                        env.run('upgrade', target, connection=connection)
                        connection.commit()
                else:
                    env.run('upgrade', target)
            finally:
                event.remove(self.engine, 'before_cursor_execute', count)
            counts[steps] = len(counted)
            del counted[:]
            env.run('downgrade', 'base')
        env.close()
        return (counts[20] - counts[10]) / 10

    def more_for_details(self, **options):
        """Statements per step of details, less those of plain."""
        plain = self.statements_per_step(Auditor.create('1.0'), **options)
        details = self.statements_per_step(
            Auditor.create('1.0', details=True), **options)
        return details - plain

    def own_lock_statement(self):
        """Whether the chain's lock is a statement of its own, which must
        come before the read of the chain's last link (PostgreSQL's
        advisory lock, MySQL's GET_LOCK): SQLite's is the step's own
        write of the version table."""
        return dialects.server(self.engine.dialect).chain_lock in (
            dialects.TRANSACTION_LOCK, dialects.SESSION_LOCK)

    def test_default_options(self):
        # One INSERT per step either way.  On MySQL details adds the read
        # of the chain's last link and the lock, taken again as each
        # step's transaction begins (DDL commits by itself).  PostgreSQL
        # holds the rows for the end of the run's one transaction;
        # SQLite keeps the last link from step to step while no other
        # connection commits.
        more = 2 if self.dialect_name == 'mysql' else 0
        self.assertEqual(self.more_for_details(), more)

    def test_transaction_per_migration(self):
        self.assertEqual(
            self.more_for_details(transaction_per_migration=True),
            2 if self.own_lock_statement() else 0)

    def test_callers_transaction(self):
        # One transaction holding the chain's lock: the last link is
        # known, not read again.
        self.assertEqual(self.more_for_details(callers_transaction=True), 0)

    def test_one_read_of_the_commits_of_others_per_step(self):
        # SQLite: the count of other connections' commits is read once
        # under the step's lock, before its row links to the last one;
        # it cannot change before the step commits, so the link kept
        # for the next step takes that value rather than a second read.
        if dialects.server(self.engine.dialect).commits_by_others is None:
            self.skipTest('%s counts no commits of others' % (
                self.dialect_name,))
        reads = mock.Mock(wraps=dialects.commits_by_others)
        with mock.patch.object(dialects, 'commits_by_others', reads):
            counts = {}
            for steps in (10, 20):
                env = self.scratch_env(
                    chain(steps), auditor=Auditor.create('1.0', details=True))
                env.run('upgrade', 'head')  # the table, once
                env.run('downgrade', 'base')
                reads.reset_mock()
                env.run('upgrade', 'head')
                counts[steps] = reads.call_count
                env.close()
        self.assertEqual((counts[20] - counts[10]) / 10, 1, counts)

    def test_connections_of_a_run_whatever_its_steps(self):
        # With no pool to keep connections (as Alembic's env.py has it),
        # a read on another connection per step would open one a step.
        engine = create_engine(self.url, poolclass=NullPool)
        self.addCleanup(engine.dispose)
        env = ScratchEnvironment(engine, chain(20),
                                 auditor=Auditor.create('1.0', details=True))
        self.addCleanup(env.close)
        env.run('upgrade', 'head')  # the table, once
        env.run('downgrade', 'base')
        opened = []
        event.listen(engine, 'connect', lambda *args: opened.append(1))
        counts = {}
        for target, steps in (('r0010', 10), ('head', 20)):
            del opened[:]
            env.run('upgrade', target)
            counts[steps] = len(opened)
            env.run('downgrade', 'base')
        self.assertEqual(counts[20], counts[10], counts)

    def test_no_connection_left_out_of_the_pool(self):
        # The reader of MySQL and MariaDB goes back with its writer.
        env = self.scratch_env(chain(3),
                               auditor=Auditor.create('1.0', details=True))
        moves = []
        for name, move in (('checkout', 1), ('checkin', -1)):
            listener = (lambda move: lambda *args: moves.append(move))(move)
            event.listen(self.engine.pool, name, listener)
            self.addCleanup(event.remove, self.engine.pool, name, listener)
        env.run('upgrade', 'head')
        env.run('downgrade', 'base')
        self.assertTrue(moves)
        self.assertEqual(sum(moves), 0, moves)
