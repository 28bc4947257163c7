#!/usr/bin/env python
"""How fast ``audit-alembic report`` writes its page on a huge table.

    python bench/report_speed.py [--rows 1000000] [--last 1000]
                                 [--rounds 5] [--dburi URL]

Builds a history table (``details=True`` columns) of about ROWS rows in a
scratch SQLite file (or in the database of ``--dburi``, in a table of
its own, ``report_bench_history``, which must not exist yet; it is
dropped after): 1,000 rows written from Python (runs of a few steps
over two months, a failed attempt now and then, some drift), then
doubled with ``INSERT ... SELECT`` until there are enough, so that the
newest rows are a copy of the first thousand.  Then runs ``report --last
LAST`` in this process, ROUNDS times, and prints the median wall time;
and the default (the newest 50,000 rows) once per round too, for
comparison.

Goal: under 2 s for ``--last 1000`` on a table of 1,000,000 rows.
"""
import argparse
import contextlib
import datetime
import io
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from audit_alembic import Auditor  # noqa: E402
from audit_alembic.cli import main  # noqa: E402

TABLE = 'report_bench_history'
SEED = 1000


def seed_rows():
    """:data:`SEED` rows: runs of one to six steps over two months."""
    start = datetime.datetime(2024, 3, 1, 9, 0)
    rows, at, run = [], 0, 0
    while len(rows) < SEED:
        run += 1
        when = start + datetime.timedelta(hours=run * 5)
        run_id = '%08x-0000-4000-8000-%012x' % (run, run)
        if run % 37 == 0:
            rows.append(_row(run_id, when, at, at, 'drift', None))
        for step in range(1 + run % 6):
            if len(rows) >= SEED:
                break
            failed = run % 23 == 0 and step == run % 6
            rows.append(_row(run_id, when + datetime.timedelta(
                seconds=step), at, at + 1, 'failed' if failed else 'ok',
                'RuntimeError: step %d of run %d failed' % (step, run)
                if failed else None))
            if failed:
                break
            at += 1
    return rows


def _row(run_id, when, old, new, status, error):
    return {
        'alembic_version': 'r%05d' % new if new else '',
        'prev_alembic_version': 'r%05d' % old if old else '',
        'operation_type': 'drift' if status == 'drift' else 'migration',
        'operation_direction': 'up', 'user_version': 'app 2.%d' % (new // 50),
        'changed_at': when, 'run_id': run_id, 'status': status,
        'db_user': 'deploy', 'os_user': 'ci', 'host': 'build-%d' % (new % 3),
        'duration_ms': 5 + new % 700, 'script_checksum': '%064x' % new,
        'message': 'revision %d' % new, 'error': error,
        'row_hash': '%064x' % (new * 7919),  # a chain, for the digest
    }


def build(url, rows):
    """Create the table in ``url`` and fill it with about ``rows`` rows;
    how many there are."""
    from sqlalchemy import create_engine
    from sqlalchemy import func
    from sqlalchemy import insert
    from sqlalchemy import select
    table = Auditor.create('bench', details=True, table_name=TABLE).table
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(insert(table), seed_rows())
        names = [column.name for column in table.columns
                 if column.name != 'id']
        count = SEED
        while count < rows:
            with engine.begin() as connection:
                source = select(*[table.c[name] for name in names]) \
                    .order_by(table.c.id)
                connection.execute(insert(table).from_select(names, source))
                count = connection.execute(
                    select(func.count()).select_from(table)).scalar()
        return count
    finally:
        engine.dispose()


def drop(url):
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy import create_engine
    engine = create_engine(url)
    with engine.begin() as connection:
        Table(TABLE, MetaData(), autoload_with=connection).drop(connection)
    engine.dispose()


def timed(url, output, *args):
    """Seconds ``report`` took, in this process."""
    out, err = io.StringIO(), io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(['report', '--url', url, '--table', TABLE,
                       '-o', output] + list(args))
    took = time.perf_counter() - began
    if status != 0:
        raise SystemExit('report failed: %s' % err.getvalue())
    return took


def main_bench():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=1000000)
    parser.add_argument('--last', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--dburi', help='a database to use instead of a '
                                        'scratch SQLite file')
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix='audit_alembic_bench_')
    url = args.dburi or 'sqlite:///' + os.path.join(directory, 'bench.db')
    output = os.path.join(directory, 'report.html')
    try:
        began = time.perf_counter()
        count = build(url, args.rows)
        took = time.perf_counter() - began
        print('built %d rows in %.1f s' % (count, took))
        timed(url, output, '--last', str(args.last))  # imports, caches
        last, default = [], []
        for _ in range(args.rounds):
            last.append(timed(url, output, '--last', str(args.last)))
            default.append(timed(url, output))
        size = os.path.getsize(output)
        print('report --last %d: median %.3f s (rounds: %s)' % (
            args.last, statistics.median(last),
            ', '.join('%.3f' % t for t in last)))
        print('report (newest 50,000 rows; verify and digest skipped): '
              'median %.3f s, '
              'page %.1f MB' % (statistics.median(default), size / 1e6))
        goal = statistics.median(last) < 2.0
        print('goal (--last %d under 2 s): %s' % (args.last,
                                                  'met' if goal else 'MISSED'))
        return 0 if goal else 1
    finally:
        if args.dburi:
            drop(url)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main_bench())
