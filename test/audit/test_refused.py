"""Commands that apply nothing leave nothing: a command Alembic refuses
is no failed attempt, and one that only reads writes no row."""
from alembic.util.exc import CommandError
from sqlalchemy import event

from audit_alembic import Auditor
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import LINEAR


class RefusedTest(TestBase):
    __backend__ = True

    def env(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create(
            '1.0', details=True))
        env.run('upgrade', 'B')
        return env

    def test_a_command_alembic_refuses_is_no_attempt(self):
        env = self.env()
        before = env.history()
        for command in (('upgrade', 'nosuchrev'), ('downgrade', '-9'),
                        ('upgrade', '+5')):
            with self.subTest(command=command):
                with self.assertRaises(CommandError):
                    env.run(*command)
                self.assertEqual(env.history(), before)

    def test_a_script_raising_commanderror_is_an_attempt(self):
        from audit_alembic.testing.fixtures import Rev
        env = self.scratch_env([Rev('A'), Rev('B', 'A', upgrade=(
            'from alembic.util.exc import CommandError\n'
            '    raise CommandError("refused by the script")'),
            downgrade='pass')], auditor=Auditor.create('1.0', details=True))
        env.run('upgrade', 'A')
        with self.assertRaises(CommandError):
            env.run('upgrade', 'head')
        failed = env.history()[-1]
        self.assertEqual((failed['status'], failed['alembic_version']),
                         ('failed', 'B'))

    def test_commands_that_only_read_write_nothing(self):
        env = self.env()
        before = env.history()
        writes = []

        def statement(connection, cursor, sql, *args):
            if sql.lstrip().upper().startswith(('INSERT', 'UPDATE',
                                                'DELETE', 'CREATE')):
                writes.append(sql)
        event.listen(env.engine, 'before_cursor_execute', statement)
        self.addCleanup(event.remove, env.engine, 'before_cursor_execute',
                        statement)
        with self.db_changed_by_hand(env):
            env.run('current')
        self.assertEqual(writes, [])
        self.assertEqual(env.history(), before)

    def db_changed_by_hand(self, env):
        """Drift there: a command that checked for it would record it."""
        import contextlib
        with env.engine.begin() as connection:
            connection.exec_driver_sql(
                'ALTER TABLE scratch_a ADD COLUMN note VARCHAR(20)')
        return contextlib.nullcontext()
