"""Digests: the format, and the line each run logs."""
import datetime
import hashlib
import hmac
import logging
import unittest

from sqlalchemy import text

from audit_alembic import Auditor
from audit_alembic import digest
from audit_alembic.testing.fixtures import TestBase
from test.audit.graphs import LINEAR

LINE = ('aa-digest-1 table=alembic_version_history rows=3 last=7 '
        'hash=%s at=2026-12-07T03:30:22Z' % ('ab' * 32))


class FormatTest(unittest.TestCase):

    def test_round_trip(self):
        found = digest.parse(LINE)
        self.assertEqual(found, digest.Digest(
            'alembic_version_history', 3, 7, 'ab' * 32,
            datetime.datetime(2026, 12, 7, 3, 30, 22)))
        self.assertEqual(found.line(), LINE)

    def test_hmac_covers_the_line_before_it(self):
        key = b'sesame'
        signed = digest.parse(LINE).signed(key)
        self.assertEqual(signed.line(), '%s hmac=%s' % (LINE, hmac.new(
            key, LINE.encode(), hashlib.sha256).hexdigest()))
        self.assertTrue(digest.parse(signed.line()).signature_holds(key))
        self.assertFalse(digest.parse(signed.line()).signature_holds(b'x'))
        self.assertFalse(digest.parse(LINE).signature_holds(key))
        forged = signed._replace(rows=4)
        self.assertFalse(digest.parse(forged.line()).signature_holds(key))

    def test_odd_table_names_are_encoded(self):
        found = digest.parse(LINE)._replace(table='billing.my table=1')
        self.assertIn(' table=billing.my%20table%3D1 ', found.line())
        self.assertEqual(digest.parse(found.line()), found)

    def test_malformed(self):
        for bad, said in (
                ('', 'not a digest'),
                ('hello', 'not a digest'),
                (LINE.replace(' rows=3', ''), 'malformed digest'),
                (LINE.replace('rows=3', 'rows=three'), 'malformed digest'),
                (LINE + ' hmac=xyz', 'malformed digest'),
                (LINE + ' extra', 'malformed digest'),
                (LINE.replace('03:30:22Z', '03:30:22'), 'malformed')):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError) as raised:
                    digest.parse(bad)
                self.assertIn(said, str(raised.exception))
                self.assertNotIn('\n', str(raised.exception))


class RunDigestTest(TestBase):
    """Each online run with details logs the digest of its chain."""
    __backend__ = True

    def test_logged_at_the_end_of_a_run_and_matches_the_table(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create(
            '1.0', details=True))
        with self.assertLogs('audit_alembic.auditor', 'INFO') as logs:
            env.run('upgrade', 'head')
        lines = [line.split('audit digest: ', 1)[1] for line in logs.output
                 if 'audit digest: ' in line]
        self.assertEqual(len(lines), 1, logs.output)
        found = digest.parse(lines[0])
        rows = env.history()
        chained = [row for row in rows if row['row_hash']]
        self.assertEqual((found.table, found.rows, found.last_id,
                          found.last_hash),
                         ('alembic_version_history', len(chained),
                          chained[-1]['id'], chained[-1]['row_hash']))
        self.assertIsNone(found.hmac)

    def test_a_failed_attempt_too(self):
        from test.audit.test_details import RAISE_ERROR
        from audit_alembic.testing.fixtures import Rev
        env = self.scratch_env(
            [Rev('A'), Rev('B', 'A', upgrade=RAISE_ERROR, downgrade='pass')],
            auditor=Auditor.create('1.0', details=True))
        with self.assertLogs('audit_alembic.auditor', 'INFO') as logs:
            with self.assertRaises(RuntimeError):
                env.run('upgrade', 'head')
        line, = [line for line in logs.output if 'audit digest: ' in line]
        self.assertEqual(digest.parse(line.split(': ', 1)[1]).last_id,
                         env.history()[-1]['id'])

    def test_nothing_without_a_chain_or_info(self):
        env = self.scratch_env(LINEAR, auditor=Auditor.create('1.0'))
        with self.assertLogs('audit_alembic', 'DEBUG') as logs:
            env.run('upgrade', 'head')
        self.assertNotIn('audit digest', '\n'.join(logs.output))
        env.close()
        env = self.scratch_env(LINEAR, auditor=Auditor.create(
            '1.0', details=True))
        seen = []
        logger = logging.getLogger('audit_alembic')
        level = logger.level
        logger.setLevel(logging.WARNING)
        self.addCleanup(logger.setLevel, level)
        from sqlalchemy import event

        def statement(connection, cursor, sql, *args):
            seen.append(sql)
        event.listen(self.engine, 'before_cursor_execute', statement)
        self.addCleanup(event.remove, self.engine, 'before_cursor_execute',
                        statement)
        env.run('upgrade', 'head')
        self.assertFalse([s for s in seen if 'count(' in s.lower()])

    def test_in_the_alembic_commands_log(self):
        env = self.process_scratch_env(LINEAR, auditor=Auditor.create(
            '1.0', details=True))
        result = env.alembic('upgrade', 'head')
        self.assertEqual(result.returncode, 0, result.stderr)
        line = result.stderr.strip().splitlines()[-1]
        self.assertRegex(line, r'^INFO \[audit_alembic.auditor\] audit '
                               r'digest: aa-digest-1 table=alembic_version_'
                               r'history rows=3 last=\d+ hash=[0-9a-f]{64} '
                               r'at=\S+Z$')
        with env.engine.connect() as connection:
            last = connection.execute(text(
                'SELECT row_hash FROM alembic_version_history ORDER BY id '
                'DESC')).first()[0]
        self.assertIn('hash=%s ' % last, line)
