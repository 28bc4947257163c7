"""The runner-agnostic core of the test plugins.

Options are declared once, in :data:`OPTIONS`; each runner adapter hands
them to its own parser, and :func:`pre_begin` keeps what it parsed in
:data:`options`.  Work is split in two phases, as in SQLAlchemy's test
plugin:

* :func:`pre_begin`, before coverage starts: configure logging, read the
  ``[db]`` aliases, resolve and check the requested targets (see
  :mod:`targets`).  Nothing from :mod:`audit_alembic` is imported (its
  ``paths.py`` and ``masking.py`` are loaded by file path).
* :func:`post_begin`, after coverage starts: connect to the targets,
  give each a database of its own and publish them in
  :mod:`audit_alembic.testing.config`; :func:`drop_first` honours
  ``--dropfirst``, :func:`finish` drops what the run made.

:func:`generate_sub_tests` makes the per-target copies of ``__backend__``
test classes that both runners collect.  The adapters own their
processes: signals, exit hooks and worker processes.  Bad input raises
:class:`UsageError`; adapters print its one line and exit nonzero.
"""
import inspect
import logging
import os
import sys

if __package__:
    from . import targets
else:
    import audit_alembic_plugin_targets as targets

GROUP = 'audit-alembic'
GROUP_DESCRIPTION = 'Database targets and logging for the Audit-Alembic suite'
#: Bad input; raised by :mod:`targets` too.
UsageError = targets.UsageError


def _target(kind):
    def tag(value):
        return (kind, value)
    tag.__name__ = kind  # argparse names the type in its error messages
    return tag


def _logger(name):
    if not name.strip():
        raise ValueError('empty logger name')
    return name.strip()


_logger.__name__ = 'logger name'

#: (flags, argparse keywords) of every option the plugins add.
OPTIONS = [
    (('--db',), dict(
        action='append', dest='targets', type=_target('db'), metavar='NAME',
        help='run against the database alias NAME from the [db] section '
             'of setup.cfg or test.cfg (repeatable; see --dbs)')),
    (('--dburi',), dict(
        action='append', dest='targets', type=_target('dburi'),
        metavar='URL', help='run against this SQLAlchemy URL (repeatable)')),
    (('--dbs',), dict(
        action='store_true', dest='list_dbs',
        help='list the --db aliases with their URLs and exit')),
    (('--dropfirst',), dict(
        action='store_true', dest='dropfirst',
        help='drop the per-run databases killed runs left behind (or, '
             'where the role may not create databases, every table of '
             'the target databases) before running')),
    (('--all-targets',), dict(
        action='store_true', dest='all_targets',
        help='under nose2, run __backend__ test classes against every '
             'target, not only the first (pytest always does)')),
    (('--log-info',), dict(
        action='append', dest='log_info', metavar='LOGGER', type=_logger,
        help='show the INFO records of LOGGER on the console (repeatable)')),
    (('--log-debug',), dict(
        action='append', dest='log_debug', metavar='LOGGER', type=_logger,
        help='show the DEBUG records of LOGGER on the console (repeatable)')),
]

#: The parsed options of this run (the runner's own namespace), set by
#: :func:`pre_begin`.
options = None
#: ``(label, URL)`` of every target the options name, set by
#: :func:`pre_begin`.
requested_targets = []


def setup_options(make_option):
    """Declare every option through ``make_option(*flags, **keywords)``."""
    for flags, keywords in OPTIONS:
        make_option(*flags, **keywords)


#: The attribute the ``--log-*`` console handler sets on what it shows.
SHOWN = 'audit_alembic_on_console'


class _MarkShown(logging.Filter):
    def filter(self, record):
        setattr(record, SHOWN, True)
        return True


class NotShownTwice(logging.Filter):
    """For another console handler (nose2 puts one on the root logger):
    leaves out the records the ``--log-*`` handler has shown."""

    def filter(self, record):
        return not getattr(record, SHOWN, False)


def configure_logging(log_info, log_debug, stream=None):
    """Show the named loggers' records on the console at the given level.

    The records still propagate, so the runner's own log capture (pytest's
    ``caplog``, nose2's ``--log-capture``) sees them too.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        logging.Formatter('%(levelname)s %(name)s %(message)s'))
    handler.addFilter(_MarkShown())
    for names, level in ((log_info, logging.INFO), (log_debug, logging.DEBUG)):
        for name in names or ():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if handler not in logger.handlers:
                logger.addHandler(handler)


def pre_begin(parsed):
    """Phase one; returns a message to print and exit 0 with, or None."""
    global options
    options = parsed
    configure_logging(options.log_info, options.log_debug)
    aliases = targets.read_aliases()
    if options.list_dbs:
        return targets.format_aliases(aliases) + \
            targets.list_leftovers(aliases)
    requested_targets[:] = targets.resolve_targets(options.targets, aliases)
    return None


def post_begin(used=None):
    """Phase two: connect and move each target used into a database of
    its own, publish the targets.

    ``used`` is how many targets tests use (None: all); only those are
    connected.  Adapters arrange for :func:`finish` to run at exit
    first: it drops what this call made, also if it fails half-way.
    """
    from audit_alembic.testing import config
    from audit_alembic.testing import provision
    run_targets = [provision.Target(label, url)
                   for label, url in requested_targets[:used]]
    for target in run_targets:
        provision.own_file_database(target)
    try:
        config.set_targets(provision.connect_all(run_targets))
        for target in config.targets:
            provision.create_own_database(target, warn=provision.warn)
    except provision.TargetError as err:
        raise UsageError(str(err)) from None


def one_worker_only():
    """Whether the run must use one worker: a target used runs in its
    configured database, shared, because the role may not create one
    (workers would collide on its tables)."""
    from audit_alembic.testing import config
    from audit_alembic.testing import provision
    return any(provision.shares_database(target)
               for target in config.targets)


def drop_first():
    """Honour --dropfirst on the targets tests use."""
    from audit_alembic.testing import config
    from audit_alembic.testing import leftovers
    if not options.dropfirst:
        return
    for target in config.targets:
        try:
            if target.isolated:
                message = leftovers.drop_leftovers(target)
            else:
                message = leftovers.drop_all_tables(target)
        except Exception as err:
            from audit_alembic.errors import describe_error
            raise UsageError('--dropfirst failed on %s: %s' % (
                target.safe_url, describe_error(err, target.url))) from None
        print(message, file=sys.stderr)


def finish():
    """Drop the databases this process created; in the process that
    started the run, also those its workers left (crashed ones too).
    Safe to call again."""
    from audit_alembic.testing import config
    from audit_alembic.testing import leftovers
    from audit_alembic.testing import provision
    started_run = provision.RUN_PID == os.getpid()
    for target in config.targets:
        try:
            provision.drop_own_database(target)
            if started_run:
                leftovers.drop_leftovers(target, pid=os.getpid())
        except Exception as err:  # report, and go on with the others
            print('warning: could not drop the per-run database on %s: %s'
                  % (target.safe_url, ' '.join(str(err).split())),
                  file=sys.stderr)
        finally:
            # What the drops left in the pools: closed now, not by the
            # garbage collector at exit (a ResourceWarning of psycopg).
            provision.close_engines(target)


def is_backend_class(obj):
    """Whether ``obj`` is a test class to run once per target: it sets
    ``__backend__`` and is not bound to a target already."""
    return inspect.isclass(obj) and bool(getattr(obj, '__backend__', False)) \
        and '__target__' not in vars(obj)


def generate_sub_tests(cls, module, run_targets):
    """The test classes to run for ``cls``.

    For a ``__backend__`` class (see :func:`is_backend_class`), a subclass
    per target of ``run_targets``, named ``<Class>_<label>`` and bound to
    that target by its label (which each process, workers too, resolves
    to a target of its own); each is set on ``module``, where runners look
    classes up by name, and one made earlier is reused.  For any other
    class, ``cls`` itself.
    """
    if not is_backend_class(cls):
        yield cls
        return
    for target in run_targets:
        name = '%s_%s' % (cls.__name__, target.label)
        per_target = getattr(module, name, None)
        if per_target is None:
            per_target = type(name, (cls,), {
                '__target__': target.label, '__module__': cls.__module__,
                '__qualname__': name})
            setattr(module, name, per_target)
        yield per_target


def describe_targets():
    """One line naming the targets, passwords masked."""
    return targets.describe(requested_targets)
