#!/usr/bin/env python
"""How long the default SQLite run of the whole suite takes, serially and
in worker processes, under nose2 and under pytest.

    python bench/suite_time.py [--workers 2] [--rounds 1] [ARGUMENT...]

Runs, in turn, ``./sqla_nose.py --processes 1`` (serial),
``./sqla_nose.py`` (its default: a worker per CPU), ``./sqla_nose.py
--processes N``, ``python -m pytest`` and ``python -m pytest -n N`` (skipped if
pytest-xdist is not installed) from the checkout root, each with the
extra ARGUMENTs, and prints the wall time of each (the median, with
``--rounds`` above 1), its exit status and its counts, side by side.
The machine's load average is printed too: these figures mean little on
a busy machine.
"""
import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
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


def timed(command):
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    return time.perf_counter() - started, result.returncode, \
        counts(result.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        usage='%(prog)s [--workers N] [--rounds N] [ARGUMENT...]')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=1)
    args, extra = parser.parse_known_args(argv)
    if args.workers < 1 or args.rounds < 1:
        parser.error('--workers and --rounds take a number of 1 or more')
    print('load average before: %.2f %.2f %.2f' % os.getloadavg(),
          flush=True)
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
