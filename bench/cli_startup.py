#!/usr/bin/env python
"""What ``audit-alembic --help`` costs over starting Python at all.

    python bench/cli_startup.py [--rounds 20]

Alternates ``python -c pass`` with ``--help`` of the command line and of
each command (and, for comparison, ``import audit_alembic`` followed by
defining an Auditor, which must load SQLAlchemy), and prints the median
wall time of each and its difference from ``python -c pass``.  The goal
for ``--help``: within 0.05 s.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from audit_alembic.paths import child_environment  # noqa: E402

CLI = [sys.executable, '-m', 'audit_alembic']
COMMANDS = {
    'python -c pass': [sys.executable, '-c', 'pass'],
    'audit-alembic --help': CLI + ['--help'],
    'audit-alembic history --help': CLI + ['history', '--help'],
    'audit-alembic demo --help': CLI + ['demo', '--help'],
    'Auditor.create() (loads SQLAlchemy)': [
        sys.executable, '-c',
        'import audit_alembic; audit_alembic.Auditor.create("v")'],
}


def timed(command, env):
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=20)
    args = parser.parse_args(argv)
    env = child_environment()
    times = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        timed(command, env)  # warm the file cache
    for round_ in range(args.rounds):
        for name in sorted(COMMANDS, reverse=bool(round_ % 2)):
            times[name].append(timed(COMMANDS[name], env))
    baseline = statistics.median(times['python -c pass'])
    print('median of %d runs, and the difference from python -c pass:'
          % args.rounds)
    for name in COMMANDS:
        median = statistics.median(times[name])
        print('  %-36s %.3fs  %+.3fs' % (name, median, median - baseline))


if __name__ == '__main__':
    main()
