#!/usr/bin/env python
"""Concurrent deploys: several ``alembic upgrade head`` at once, audited
or not.

    python bench/concurrent_upgrades.py --url URL [--url URL ...]
        [--processes 4] [--rounds 10] [-n 5]

For each URL (an empty database of yours) and each round, builds a fresh
scratch Alembic project of N revisions, starts PROCESSES real ``alembic
upgrade head`` processes at the same moment, waits for them (at most two
minutes each) and inspects the database; then drops what the round
created.  Each round runs twice, with bare Alembic (no auditor) and with
Audit-Alembic's env.py, so both meet the same race.  It prints, per URL
and mode, the processes that failed grouped by their last error line,
and for audited rounds: history errors (failures that mention the
history table or come from Audit-Alembic, which bare Alembic cannot
produce), duplicate rows (one step recorded twice) and missing rows
(a step applied per ``alembic_version`` without its row).  Exits 1 if
any of those three is not zero.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy import inspect  # noqa: E402

from audit_alembic import paths  # noqa: E402
from audit_alembic.masking import masked  # noqa: E402
from audit_alembic.testing.fixtures import Rev  # noqa: E402
from audit_alembic.testing.fixtures import ScratchEnvironment  # noqa: E402
from audit_alembic.values import DEFAULT_TABLE_NAME  # noqa: E402

#: Where Audit-Alembic's modules are: a traceback through them is ours.
PACKAGE_DIR = os.path.dirname(os.path.abspath(paths.__file__))
#: env.py reads this variable in the bench's projects: "off" for no auditor.
AUDIT_VARIABLE = 'BENCH_AUDIT'


def chain(n):
    """N revisions in a line: r01 <- r02 <- ..."""
    ids = ['r%02d' % i for i in range(1, n + 1)]
    return [Rev(rev, ids[i - 1] if i else None) for i, rev in enumerate(ids)]


def project(engine, revisions):
    """A scratch project whose env.py goes without an auditor when the
    environment says so."""
    env = ScratchEnvironment(engine, revisions)
    path = os.path.join(env.directory, 'scripts', 'env.py')
    with open(path) as f:
        text = f.read()
    switch = 'auditor = config.attributes.get("auditor")\n'
    assert switch in text, 'env.py template changed'
    text = text.replace(switch, switch + (
        'if os.environ.get(%r) == "off":\n'
        '    auditor = False\n' % AUDIT_VARIABLE))
    with open(path, 'w') as f:
        f.write(text)
    return env


def error_line(stderr):
    """The exception's own line of a traceback (not SQLAlchemy's notes)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r'[\w.]+(Error|Exception|Expired)\b', line):
            return line[:200]
    return lines[-1][:200] if lines else '(no message)'


def one_round(engine, revisions, processes, audited):
    """Race ``processes`` upgrades on a fresh project; return the
    failures' (message, from Audit-Alembic?) and the rows' problems."""
    env = project(engine, revisions)
    try:
        command = [sys.executable, '-m', 'alembic', '-c', env.ini_path,
                   'upgrade', 'head']
        child_env = paths.child_environment(
            APP_VERSION='bench', **{AUDIT_VARIABLE: 'on' if audited
                                    else 'off'})
        running = [subprocess.Popen(command, cwd=env.directory, env=child_env,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
                   for _ in range(processes)]
        failures = []
        for process in running:
            try:
                _, stderr = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
                stderr += '\n(killed after 120 s)'
            if process.returncode:
                ours = (DEFAULT_TABLE_NAME in stderr or
                        PACKAGE_DIR in stderr)
                failures.append((error_line(stderr), ours))
        duplicates = missing = 0
        heads = env.heads()
        if audited:
            applied = []
            for revision in revisions:
                applied.append(revision.id)
                if revision.id in heads:
                    break
            else:
                applied = []
            rows = (env.history() if inspect(engine).has_table(
                DEFAULT_TABLE_NAME) else [])
            recorded = collections.Counter(
                (row['prev_alembic_version'], row['alembic_version'])
                for row in rows)
            duplicates = sum(n - 1 for n in recorded.values() if n > 1)
            expected = [('' if i == 0 else applied[i - 1], rev)
                        for i, rev in enumerate(applied)]
            missing = sum(1 for step in expected if step not in recorded)
        return failures, duplicates, missing, heads
    finally:
        env.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', action='append', required=True,
                        help='SQLAlchemy URL of an empty database of yours '
                        '(repeat for several)')
    parser.add_argument('--processes', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('-n', '--revisions', type=int, default=5)
    args = parser.parse_args(argv)
    revisions = chain(args.revisions)
    bad = 0
    for url in args.url:
        engine = create_engine(url)
        try:
            for audited in (False, True):
                started = time.perf_counter()
                failed = collections.Counter()
                ours = duplicates = missing = at_head = 0
                for _ in range(args.rounds):
                    failures, dup, miss, heads = one_round(
                        engine, revisions, args.processes, audited)
                    failed.update(message for message, _ in failures)
                    ours += sum(1 for _, mine in failures if mine)
                    duplicates += dup
                    missing += miss
                    at_head += heads == {revisions[-1].id}
                mode = 'audited' if audited else 'bare'
                print('%s, %s: %d rounds x %d processes in %.0fs; %d rounds '
                      'ended at head; %d processes failed' % (
                          masked(engine.url), mode, args.rounds,
                          args.processes, time.perf_counter() - started,
                          at_head, sum(failed.values())))
                for message, count in failed.most_common():
                    print('    %3d x %s' % (count, message))
                if audited:
                    print('    history errors %d, duplicate rows %d, '
                          'missing rows %d' % (ours, duplicates, missing))
                    bad += ours + duplicates + missing
                sys.stdout.flush()
        finally:
            engine.dispose()
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
