#!/usr/bin/env python
"""``audit-alembic status`` against ``alembic history`` on a large project.

    python bench/status_speed.py [--revisions 1000] [--rounds 5]

Writes an Alembic project with a chain of N revisions (with Audit-Alembic's
env.py) on a SQLite file, applies half of them, then alternates
``alembic history`` and ``audit-alembic status`` (both as subprocesses)
and prints the median wall time of each and their ratio.  The goal: at
most 1.5.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from audit_alembic import paths  # noqa: E402

SCRIPT = '''"""revision {n}"""
revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''
INI = '''[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = sqlite:///%(here)s/bench.db

[loggers]
keys = root

[handlers]
keys =

[formatters]
keys =

[logger_root]
level = WARNING
handlers =
'''


def build(directory, count):
    versions = os.path.join(directory, 'migrations', 'versions')
    os.makedirs(versions)
    shutil.copyfile(paths.ENV_PY_TEMPLATE,
                    os.path.join(directory, 'migrations', 'env.py'))
    down = None
    for n in range(count):
        rev = 'r%05d' % n
        with open(os.path.join(versions, rev + '.py'), 'w') as f:
            f.write(SCRIPT.format(n=n, rev=rev, down=down))
        down = rev
    with open(os.path.join(directory, 'alembic.ini'), 'w') as f:
        f.write(INI)


def timed(command, directory, env):
    started = time.perf_counter()
    subprocess.run(command, cwd=directory, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--revisions', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix='audit_alembic_bench_')
    env = paths.child_environment(APP_VERSION='bench')
    try:
        build(directory, args.revisions)
        subprocess.run([sys.executable, '-m', 'alembic', 'upgrade',
                        'r%05d' % (args.revisions // 2)], cwd=directory,
                       env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        commands = {
            'alembic history': [sys.executable, '-m', 'alembic', 'history'],
            'audit-alembic status': [sys.executable, '-m', 'audit_alembic',
                                     'status'],
        }
        times = {name: [] for name in commands}
        for round_ in range(args.rounds):
            for name in sorted(commands, reverse=bool(round_ % 2)):
                times[name].append(timed(commands[name], directory, env))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    history = statistics.median(times['alembic history'])
    status = statistics.median(times['audit-alembic status'])
    print('%d revisions, %d applied; median of %d runs:'
          % (args.revisions, args.revisions // 2 + 1, args.rounds))
    print('  alembic history       %.3fs' % history)
    print('  audit-alembic status  %.3fs  (%.2f x alembic history)'
          % (status, status / history))


if __name__ == '__main__':
    main()
