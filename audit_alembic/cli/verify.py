"""``audit-alembic verify``: does the history agree with the database and
the scripts?

Each check reads the history once, oldest row first, streaming it:

* replay: applying the recorded steps in order gives the revisions in
  the version table, and each step starts where the previous ones left
  the database;
* scripts: every recorded revision is in the script directory (when one
  is given);
* failures: every ``'failed'`` attempt (a history table with a
  ``status`` column) was made good: what it attempted happened, by a
  later successful step of the same move (an upgrade applying its
  revision, a downgrade unapplying it), or the database's revisions now
  include (upgrade) or exclude (downgrade) it, or already did when it
  was recorded (a process that lost a race);
* chain: each row's ``row_hash`` follows from the previous chained row
  and the row's values (an HMAC with ``AUDIT_ALEMBIC_KEY`` where it is
  set), so that rows edited, deleted, inserted or reordered are found.

Script drift is part of the scripts check: a revision whose script now
hashes differently from the ``script_checksum`` last recorded for it.

Exit status 0 when every check holds, 1 when one fails, 2 on usage
errors.
"""
import argparse
import json
import sys

from .. import database
from ..stored import as_stored
from ..exc import CommandError
from ..values import CHAINED
from ..values import CHECKSUM_COLUMN
from ..values import DIRECTION_COLUMN
from ..values import DURATION_COLUMN
from ..values import HOST_COLUMN
from ..values import ID_COLUMN
from ..values import NEW_VERSION_COLUMN
from ..values import OLD_VERSION_COLUMN
from ..values import OPERATION_COLUMN
from ..values import OS_USER_COLUMN
from ..values import ROW_HASH_COLUMN
from ..values import STATUS_COLUMN
from . import options
from . import output
from . import status as status_command
from .history import reflect_table
from .layout import TableLayout

#: The roles of the columns verify reads (see :class:`.TableLayout`).
REQUIRED = (ID_COLUMN, OLD_VERSION_COLUMN, NEW_VERSION_COLUMN,
            OPERATION_COLUMN)
#: What the failures check checks (see :class:`FailedAttempts`).
FAILURES_DESCRIPTION = ("every 'failed' attempt was made good: a step made "
                        'the same move, or the database has it made')

EPILOG = '''\
examples:
  audit-alembic verify                       # the project of ./alembic.ini
  audit-alembic verify --format json         # for CI
  audit-alembic verify --url postgresql+psycopg://me@db/app

exit status: 0 when every check holds, 1 when one fails, 2 on usage errors.
'''


def add_parser(commands):
    """Add the ``verify`` command to the ``commands`` subparsers."""
    parser = commands.add_parser(
        'verify', help='check the history against the database and scripts',
        description='Check that the history table agrees with the '
                    "database's version table and with the script "
                    'directory, and that failed attempts were made good.',
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_project_options(options.add_database_options(parser))
    group = parser.add_argument_group('output')
    group.add_argument('--format', choices=('table', 'json'),
                       default='table',
                       help='one line per check (default), or JSON')
    group = parser.add_argument_group('checks')
    group.add_argument('--strict', action='store_true',
                       help='fail on unchained rows after the last chained '
                            'row (offline scripts run since the last online '
                            'one), which no hash covers yet')
    return parser


class Check:
    """The outcome of one check: its name, what it looked at, and the
    problems found (each a dict with a ``message`` and the row ids or
    revisions concerned)."""

    def __init__(self, name, description):
        self.name = name
        self.description = description
        self.problems = []
        self.notes = []
        self.skipped = None

    @property
    def passed(self):
        return not self.problems

    def problem(self, message, **concerned):
        self.problems.append(dict(concerned, message=message))

    def as_dict(self):
        return {'check': self.name, 'description': self.description,
                'passed': self.passed, 'skipped': self.skipped,
                'problems': self.problems, 'notes': self.notes}


def run(args):
    """Run ``audit-alembic verify`` with parsed ``args``."""
    show_verification(_optional_scripts(args), options.database_url(args),
                      options.table_layout(args), args.version_table,
                      args.format, sys.stdout, strict=args.strict)


def show_verification(scripts, url, layout=None, version_table=None,
                      output_format='table', out=None, strict=False):
    """Check the history of the database of ``url`` (against ``scripts``
    unless None) and write the report to ``out``.

    :raise CommandError: if a check fails or the database or table
        cannot be read.
    """
    out = out or sys.stdout
    layout = layout or TableLayout()
    if scripts is not None:
        status_command.read_scripts(scripts)
    with database.connect(url) as connection:
        table = _history_table(connection, layout, url)
        if version_table is not None:
            status_command.require_table(connection, version_table, None,
                                         url, '--version-table')
        heads = status_command.current_heads(
            connection, version_table or options.DEFAULT_VERSION_TABLE)
        checks = verify(connection, table, heads, scripts, layout, strict)
    if output_format == 'json':
        out.write(json.dumps(
            {'passed': all(c.passed for c in checks),
             'checks': [c.as_dict() for c in checks]},
            indent=1, default=str) + '\n')
    else:
        write_report(checks, out)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise CommandError('verification failed: %s' % ', '.join(failed))


def _optional_scripts(args):
    """The script directory, or None where neither --script-location nor
    a config file names one."""
    import os
    if args.script_location is None and args.config is None and \
            not os.path.isfile(options.DEFAULT_CONFIG):
        return None
    return status_command.script_directory(args)


def _history_table(connection, layout, url):
    table = reflect_table(connection, layout.table_name, layout.schema, url)
    missing = [layout.name(role) for role in REQUIRED
               if layout.name(role) not in table.c]
    if len(missing) > 1:
        raise CommandError('table %s lacks columns %s; is it an '
                           'Audit-Alembic history table?'
                           % (table.fullname, ', '.join(missing)))
    for role in REQUIRED:
        layout.column(table, role, 'verify')
    return table


def _show(revisions):
    return ', '.join(sorted(revisions)) if revisions else '<base>'


def verify(connection, table, version_heads, scripts=None, layout=None,
           strict=False):
    """Run every check over the rows of ``table`` (whose columns
    ``layout`` names); return the :class:`Check` objects."""
    from sqlalchemy import select
    layout = layout or TableLayout()
    id_name, old_name, new_name = [layout.name(role) for role in REQUIRED[:3]]
    replay = Check('replay', 'the recorded steps lead to the revisions in '
                             'the version table')
    known = Check('scripts', 'every recorded revision is in the script '
                             'directory, unchanged since it last ran')
    failures = Check('failures', FAILURES_DESCRIPTION)
    chain = Chain(table, layout, strict)
    if scripts is None:
        known.skipped = 'no script directory (pass -c FILE or ' \
                        '--script-location DIR)'
        script_ids = None
        ancestry = {}
    else:
        script_ids = {script.revision for script in scripts.walk_revisions()}
        ancestry = ancestors_of(scripts, script_ids)
    seen = set()

    def reachable(revision, heads):
        # A step may start from a head, or from an ancestor of one (a new
        # branch); without the scripts, from any revision seen before.
        if revision in heads:
            return True
        if revision in ancestry:
            return any(revision in ancestry.get(head, ()) for head in heads)
        return revision in seen
    has_status = STATUS_COLUMN in table.c
    drift = Drift(table, layout, scripts)
    if not has_status:
        failures.skipped = 'the history table has no status column'

    state = None
    previous_id = None
    last_ok_id = None
    attempts = FailedAttempts(failures, table, layout, ancestry)
    reported_unknown = set()
    query = select(*[as_stored(column, connection.dialect)
                     for column in table.columns]).order_by(table.c[id_name])
    result = connection.execution_options(
        stream_results=True, yield_per=1000).execute(query)
    chain.read_from(list(result.keys()))
    seen_id = None  # the id of the row before, failed attempts included
    for values in result:
        row = values._mapping
        row_id = row[id_name]
        chain.add(row_id, values)
        id_before, seen_id = seen_id, row_id
        sources = set(layout.split(row[old_name]))
        destinations = set(layout.split(row[new_name]))
        # NULL: a row written before the table had the column.
        ok = not has_status or row['status'] in ('ok', None)
        if has_status and row['status'] == 'failed':
            attempts.failed(row_id, row, sources, destinations, state)
            continue
        if ok and has_status:
            attempts.succeeded(row, sources, destinations)
        drift.add(row_id, row, sources, destinations)
        if state is None:
            if sources:
                replay.notes.append(
                    'the history starts at %s (row %s), not at the base: '
                    'it was added to a project already under way'
                    % (_show(sources), row_id))
            state = set(sources)
        elif not all(reachable(revision, state) for revision in sources):
            gap = id_before is not None and isinstance(row_id, int) and \
                isinstance(id_before, int) and row_id > id_before + 1
            if gap:
                replay.problem(
                    'row %s starts from %s, but the rows before it leave the '
                    'database at %s; ids jump from %s to %s: rows were '
                    'deleted' % (row_id, _show(sources), _show(state),
                                 id_before, row_id),
                    rows=[id_before, row_id])
            else:
                replay.problem(
                    'row %s starts from %s, but row %s left the database at '
                    '%s: it was moved without the auditor in between (an '
                    'alembic stamp or upgrade run without it, or a manual '
                    'UPDATE of the version table)'
                    % (row_id, _show(sources), previous_id, _show(state)),
                    rows=[previous_id, row_id])
            state = set(sources)
        state = (state - sources) | destinations
        seen.update(sources, destinations)
        previous_id = last_ok_id = row_id
        if script_ids is not None:
            for revision in (sources | destinations) - script_ids:
                if revision not in reported_unknown:
                    reported_unknown.add(revision)
                    known.problem(
                        'revision %s (row %s) is not in the script '
                        'directory' % (revision, row_id),
                        rows=[row_id], revisions=[revision])

    heads = set(version_heads)
    if state is None:
        if heads:
            replay.problem('the history is empty, but the version table '
                           'holds %s' % _show(heads), revisions=sorted(heads))
    elif state != heads:
        if script_ids is not None and heads - script_ids:
            how = ('%s is not a revision of the script directory: a manual '
                   'UPDATE of the version table'
                   % _show(heads - script_ids))
        elif not heads:
            how = ('the version table is empty or missing: it was emptied or '
                   'dropped after row %s, or the database is not the one '
                   'the history was written in' % last_ok_id)
        else:
            how = ('it was changed without the auditor after row %s (a '
                   'manual UPDATE, or an alembic stamp run without the '
                   'auditor)' % last_ok_id)
        replay.problem('the history leads to %s, but the version table '
                       'holds %s: %s' % (_show(state), _show(heads), how),
                       revisions=sorted(heads ^ state))
    attempts.report(heads)
    drift.report(known)
    chain.report()
    return [replay, known, failures, chain.check]


class FailedAttempts:
    """The failures check: was each failed attempt made good?

    It was when what it attempted has happened: a later successful step
    made the same move (an upgrade, or a stamp up, that took its
    revision in; a downgrade, or a stamp down, that took it out), or the
    database's revisions include its revision (a failed upgrade) or
    exclude it (a failed downgrade), now or already when the attempt was
    recorded, as its own row or the rows before it say: processes racing
    to the same upgrade commit their rows in any order.  A database at a
    revision has all its ancestors, as the scripts say (``ancestry``)
    or, for revisions they lack, as the recorded migrations say.
    """

    def __init__(self, check, table, layout, ancestry):
        self.check = check
        direction = layout.name(DIRECTION_COLUMN)
        self.direction = direction if direction in table.c else None
        self.kind = layout.name(OPERATION_COLUMN)
        self.ancestry = ancestry
        self.parents = {}  # revision -> its down revisions, as recorded
        self.attempts = []  # [row id, revision, down, heads before, done]
        self.pending = {}  # (revision, down) -> attempts not yet made good
        self.known = {}  # heads -> the revisions applied there

    def _is_down(self, row):
        return self.direction is not None and row[self.direction] == 'down'

    def failed(self, row_id, row, sources, destinations, state):
        """The failed attempt of row ``row_id``, from ``sources`` (the
        revisions after its rollback) to ``destinations`` (the revision
        whose script failed); the rows before it lead to ``state``
        (None before the first step)."""
        down = self._is_down(row)
        before = [frozenset(sources)]
        if state is not None:
            before.append(frozenset(state))
        for revision in destinations:
            attempt = [row_id, revision, down, before, False]
            self.attempts.append(attempt)
            self.pending.setdefault((revision, down), []).append(attempt)

    def succeeded(self, row, sources, destinations):
        """A successful step: it makes good the failed attempts before it
        of the same move, and tells the down revisions of a migration's
        revision."""
        down = self._is_down(row)
        for revision in (sources - destinations if down
                         else destinations - sources):
            for attempt in self.pending.pop((revision, down), ()):
                attempt[-1] = True
        if row[self.kind] == 'migration':
            one, others = (sources, destinations) if down else \
                (destinations, sources)
            if len(one) == 1:
                self.parents[next(iter(one))] = others

    def applied(self, heads):
        """The revisions a database at ``heads`` has applied."""
        key = frozenset(heads)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = set()
            todo = list(key)
            while todo:
                revision = todo.pop()
                if revision in found:
                    continue
                if revision in self.ancestry:
                    found |= self.ancestry[revision]
                else:
                    found.add(revision)
                    todo.extend(self.parents.get(revision, ()))
        return found

    def report(self, heads):
        """A problem for each failed attempt not made good, the database
        being at ``heads``."""
        for row_id, revision, down, before, done in self.attempts:
            if done or any((revision in self.applied(revisions)) != down
                           for revisions in [heads] + before):
                continue
            self.check.problem(
                'the failed %s of row %s (revision %s) was not made good: '
                'no later step %s it, and the database (at %s) %s' % (
                    'downgrade' if down else 'upgrade', row_id, revision,
                    'unapplied' if down else 'applied', _show(heads),
                    'still has it' if down else 'does not have it'),
                rows=[row_id], revisions=[revision])


class Drift:
    """The scripts changed since they ran: the ``script_checksum`` last
    recorded for each revision against its script file now."""

    def __init__(self, table, layout, scripts):
        self.scripts = scripts
        self.active = scripts is not None and CHECKSUM_COLUMN in table.c
        self.direction = layout.name(DIRECTION_COLUMN)
        self.kind = layout.name(OPERATION_COLUMN)
        self.last = {}  # revision -> (row id, checksum)

    def add(self, row_id, row, sources, destinations):
        if not self.active or row[CHECKSUM_COLUMN] is None:
            return
        # A downgrade ran its source's script; an upgrade, and a stamp
        # (whose checksum is the destination's), the destination's.
        down = row.get(self.direction) == 'down' and \
            row.get(self.kind) != 'stamp'
        ran = sources if down else destinations
        if len(ran) == 1:
            self.last[next(iter(ran))] = (row_id, row[CHECKSUM_COLUMN])

    def report(self, check):
        from ..record import script_checksum
        for revision, (row_id, recorded) in sorted(
                self.last.items(), key=lambda item: item[1][0]):
            try:
                script = self.scripts.get_revision(revision)
            except Exception:
                script = None
            if script is None:
                continue  # reported as missing from the directory
            now = script_checksum(script.path)
            if now != recorded:
                check.problem(
                    'the script of revision %s changed after row %s ran it '
                    '(%s): recorded SHA-256 %s..., now %s' % (
                        revision, row_id, script.path, recorded[:12],
                        (now[:12] + '...') if now else 'no file'),
                    rows=[row_id], revisions=[revision])


#: Columns an online writer always fills and an offline script leaves
#: NULL.
ONLINE_ONLY = (HOST_COLUMN, OS_USER_COLUMN, DURATION_COLUMN)
#: How many broken links ``verify`` describes one by one.
CHAIN_PROBLEMS_SHOWN = 20


class Chain:
    """The chain check: each ``row_hash`` recomputed from the link before
    it (see :mod:`audit_alembic.chain`) and the row's values."""

    def __init__(self, table, layout, strict=False):
        from .. import chain
        self.key = chain.chain_key()
        self.key_variable = chain.KEY_VARIABLE
        self.chain_hash = chain.chain_hash
        self.fold = chain.fold
        self.strict = strict
        mode = ('HMAC-SHA-256 with %s' % chain.KEY_VARIABLE if self.key else
                'SHA-256; %s is not set' % chain.KEY_VARIABLE)
        self.check = Check('chain', "each row's hash follows from the rows "
                                    'before it (%s)' % mode)
        self.names = [layout.name(role) if role in layout.names else role
                      for role in CHAINED]
        self.active = ROW_HASH_COLUMN in table.c and all(
            name in table.c for name in self.names)
        if not self.active:
            self.check.skipped = 'the history table has no row_hash column ' \
                                 '(Auditor.create(details=True) adds it)'
        self.previous = None  # the last chained row's hash
        self.previous_id = None
        self.chained = 0
        self.mismatches = 0
        self.broken = []  # (row id, message)
        self.unchained = []  # rows before the first chained one
        self.pending = []  # (row id, values) of unchained rows since then
        self.vouched = []  # offline rows a later chained row vouches for

    def read_from(self, keys):
        """Take rows as tuples of the columns ``keys``."""
        import operator
        if self.active:
            self.hash_at = keys.index(ROW_HASH_COLUMN)
            self.chained_values = operator.itemgetter(
                *[keys.index(name) for name in self.names])
            # What an online writer always fills, an offline script never.
            self.online_values = operator.itemgetter(
                *[keys.index(name) for name in ONLINE_ONLY])

    def add(self, row_id, row):
        if not self.active:
            return
        stored = row[self.hash_at]
        if stored is None:
            if self.previous_id is None:
                self.unchained.append(row_id)
                return
            # The next online writer folds it into its link, whatever it
            # looks like; one written online has lost its hash.
            self.pending.append((row_id, self.chained_values(row)))
            if any(value is not None for value in self.online_values(row)):
                self.broken.append((row_id, (
                    'row %s has no hash, though rows up to %s are chained '
                    'and it was written online (it has a host, user or '
                    'duration): its hash was removed' % (
                        row_id, self.previous_id))))
            return
        self.chained += 1
        values = self.chained_values(row)
        pending, self.pending = self.pending, []
        link = self.fold(self.previous, [v for _, v in pending], self.key)
        if self.chain_hash(link, values, self.key) == stored:
            self.vouched.extend(row_id for row_id, _ in pending)
        elif pending and self.chain_hash(
                self.previous, values, self.key) == stored:
            for unchained_id, _ in pending:
                self.broken.append((unchained_id, (
                    'row %s has no hash, and row %s, the next chained row, '
                    'was written without it: it was inserted between rows '
                    '%s and %s later' % (unchained_id, row_id,
                                         self.previous_id, row_id))))
        else:
            self.mismatches += 1
            if self.previous_id is None:
                where = 'the first chained row'
            else:
                where = 'after row %s' % self.previous_id
            self.broken.append((row_id, (
                'row %s (%s): its hash does not follow from its values and '
                'the rows before: it was edited, or rows before it were '
                'deleted, inserted or reordered' % (row_id, where))))
        # Carry on from the stored hash: one tampered row, one problem.
        self.previous, self.previous_id = stored, row_id

    def report(self):
        check = self.check
        if not self.active:
            return
        if self.mismatches == self.chained > 1:
            check.problem(
                'wrong key or tampered: none of the %d chained rows checks '
                '(%s)' % (self.chained, '%s is set' % self.key_variable
                          if self.key else '%s is not set: were they written '
                          'with a key?' % self.key_variable),
                rows=[row_id for row_id, _ in self.broken[:1]])
        else:
            for row_id, message in self.broken[:CHAIN_PROBLEMS_SHOWN]:
                check.problem(message, rows=[row_id])
            if len(self.broken) > CHAIN_PROBLEMS_SHOWN:
                check.problem('and %d more rows like these' % (
                    len(self.broken) - CHAIN_PROBLEMS_SHOWN),
                    rows=[row_id for row_id, _ in
                          self.broken[CHAIN_PROBLEMS_SHOWN:]])
        trailing = [row_id for row_id, _ in self.pending]
        if trailing and self.strict:
            check.problem(
                '%s unchained after the last chained row, and no online '
                'run has vouched for %s yet (--strict): %s' % (
                    _rows(trailing), 'it' if len(trailing) == 1 else 'them',
                    _ids(trailing)), rows=trailing)
            trailing = []
        for rows, why in (
                (self.unchained, '(written before the chain started), not '
                                 'checked'),
                (self.vouched, '(written by offline scripts), each covered '
                               'by the hash of the next chained row'),
                (trailing, 'after the last chained row (offline scripts?), '
                           'covered by no hash until the next online run; '
                           '--strict fails on them')):
            if rows:
                check.notes.append('%s unchained %s: %s' % (
                    _rows(rows), why, _ids(rows)))


def _rows(ids):
    return '%d row%s' % (len(ids), ' is' if len(ids) == 1 else 's are')


def _ids(ids):
    more = len(ids) - 10
    return ', '.join(str(i) for i in ids[:10]) + (
        ' and %d more' % more if more > 0 else '')


def ancestors_of(scripts, revisions):
    """Revision -> the set of revisions a database at it has applied
    (itself, its down revisions and dependencies, recursively)."""
    return {revision: {r.revision for r in
                       scripts.revision_map.iterate_revisions(
                           revision, 'base', inclusive=True)}
            for revision in revisions}


def write_report(checks, out):
    """One line per check (``ok``, ``FAILED`` or ``skipped``), then its
    problems and notes, indented."""
    for check in checks:
        if check.skipped:
            state = 'skipped'
        else:
            state = 'ok' if check.passed else 'FAILED'
        out.write('%-8s %-9s %s\n' % (state, check.name, check.description))
        for problem in check.problems:
            out.write('         - %s\n' % output.escaped(problem['message']))
        for note in check.notes:
            out.write('         note: %s\n' % output.escaped(note))
        if check.skipped:
            out.write('         (%s)\n' % check.skipped)
