"""The JSON the commands print: revisions are lists of ids everywhere,
whatever the history table's column names and separator; text, tables
and CSV keep the stored text."""
import json

from audit_alembic import Auditor
from test.audit.graphs import BRANCHY
from test.cli.support import CLITestCase
from test.cli.support import parse_csv
from test.cli.test_custom_tables import NAMES
from test.cli.test_custom_tables import OPTIONS
from test.cli.test_history import GRAPH


def split(value, separator='##'):
    return value.split(separator) if value else []


class HistoryJSONTest(CLITestCase):
    __backend__ = True

    def test_revisions_are_lists(self):
        db = self.audited_database(GRAPH)
        db.run('upgrade', 'D')
        db.run('downgrade', 'B')
        rows = db.rows()
        args = ['history', '--url', db.url_text, '--format']
        for output_format in ('json',):
            out = self.assertSucceeds(self.main(*args, output_format))
            objects = json.loads(out)
            with self.subTest(output_format=output_format):
                steps = [(o['prev_alembic_version'], o['alembic_version'])
                         for o in objects]
                self.assertEqual(steps, [
                    (split(r['prev_alembic_version']),
                     split(r['alembic_version'])) for r in rows])
                self.assertEqual(steps[0], ([], ['A']))
                self.assertEqual(steps[3:], [(['B', 'C'], ['D']),
                                             (['D'], ['B', 'C'])])
                # Every other column as stored.
                self.assertEqual(
                    [{k: v for k, v in o.items() if k not in (
                        'prev_alembic_version', 'alembic_version',
                        'changed_at')} for o in objects],
                    [{k: v for k, v in row.items() if k not in (
                        'prev_alembic_version', 'alembic_version',
                        'changed_at')} for row in rows])
        # CSV keeps the stored text.
        csv_rows = parse_csv(self.assertSucceeds(self.main(*args, 'csv')))
        self.assertEqual([row[1:3] for row in csv_rows[1:]],
                         [[r['alembic_version'], r['prev_alembic_version']]
                          for r in rows])
        self.assertIn(['D', 'B##C'], [row[1:3] for row in csv_rows])


class EventLinesTest(CLITestCase):
    """``history --format jsonl`` prints the JSON lines of the rows'
    events, as ``audit_alembic.events.JsonFormatter`` writes them when
    the rows are written."""

    __backend__ = True

    def test_the_same_objects_as_the_events(self):
        import io
        import logging

        from audit_alembic.events import EVENTS
        from audit_alembic.events import JsonFormatter
        db = self.audited_database(GRAPH, auditor=Auditor.create(
            '1.0', details=True))
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger(EVENTS)
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            db.run('upgrade', 'D')
            db.run('downgrade', 'B')
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        emitted = [json.loads(line) for line in stream.getvalue().splitlines()]
        out = self.assertSucceeds(self.main(
            'history', '--url', db.url_text, '--format', 'jsonl'))
        printed = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(len(printed), len(db.rows()))
        self.assertEqual(
            [{k: v for k, v in line.items() if k != 'timestamp'}
             for line in printed],
            [{k: v for k, v in line.items() if k != 'timestamp'}
             for line in emitted])
        # Back-filled lines take the time of the step.
        self.assertEqual([line['timestamp'] for line in printed],
                         [line['audit']['changed_at'] for line in emitted])


class RenamedHistoryJSONTest(CLITestCase):
    """The revision columns go by their names of the table, split on its
    separator (``+``)."""

    __backend__ = True

    def setUp(self):
        self.db = self.audited_database(
            BRANCHY, auditor=Auditor.create('app 3', details=True, **NAMES))
        for command in (('upgrade', 'F'), ('downgrade', 'E0')):
            self.db.run(*command)
        self.rows = self.db.rows('schema_history')

    def objects(self, *options):
        return json.loads(self.assertSucceeds(self.main(
            'history', '-c', self.db.env.ini_path, '--format', 'json',
            *options)))

    def check(self, objects):
        self.assertEqual(
            [(o['rev_from'], o['rev_to']) for o in objects],
            [(split(r['rev_from'], '+'), split(r['rev_to'], '+'))
             for r in self.rows])
        self.assertIn((['E', 'E0'], ['F']),
                      [(o['rev_from'], o['rev_to']) for o in objects])
        self.assertEqual(objects[0]['rev_from'], [])
        self.assertEqual([o['kind'] for o in objects],
                         [r['kind'] for r in self.rows])

    def test_names_from_options(self):
        self.check(self.objects(*OPTIONS))

    def test_names_from_the_config_file(self):
        with open(self.db.env.ini_path, 'a') as f:
            f.write('\n[audit_alembic]\n')
            for key, value in NAMES.items():
                f.write('%s = %s\n' % (key, value))
        self.check(self.objects())
        # --separator wins over the file: nothing splits on '#'.
        self.assertIn(['E+E0'], [o['rev_from'] for o in self.objects(
            '--separator', '#')])


class StatusJSONTest(CLITestCase):
    """status's revisions were lists already; the shape README gives."""

    __backend__ = True

    def test_shape(self):
        db = self.audited_database(BRANCHY)
        db.run('upgrade', 'F')
        document = json.loads(self.assertSucceeds(self.main(
            'status', '-c', db.env.ini_path, '--format', 'json')))
        self.assertEqual(set(document), {'current_heads', 'script_heads',
                                         'pending', 'revisions'})
        self.assertEqual(document['current_heads'], ['F'])
        self.assertEqual(document['script_heads'], ['H'])
        self.assertIsInstance(document['pending'], list)
        by_id = {row['revision']: row for row in document['revisions']}
        self.assertEqual(by_id['F']['down_revisions'], ['E', 'E0'])
        self.assertEqual(by_id['A']['down_revisions'], [])
        for row in document['revisions']:
            self.assertIsInstance(row['revision'], str)
            self.assertIsInstance(row['down_revisions'], list)
            self.assertIsNone(row['last_failure'])
