"""The ``audit-alembic`` command line (also ``python -m audit_alembic``).

Each command is a module of this package with ``add_parser(commands)``
and ``run(args)``; this module only wires them into one parser and turns
failures into exit statuses, the same in every command: 0 all good; 1
the check found something (:class:`~audit_alembic.exc.CheckFailed`); 2
it could not check (any other :class:`~audit_alembic.exc.CommandError`,
a usage error); 130 interrupted.  Errors are one line on stderr.  What
the commands share lives in modules of their own:
:mod:`.options` and :mod:`.layout` (options, and the history table's
column names), :mod:`.project` (the scripts, the version table, the
tables) and :mod:`.output` (everything written); :mod:`.checks` holds the
checks of ``verify``.  Commands never import each other; the demo runs
the others.

Only the standard library is imported until a command runs, so that
``--help`` stays quick; even that happens inside :func:`main`, so that
Ctrl-C at any moment after the package is imported ends in one line.
"""
import importlib
import os
import sys

from .. import __version__
from ..exc import CommandError

PROG = 'audit-alembic'
#: The command modules, in the order ``--help`` lists them.
COMMANDS = ('history', 'status', 'verify', 'drift', 'digest', 'report',
            'accept', 'demo')


def build_parser():
    """The argument parser of ``audit-alembic`` and its commands.

    Every command's help is wrapped to the terminal (see
    :mod:`.helptext`) and ends with the exit statuses they all share.
    """
    import argparse

    from . import helptext
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Read the history that Audit-Alembic records of every '
                    'Alembic upgrade, downgrade and stamp.',
        epilog=helptext.EXIT_STATUSES,
        formatter_class=helptext.HelpFormatter)
    parser.add_argument('--version', action='version',
                        version='%(prog)s ' + __version__)
    commands = parser.add_subparsers(title='commands', dest='command',
                                     metavar='COMMAND', required=True)
    for name in COMMANDS:
        module = importlib.import_module('.' + name, __name__)
        command = module.add_parser(commands)
        command.formatter_class = helptext.HelpFormatter
        command.epilog = helptext.with_exit_statuses(command.epilog)
        command.set_defaults(run=module.run)
    return parser


def _ignore_more_interrupts():
    """Let a second Ctrl-C not interrupt the message and the exit, where
    Python's own handler would (not where a caller installed one)."""
    import signal
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread
            pass


def _forget_the_interrupt():
    """Keep ``python -m audit_alembic`` from dying by SIGINT at exit.

    CPython notes a KeyboardInterrupt that ends code run by ``exec`` of a
    string (SQLAlchemy defines functions that way while it is imported)
    as unhandled, even once caught, and under ``-m`` kills the process
    with SIGINT at exit.  Running a string that ends well clears the note.
    """
    exec('')


class _SwallowedInterrupts:
    """Notes a Ctrl-C that Python swallows: a KeyboardInterrupt raised
    inside a callback (e.g. of importlib's module locks while a module is
    imported) is only reported as "ignored", and the command goes on.
    With this in place it is not printed, and :func:`main` still ends as
    interrupted."""

    def __enter__(self):
        self.seen = False
        self._previous = sys.unraisablehook
        sys.unraisablehook = self._hook
        return self

    def _hook(self, unraisable):
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.seen = True
        else:
            self._previous(unraisable)

    def __exit__(self, *exc_info):
        sys.unraisablehook = self._previous


def _interrupted():
    _ignore_more_interrupts()
    _forget_the_interrupt()
    print('%s: interrupted' % PROG, file=sys.stderr)
    return 130


def main(argv=None):
    """Run ``audit-alembic`` with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 when all is good, 1 when the check found
    something (:class:`~audit_alembic.exc.CheckFailed`), 2 when it could
    not check (a :class:`~audit_alembic.exc.CommandError`; usage errors
    exit with status 2 from the argument parser), 130 when interrupted
    (Ctrl-C).
    """
    with _SwallowedInterrupts() as swallowed:
        try:
            args = build_parser().parse_args(argv)
            if hasattr(sys.stdout, 'reconfigure'):
                # Text the terminal cannot show comes out escaped.
                sys.stdout.reconfigure(errors='backslashreplace')
            args.run(args)
            sys.stdout.flush()
        except CommandError as err:
            if swallowed.seen:
                return _interrupted()
            sys.stdout.flush()
            print('%s: error: %s' % (PROG, err), file=sys.stderr)
            return err.exit_status
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, and keep
            # Python from complaining while it flushes stdout at exit.  The
            # output was cut short: the command could not finish.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return CommandError.exit_status
        except KeyboardInterrupt:
            return _interrupted()
        if swallowed.seen:
            return _interrupted()
    return 0
