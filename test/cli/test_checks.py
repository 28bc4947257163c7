"""The shape every check of ``verify`` has, and the helpers the commands
share to write: one way to put an error on one line, one aligned table."""
import io
import json
import unittest
import unittest.mock

from audit_alembic.cli import verify
from audit_alembic.cli.checks.base import Check
from audit_alembic.cli.output.table import write_table
from audit_alembic.cli.output.text import error_line
from audit_alembic.cli.output.text import one_line
from audit_alembic.testing.fixtures import Rev
from test.cli.support import CLITestCase


class Recording(Check):
    """Notes each row it is given, and when it finishes."""
    name = 'recording'
    description = 'sees every row'

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def add(self, step):
        self.seen.append((step.id, sorted(step.sources),
                          sorted(step.destinations), step.is_ok))

    def finish(self):
        self.seen.append('finished')
        self.notes.append('%d rows' % (len(self.seen) - 1))


class Skipped(Check):
    """Cannot run: is given no row, and never finishes."""
    name = 'skipped'
    description = 'never runs'

    def __init__(self):
        super().__init__()
        self.skip('it cannot')

    def add(self, step):
        raise AssertionError('a skipped check was given a row')

    def finish(self):
        raise AssertionError('a skipped check was finished')


class CheckShapeTest(CLITestCase):
    def test_a_new_check_is_one_class(self):
        db = self.audited_database([Rev('A'), Rev('B', 'A')],
                                   sqlite_file=True)
        for command in (('upgrade', 'head'), ('downgrade', 'A')):
            db.run(*command)
        seen = []
        standard = verify.make_checks
        with unittest.mock.patch.object(
                verify, 'make_checks', lambda subject: standard(subject) +
                [Recording(seen), Skipped()]):
            result = self.main('verify', '-c', db.env.ini_path,
                               '--format', 'json')
        ids = [row['id'] for row in db.rows()]
        self.assertEqual(seen, [(ids[0], [], ['A'], True),
                                (ids[1], ['A'], ['B'], True),
                                (ids[2], ['B'], ['A'], True), 'finished'])
        checks = json.loads(self.assertSucceeds(result))['checks']
        self.assertEqual([check['check'] for check in checks],
                         ['replay', 'scripts', 'failures', 'chain',
                          'schema', 'recording', 'skipped'])
        self.assertEqual(checks[-2]['notes'], ['3 rows'])
        self.assertEqual((checks[-1]['skipped'], checks[-1]['passed']),
                         ('it cannot', True))


class OneLineTest(unittest.TestCase):
    def test_every_line_joined(self):
        self.assertEqual(one_line(ValueError('a\n  b\tc\r\n\nd ')),
                         'a b c d')

    def test_first_line(self):
        self.assertEqual(one_line(' \nfirst  line\r\nsecond', first=True),
                         'first  line')
        self.assertEqual(one_line('x' * 70, most=60, first=True),
                         'x' * 57 + '...')
        self.assertEqual(one_line(None), '')

    def test_error_line(self):
        self.assertEqual(error_line(RuntimeError('boom\nthe rest')),
                         'RuntimeError: boom')
        self.assertEqual(error_line(KeyError()), 'KeyError')


class AlignedTableTest(unittest.TestCase):
    def test_columns_widen_batch_by_batch(self):
        out = io.StringIO()
        write_table(out, ['id', 'name'], [[['1', 'a']], [['10', 'abc']]],
                    right=[True, False])
        self.assertEqual(out.getvalue(), 'id  name\n'
                                         '--  ----\n'
                                         ' 1  a\n'
                                         '10  abc\n')

    def test_no_rows(self):
        out = io.StringIO()
        write_table(out, ['revision', 'state'], [])
        self.assertEqual(out.getvalue(), 'revision  state\n'
                                         '--------  -----\n')
