"""The scripts check: every recorded revision is in the script directory,
and its script is unchanged since it last ran (script drift: the
``script_checksum`` last recorded for it against its file now)."""
import collections

from ...values import CHECKSUM_COLUMN
from ...values import DIRECTION_COLUMN
from ...values import DOWN
from ...values import OPERATION_COLUMN
from ...values import STAMP
from .base import Check

#: A revision's script as a row recorded running it: the row's id, and
#: the SHA-256 of the script it recorded (hex).
ScriptRun = collections.namedtuple('ScriptRun', 'row_id checksum')


class Scripts(Check):
    """Skipped without a script directory; without a checksum column,
    it only looks for revisions the directory lacks."""
    name = 'scripts'
    description = ('every recorded revision is in the script directory, '
                   'unchanged since it last ran')

    def __init__(self, subject):
        super().__init__()
        if subject.scripts is None:
            self.skip('no script directory (pass -c FILE or '
                      '--script-location DIR)')
        self.script_ids = subject.script_ids
        self.drift = Drift(subject)
        self.reported_missing = set()  # revisions reported missing

    def add(self, step):
        if step.is_failed:
            return
        self.drift.add(step)
        for revision in (step.sources | step.destinations) - \
                self.script_ids:
            if revision not in self.reported_missing:
                self.reported_missing.add(revision)
                self.problem(
                    'revision %s (row %s) is not in the script '
                    'directory' % (revision, step.id),
                    rows=[step.id], revisions=[revision])

    def finish(self):
        for revision, row_id, path, recorded, now in self.drift.changed():
            self.problem(
                'the script of revision %s changed after row %s ran it '
                '(%s): recorded SHA-256 %s..., now %s' % (
                    revision, row_id, path, recorded[:12],
                    (now[:12] + '...') if now else 'no file'),
                rows=[row_id], revisions=[revision])


class Drift:
    """The scripts changed since they ran.

    :ivar scripts: the script directory (or None).
    :ivar active: whether there is anything to compare: a script
        directory, and a ``script_checksum`` column.
    :ivar direction_column: the name of the direction column.
    :ivar operation_column: the name of the operation type column.
    :ivar last_run: revision id -> the :class:`ScriptRun` of the last
        row that recorded running its script.
    """

    def __init__(self, subject):
        self.scripts = subject.scripts
        self.active = self.scripts is not None and \
            CHECKSUM_COLUMN in subject.table.c
        self.direction_column = subject.layout.name(DIRECTION_COLUMN)
        self.operation_column = subject.layout.name(OPERATION_COLUMN)
        self.last_run = {}

    def add(self, step):
        """Note the script ``step`` ran, if it recorded its checksum."""
        row = step.columns
        if not self.active or row[CHECKSUM_COLUMN] is None:
            return
        # A downgrade ran its source's script; an upgrade, and a stamp
        # (whose checksum is the destination's), the destination's.
        down = row.get(self.direction_column) == DOWN and \
            row.get(self.operation_column) != STAMP
        ran = step.sources if down else step.destinations
        if len(ran) == 1:
            self.last_run[next(iter(ran))] = ScriptRun(
                step.id, row[CHECKSUM_COLUMN])

    def changed(self):
        """``(revision, row id, script path, recorded checksum, checksum
        now or None)`` for each script whose file no longer has the
        checksum last recorded for it, in the order of those rows."""
        from ...facts import script_checksum
        for revision, run in sorted(self.last_run.items(),
                                    key=lambda item: item[1].row_id):
            try:
                script = self.scripts.get_revision(revision)
            except Exception:
                script = None
            if script is None:
                continue  # reported as missing from the directory
            now = script_checksum(script.path)
            if now != run.checksum:
                yield revision, run.row_id, script.path, run.checksum, now
