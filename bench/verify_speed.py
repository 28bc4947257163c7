#!/usr/bin/env python
"""How ``audit-alembic verify`` scales: time and memory on a long history.

    python bench/verify_speed.py [--rows 100000] [--revisions 300]
                                 [--url URL] [--rounds 3]

Writes a chain of REVISIONS revisions, a history table of ROWS rows
(``details=True``, every row chained: upgrades to the head and downgrades
back, over and over) and a version
table where that history leads, in a SQLite file (or in the database of
``--url``, which must not have those tables yet; they are dropped after),
then runs ``audit-alembic verify`` on it, and on a tenth of the rows, in
subprocesses: median wall time and peak resident memory of each.

Goal: under 2 s for 100,000 rows and 300 revisions on SQLite and
PostgreSQL, with memory that does not grow with the rows.
"""
import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from status_speed import build  # noqa: E402

from audit_alembic import paths  # noqa: E402
from audit_alembic.hashing import chain_hash  # noqa: E402
from audit_alembic.values import CHAINED  # noqa: E402

BATCH = 10000
RUN_IDS = ['%08x-0000-4000-8000-000000000000' % i for i in range(1000)]


def history_rows(count, revisions):
    """``count`` rows going up the chain and down again; and the revision
    they leave the database at."""
    start = datetime.datetime(2020, 1, 1)
    at, step = -1, 1
    previous = None
    rows = []
    for i in range(count):
        if at + step < -1 or at + step >= revisions:
            step = -step
        old, new = at, at + step
        rows.append({
            'alembic_version': 'r%05d' % new if new >= 0 else '',
            'prev_alembic_version': 'r%05d' % old if old >= 0 else '',
            'operation_type': 'migration',
            'operation_direction': 'up' if step > 0 else 'down',
            'user_version': 'bench',
            'changed_at': start + datetime.timedelta(seconds=i),
            'run_id': RUN_IDS[i // 3 % len(RUN_IDS)],
            'status': 'ok',
            'db_user': 'deploy',
            'os_user': 'ci',
            'host': 'build-3',
            'duration_ms': i % 500,
            'script_checksum': None,
            'message': 'revision %d' % max(new, old),
            'error': None,
        })
        previous = rows[-1]['row_hash'] = chain_hash(
            previous, [rows[-1][name] for name in CHAINED])
        at = new
        if len(rows) == BATCH:
            yield rows, at
            rows = []
    if rows:
        yield rows, at


def fill(url, count, revisions):
    from sqlalchemy import Column
    from sqlalchemy import MetaData
    from sqlalchemy import String
    from sqlalchemy import Table
    from sqlalchemy import create_engine
    from sqlalchemy import inspect

    from audit_alembic import Auditor
    engine = create_engine(url)
    table = Auditor.create('bench', details=True).table
    version = Table('alembic_version', MetaData(),
                    Column('version_num', String(32), primary_key=True))
    existing = set(inspect(engine).get_table_names()) & {
        table.name, version.name}
    if existing:
        sys.exit('verify_speed: %s already has %s; use an empty database'
                 % (url, ', '.join(sorted(existing))))
    table.create(engine)
    version.create(engine)
    at = -1
    with engine.begin() as connection:
        for rows, at in history_rows(count, revisions):
            connection.execute(table.insert(), rows)
        if at >= 0:
            connection.execute(version.insert(),
                               {'version_num': 'r%05d' % at})
    engine.dispose()
    return table, version


def drop(url, tables):
    from sqlalchemy import create_engine
    engine = create_engine(url)
    for table in tables:
        table.drop(engine, checkfirst=True)
    engine.dispose()


def timed(command, env):
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if status:
        sys.exit('verify_speed: verify failed: %s' % stderr)
    return elapsed, usage.ru_maxrss / 1024


def measure(url, directory, rows, revisions, rounds, env):
    tables = fill(url, rows, revisions)
    try:
        command = [sys.executable, '-m', 'audit_alembic', 'verify',
                   '--url', url, '--script-location',
                   os.path.join(directory, 'migrations')]
        runs = [timed(command, env) for _ in range(rounds)]
    finally:
        drop(url, tables)
    return (statistics.median(t for t, _ in runs),
            max(memory for _, memory in runs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=100000)
    parser.add_argument('--revisions', type=int, default=300)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--url', help='a database without the tables '
                                      '(default: a SQLite file)')
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix='audit_alembic_bench_')
    env = paths.child_environment()
    try:
        build(directory, args.revisions)
        url = args.url or 'sqlite:///' + os.path.join(directory, 'bench.db')
        for rows in (args.rows // 10, args.rows):
            seconds, memory = measure(url, directory, rows, args.revisions,
                                      args.rounds, env)
            print('verify: %7d rows, %d revisions: %.3fs (median of %d), '
                  'peak %.1f MiB'
                  % (rows, args.revisions, seconds, args.rounds, memory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    main()
