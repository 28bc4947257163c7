#!/usr/bin/env python3
"""How ``audit-alembic history`` scales: time and memory on a large table.

    python bench/history_scale.py [--rows 1000000] [--repeat 3] [--dir DIR]

Fills two SQLite files with audit rows in the table
``Auditor.create(details=True)`` defines, indexes included (ROWS rows,
and ROWS / 10 to compare with; a run of three steps every three
minutes), then runs the real
``audit-alembic`` console script on them in subprocesses and prints, for
each command, the best and median wall time and the peak resident memory
of the child (from ``os.wait4``, so each figure is that run's own; the
databases are filled by another child, so that the children measured fork
from a small process).

Goals: ``history --last 50``, ``--since <a day ago>`` and ``--run <id>``
under 0.5 s on 1,000,000 rows; CSV and JSON exports whose memory stays
flat as the table grows.
"""
import argparse
import datetime
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 100000
COLUMNS = ('id', 'alembic_version', 'prev_alembic_version', 'operation_type',
           'operation_direction', 'user_version', 'changed_at', 'run_id',
           'status', 'db_user', 'os_user', 'host', 'duration_ms',
           'script_checksum', 'message', 'error')
STEPS_PER_RUN = 3


def console_script():
    """The installed ``audit-alembic`` beside this Python, or ``-m``."""
    script = os.path.join(os.path.dirname(sys.executable), 'audit-alembic')
    if os.path.exists(script):
        return [script]
    return [sys.executable, '-m', 'audit_alembic']


def revision_id(n):
    """A 12-digit hex revision id, as Alembic makes them."""
    return '%012x' % (n * 2654435761 % 2 ** 48) if n else ''


def audit_rows(count):
    """``count`` plausible history rows: mostly upgrades, some downgrades
    and stamps, a minute apart."""
    start = datetime.datetime(2015, 1, 1)
    at = 0
    for i in range(1, count + 1):
        if i % 10 == 0:
            old, new, kind, direction = at, at - 1, 'migration', 'down'
        elif i % 50 == 1:
            old, new, kind, direction = at, at + 1, 'stamp', 'up'
        else:
            old, new, kind, direction = at, at + 1, 'migration', 'up'
        at = new
        changed = start + datetime.timedelta(minutes=i, microseconds=i % 997)
        failed = i % 97 == 0
        yield (i, revision_id(new), revision_id(old), kind, direction,
               'app 1.%d' % (i // 1000),
               changed.strftime('%Y-%m-%d %H:%M:%S.%f'), run_id(i),
               'failed' if failed else 'ok', 'deploy', 'ci', 'build-3',
               i % 500, hashlib.sha256(revision_id(new).encode()).hexdigest(),
               'revision %s' % revision_id(new),
               'ValueError: bad row' if failed else None)


def run_id(step):
    """The run id of row ``step``: a UUID, one per STEPS_PER_RUN rows."""
    return str(uuid.UUID(int=(step - 1) // STEPS_PER_RUN * 2654435761 + 1))


def fill(path, count):
    """Create the history table in SQLite file ``path``; add ``count`` rows.

    The table comes from Auditor.create; the rows go in with the sqlite3
    driver's executemany, BATCH at a time, in one transaction.
    """
    sys.path.insert(0, ROOT)
    from sqlalchemy import create_engine

    from audit_alembic import Auditor
    engine = create_engine('sqlite:///' + path)
    Auditor.create('bench', details=True).table.create(engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    insert = 'INSERT INTO alembic_version_history (%s) VALUES (%s)' % (
        ', '.join(COLUMNS), ', '.join('?' * len(COLUMNS)))
    rows = audit_rows(count)
    with connection:
        while True:
            batch = [row for _, row in zip(range(BATCH), rows)]
            if not batch:
                break
            connection.executemany(insert, batch)
    connection.close()


def run(arguments):
    """Run the console script once, output to /dev/null; return (seconds,
    peak RSS in MiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(console_script() + arguments,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode:
        sys.exit('audit-alembic %s failed: %s' % (' '.join(arguments), error))
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    scale = 1024 * 1024 if sys.platform == 'darwin' else 1024
    return elapsed, usage.ru_maxrss / scale


def measure(arguments, repeat):
    """Best and median time, and the largest peak RSS, of ``repeat``
    runs."""
    runs = [run(arguments) for _ in range(repeat)]
    times = [t for t, _ in runs]
    return min(times), statistics.median(times), max(m for _, m in runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', type=int, default=1000000,
                        help='rows of the large table (default: %(default)s)')
    parser.add_argument('--repeat', type=int, default=3,
                        help='runs per command (default: %(default)s)')
    parser.add_argument('--dir', help='keep the databases in this directory '
                                      '(default: a temporary one, removed)')
    parser.add_argument('--fill', nargs=2, metavar=('PATH', 'ROWS'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fill:
        fill(args.fill[0], int(args.fill[1]))
        return

    directory = args.dir or tempfile.mkdtemp(prefix='audit_alembic_bench_')
    os.makedirs(directory, exist_ok=True)
    try:
        sizes = [args.rows, args.rows // 10]
        urls = {}
        for size in sizes:
            path = os.path.join(directory, 'history_%d.db' % size)
            if not os.path.exists(path):
                started = time.perf_counter()
                # In a child process: a fork of a big parent would inflate
                # the peak memory of the commands measured afterwards.
                subprocess.run([sys.executable, os.path.abspath(__file__),
                                '--fill', path, str(size)], check=True)
                print('filled %s with %s rows in %.1f s (%.0f MiB)' % (
                    path, format(size, ','), time.perf_counter() - started,
                    os.path.getsize(path) / 2 ** 20))
            urls[size] = 'sqlite:///' + path

        recent = (datetime.datetime(2015, 1, 1) + datetime.timedelta(
            minutes=args.rows - 24 * 60)).isoformat()
        commands = [
            ('--version (start-up only)', ['--version'], sizes[:1]),
            ('history --last 50', ['history', '--last', '50'], sizes),
            ('history --since <a day ago>',
             ['history', '--since', recent], sizes[:1]),
            ('history --run <one run>',
             ['history', '--run', run_id(args.rows // 2)], sizes),
            ('history --revision <one id>',
             ['history', '--revision', revision_id(7)], sizes),
            ('history --format csv', ['history', '--format', 'csv'], sizes),
            ('history --format json', ['history', '--format', 'json'], sizes),
            ('history (table, all rows)', ['history'], sizes),
        ]
        print('\n%-32s %10s %9s %9s %10s' % (
            'command (output to /dev/null)', 'rows', 'best s', 'median s',
            'peak MiB'))
        for label, arguments, on in commands:
            for size in on:
                full = arguments if arguments[0] == '--version' else \
                    arguments + ['--url', urls[size]]
                best, median, peak = measure(full, args.repeat)
                print('%-32s %10s %9.3f %9.3f %10.1f' % (
                    label, format(size, ','), best, median, peak))
    finally:
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    main()
