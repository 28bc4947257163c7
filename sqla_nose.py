#!/usr/bin/env python3
"""Run the Audit-Alembic test suite under nose2, nose style.

    ./sqla_nose.py [-v] [--db NAME | --dburi URL ...] [--processes N]
                   [test names]

Puts this checkout first on ``sys.path``, loads the runner plugin by file
path (so ``--with-coverage`` sees ``audit_alembic`` imported), and runs
nose2 on ``test/``, in one worker process per CPU (nose2's mp plugin)
unless ``--processes N`` says otherwise; ``--processes 1`` runs the
tests in this process.  Where Python was built without ``sqlite3``, the
plugin's bootstrap stands pysqlite3 in for it.  ``./sqla_nose.py --help``
lists every option; see README.unittests.rst.
"""
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(ROOT, 'audit_alembic', 'testing', 'plugin',
                         'bootstrap.py')


def put_checkout_first():
    """Make the local audit_alembic and test packages win over any other."""
    sys.path[:] = [ROOT] + [p for p in sys.path
                            if os.path.abspath(p or '.') != ROOT]
    stale_test = sys.modules.get('test')
    if stale_test is not None and not getattr(
            stale_test, '__file__', '').startswith(ROOT):
        for name in [n for n in sys.modules if n.split('.')[0] == 'test']:
            del sys.modules[name]


def fail(message):
    """Exit with status 2 and a one-line error."""
    print('%s: error: %s' % (os.path.basename(sys.argv[0]), message),
          file=sys.stderr)
    sys.exit(2)


def split_processes(argv):
    """The number a --processes/-N option gives, or None, and ``argv``
    without that option; a value that is not a positive number is a
    usage error."""
    count, rest, i = None, [], 0
    while i < len(argv):
        arg, value, taken = argv[i], None, 1
        if arg in ('--processes', '-N'):
            flag = arg
            value = argv[i + 1] if i + 1 < len(argv) else None
            taken = 2
        elif arg.startswith('--processes='):
            flag, value = '--processes', arg[len('--processes='):]
        elif arg.startswith('-N') and not arg.startswith('--'):
            flag, value = '-N', arg[2:].lstrip('=')
        else:
            rest.append(arg)
            i += 1
            continue
        if value is None or not value.isdigit() or int(value) < 1:
            fail('%s takes a number of processes of 1 or more, not %s'
                 % (flag, 'nothing' if value is None else repr(value)))
        count = int(value)
        i += taken
    return count, rest


def usable_cpus():
    """How many CPUs this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def with_workers(argv):
    """``argv`` for nose2: one worker process per CPU (its mp plugin's
    ``--processes``) unless ``argv`` asks for another number; one process
    is this one, with no workers (where a debugger can be used)."""
    processes, argv = split_processes(argv)
    if processes is None:
        processes = usable_cpus()
    if processes > 1:
        argv = ['--processes', str(processes)] + argv
    return argv


def run_under_coverage(argv):
    """Run the suite with coverage driving it, subprocesses and worker
    processes measured too, then combine and report; nose2's own
    coverage plugin would start too late and warns that it is deprecated.
    """
    import subprocess
    environ = dict(os.environ, COVERAGE_RCFILE=os.path.join(ROOT, 'setup.cfg'),
                   COVERAGE_FILE=os.path.join(ROOT, '.coverage'))
    coverage = [sys.executable, '-m', 'coverage']
    subprocess.run(coverage + ['erase'], env=environ, cwd=ROOT)
    code = subprocess.run(coverage + ['run', os.path.abspath(__file__)] +
                          argv, env=environ).returncode
    subprocess.run(coverage + ['combine', '-q'], env=environ, cwd=ROOT)
    report = subprocess.run(coverage + ['report'], env=environ, cwd=ROOT)
    return code or report.returncode


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if '--with-coverage' in argv or '-C' in argv:
        sys.exit(run_under_coverage(
            [arg for arg in argv if arg not in ('--with-coverage', '-C')]))
    argv = with_workers(argv)
    put_checkout_first()
    adapter = runpy.run_path(BOOTSTRAP)['load_adapter']('nose')

    import nose2
    try:
        nose2.main(
            argv=[sys.argv[0],
                  '--top-level-directory', ROOT,
                  '--start-dir', os.path.join(ROOT, 'test'),
                  '--config', os.path.join(ROOT, 'setup.cfg')] + argv,
            module=None,
            plugins=[adapter.__name__, 'nose2.plugins.mp'])
    except adapter.WorkerCrashed as crash:
        print('%s: error: %s' % (os.path.basename(sys.argv[0]), crash),
              file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
