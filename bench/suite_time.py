#!/usr/bin/env python
"""How long the default SQLite run of the whole suite takes, serially and
in worker processes, under nose2 and under pytest.

    python bench/suite_time.py [--workers 2] [--rounds 1] [ARGUMENT...]
    python bench/suite_time.py --against REVISION [--rounds 1] [ARGUMENT...]

Runs, in turn, ``./sqla_nose.py --processes 1`` (serial),
``./sqla_nose.py`` (its default: a worker per CPU), ``./sqla_nose.py
--processes N``, ``python -m pytest`` and ``python -m pytest -n N`` (skipped if
pytest-xdist is not installed) from the checkout root, each with the
extra ARGUMENTs, and prints the wall time of each (the median, with
``--rounds`` above 1), its exit status and its counts, side by side.
The machine's load average is printed too: these figures mean little on
a busy machine.

With ``--against REVISION``, it times the default ``./sqla_nose.py`` run
of this checkout and of that git revision (exported to a temporary
folder), alternately, and prints the ratio of their times: a figure that
machines of different speeds can compare, where seconds differ.
"""
import argparse
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commands(workers, extra):
    nose = [sys.executable, os.path.join(ROOT, 'sqla_nose.py')]
    pytest = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider']
    yield './sqla_nose.py --processes 1', nose + ['--processes', '1'] + extra
    yield './sqla_nose.py (a worker per CPU)', nose + extra
    yield './sqla_nose.py --processes %d' % workers, \
        nose + ['--processes', str(workers)] + extra
    yield 'pytest', pytest + extra
    if importlib.util.find_spec('xdist') is not None:
        yield 'pytest -n %d' % workers, pytest + ['-n', str(workers)] + extra


def counts(output):
    """'N tests' (nose2) or pytest's summary line, from a run's output."""
    nose = re.findall(r'^Ran (\d+) tests? in .*$', output, re.M)
    if nose:
        outcome = re.findall(r'^(OK|FAILED)\b.*$', output, re.M)
        return '%s tests, %s' % (nose[-1], outcome[-1] if outcome else '?')
    pytest = re.findall(r'^=*\s*(\d+ passed.*?) in [\d.]+s', output, re.M)
    return pytest[-1] if pytest else '?'


def timed(command, cwd=ROOT):
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    return time.perf_counter() - started, result.returncode, \
        counts(result.stdout)


def export(revision, directory):
    """Write git revision ``revision`` of this repository into
    ``directory``; an error message, or None."""
    archive = subprocess.run(['git', 'archive', '--format=tar', revision],
                             cwd=ROOT, capture_output=True)
    if archive.returncode:
        return archive.stderr.decode(errors='replace').strip() or \
            'git archive failed'
    subprocess.run(['tar', '-x', '-C', directory], input=archive.stdout,
                   check=True)
    return None


def compare(revision, rounds, extra):
    """Time the default run here and at ``revision``, alternately."""
    directory = tempfile.mkdtemp(prefix='audit_alembic_suite_time_')
    try:
        problem = export(revision, directory)
        if problem:
            print('suite_time.py: error: cannot export %r: %s'
                  % (revision, problem.splitlines()[0]), file=sys.stderr)
            return 2
        runs = {'this checkout': [], revision: []}
        for _ in range(rounds):
            for name, root in (('this checkout', ROOT),
                               (revision, directory)):
                runs[name].append(timed(
                    [sys.executable, os.path.join(root, 'sqla_nose.py')] +
                    extra, cwd=root))
        medians = {}
        for name, results in runs.items():
            medians[name] = statistics.median(run[0] for run in results)
            print('./sqla_nose.py of %-20s %6.1fs  exit %d  %s' % (
                name, medians[name], results[-1][1], results[-1][2]),
                flush=True)
        print('ratio: %.2f' % (medians['this checkout'] / medians[revision]))
        return 1 if any(run[1] for run in runs['this checkout']) else 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        usage='%(prog)s [--workers N | --against REVISION] [--rounds N] '
              '[ARGUMENT...]')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--against', metavar='REVISION')
    args, extra = parser.parse_known_args(argv)
    if args.workers < 1 or args.rounds < 1:
        parser.error('--workers and --rounds take a number of 1 or more')
    print('load average before: %.2f %.2f %.2f' % os.getloadavg(),
          flush=True)
    if args.against:
        code = compare(args.against, args.rounds, extra)
        print('load average after:  %.2f %.2f %.2f' % os.getloadavg())
        return code
    failed = False
    for name, command in commands(args.workers, extra):
        runs = [timed(command) for _ in range(args.rounds)]
        seconds = statistics.median(run[0] for run in runs)
        code, summary = runs[-1][1], runs[-1][2]
        failed = failed or any(run[1] for run in runs)
        print('%-34s %6.1fs  exit %d  %s' % (name, seconds, code, summary),
              flush=True)
    print('load average after:  %.2f %.2f %.2f' % os.getloadavg())
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
