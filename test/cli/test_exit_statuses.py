"""One exit-status convention for every command: 0 all good, 1 the check
found something, 2 it could not check (or a usage error), 130
interrupted; and ``--help`` that says so, wrapped to the terminal."""
import os
import re
from unittest import mock

from audit_alembic.exc import CheckFailed
from audit_alembic.exc import CommandError
from test.audit.graphs import LINEAR
from test.cli.support import CLITestCase
from test.cli.support import unreachable_url
from test.cli.support import url_text

#: A database that cannot be opened, on any machine.
NO_DATABASE = 'sqlite:////no/such/directory/app.db'


def scripts_of(db):
    """The script directory of an :class:`.AuditedDatabase`."""
    return os.path.join(os.path.dirname(db.env.ini_path), 'scripts')


class ExceptionTest(CLITestCase):

    def test_statuses(self):
        self.assertEqual((CommandError.exit_status, CheckFailed.exit_status),
                         (2, 1))
        self.assertTrue(issubclass(CheckFailed, CommandError))


class StatusExitTest(CLITestCase):
    """``status --expect-head``: 1 behind, 2 when it cannot tell."""

    def test_cannot_tell(self):
        db = self.audited_database(LINEAR, sqlite_file=True)
        for args in ([], ['--expect-head']):
            self.assertFails(self.main(
                'status', '--url', NO_DATABASE, '--script-location',
                scripts_of(db), *args), 'cannot connect to')

    def test_end_to_end(self):
        # The real command: behind the head is 1, unreachable is 2.
        db = self.audited_database(LINEAR, sqlite_file=True)
        db.run('upgrade', 'A')
        behind = self.cli('status', '-c', db.env.ini_path, '--expect-head')
        self.assertFindings(behind, 'the database is at A, not at the head')
        self.assertIn('pending: B, C', behind.stdout)
        down = self.cli('status', '--url', unreachable_url() or NO_DATABASE,
                        '--script-location', scripts_of(db),
                        '--expect-head')
        self.assertFails(down, 'cannot connect to', hidden=['sekrit'])
        db.run('upgrade', 'head')
        self.assertSucceeds(self.cli('status', '-c', db.env.ini_path,
                                     '--expect-head'))


class VerifyExitTest(CLITestCase):

    def test_found_and_cannot_check(self):
        db = self.audited_database(LINEAR, sqlite_file=True)
        db.run('upgrade', 'B')
        self.assertSucceeds(self.main('verify', '-c', db.env.ini_path))
        db.engine.dispose()
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE alembic_version SET version_num = 'C'")
        self.assertFindings(self.main('verify', '-c', db.env.ini_path),
                            'verification failed: replay')
        self.assertFails(self.main('verify', '--url', url_text(db.url),
                                   '--table', 'nosuch'), 'no table nosuch')
        self.assertFails(self.main('verify', '--url', NO_DATABASE),
                         'cannot connect to')
        self.assertUsageError(self.main('verify', '--format', 'xml'))


class DemoExitTest(CLITestCase):
    """The demo shows; it checks nothing: 0, or 2 when it went wrong."""

    def test_a_failed_verification_is_the_demo_going_wrong(self):
        from audit_alembic.cli import verify
        with mock.patch.object(verify, 'show_verification', side_effect=(
                CheckFailed('verification failed: replay'))):
            result = self.main('demo')
        self.assertFails(result, 'the demo went wrong',
                         'verification failed: replay')


def help_of(*command, columns=60):
    """``audit-alembic COMMAND --help`` on a terminal ``columns`` wide."""
    import contextlib
    import io

    from audit_alembic.cli import main
    out = io.StringIO()
    with mock.patch.dict(os.environ, {'COLUMNS': str(columns)}), \
            contextlib.redirect_stdout(out):
        try:
            main(list(command) + ['--help'])
        except SystemExit as exit:
            assert exit.code == 0, exit.code
    return out.getvalue()


def examples_of(text):
    """The lines of the ``examples:`` paragraph of a help text."""
    match = re.search(r'^examples:\n((?:.+\n)*)', text, re.M)
    return match.group(1).splitlines() if match else []


class HelpTest(CLITestCase):

    def test_every_help_fits_the_terminal(self):
        from audit_alembic.cli import COMMANDS
        for command in ((),) + tuple((name,) for name in COMMANDS):
            text = help_of(*command)
            examples = examples_of(text)
            for line in text.splitlines():
                if line in examples or re.match(r'^ *\[[^\[\]]*\]$', line):
                    continue  # kept as written; argparse's one token
                self.assertLessEqual(len(line), 60, (command, line))
            self.assertIn('130 interrupted', ' '.join(text.split()),
                          command)

    def test_examples_stay_as_written(self):
        text = help_of('status', columns=40)
        self.assertIn('  audit-alembic status --url sqlite:///app.db '
                      '--script-location migrations\n', text)
        wide = help_of('status', columns=200)
        self.assertIn('--expect-head makes a deploy gate: the exit status '
                      'is 0 when the database is at every head', wide)

    def test_verify_lists_its_checks(self):
        from audit_alembic.cli import verify
        text = ' '.join(help_of('verify', columns=200).split())
        for check in verify.CHECKS:
            self.assertIn('%s %s' % (check.name, check.description), text)
        self.assertEqual([check.name for check in verify.CHECKS],
                         ['replay', 'scripts', 'failures', 'chain',
                          'schema'])
        self.assertIn('AUDIT_ALEMBIC_KEY', text)

        class Later:
            name = 'later'
            description = 'a check added later appears by itself'
        with mock.patch.object(verify, 'CHECKS', verify.CHECKS + (Later,)):
            self.assertIn('later a check added later appears by itself',
                          ' '.join(help_of('verify', columns=200).split()))

    def test_checks_are_made_in_the_listed_order(self):
        from audit_alembic.cli import verify
        from audit_alembic.cli.checks.base import Subject
        from audit_alembic.cli.layout import TableLayout
        from sqlalchemy import Column, Integer, MetaData, String, Table
        table = Table('h', MetaData(), Column('id', Integer),
                      *[Column(name, String) for name in (
                          'alembic_version', 'prev_alembic_version',
                          'operation_type', 'operation_direction')])
        checks = verify.make_checks(Subject(table, TableLayout(), []))
        self.assertEqual([type(check) for check in checks],
                         list(verify.CHECKS))
        self.assertIs(checks[2].replay, checks[0])
