"""The runner-agnostic core of the test plugins.

Options are declared once, in :data:`OPTIONS`; each runner adapter hands
them to its own parser.  Work is split in two phases, as in SQLAlchemy's
test plugin:

* :func:`pre_begin`, before coverage starts: configure logging, read the
  ``[db]`` aliases, resolve and check the requested targets.  Nothing from
  :mod:`audit_alembic` is imported (its ``paths.py`` and ``masking.py``
  are loaded by file path).
* :func:`post_begin`, after coverage starts: connect to the targets,
  honour ``--dropfirst`` and publish them in
  :mod:`audit_alembic.testing.config`.

Bad input raises :class:`UsageError`, whose message is one line fit to
show the user; adapters print it and exit nonzero.
"""
import configparser
import logging
import os
import re
import sys

if __package__:
    from ... import masking
    from ... import paths
else:
    import audit_alembic_masking as masking
    import audit_alembic_paths as paths

#: The checkout root, where setup.cfg, test.cfg and test/ are.
ROOT = paths.PACKAGE_ROOT
CONFIG_FILES = ('setup.cfg', 'test.cfg')
GROUP = 'audit-alembic'
GROUP_DESCRIPTION = 'Database targets and logging for the Audit-Alembic suite'


class UsageError(Exception):
    """Bad input from the command line or a config file; one-line message."""


def _target(kind):
    def tag(value):
        return (kind, value)
    tag.__name__ = kind  # argparse names the type in its error messages
    return tag


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
        help='drop every table of the target databases before running')),
    (('--log-info',), dict(
        action='append', dest='log_info', metavar='LOGGER',
        help='show the INFO records of LOGGER on the console (repeatable)')),
    (('--log-debug',), dict(
        action='append', dest='log_debug', metavar='LOGGER',
        help='show the DEBUG records of LOGGER on the console (repeatable)')),
]


def setup_options(make_option):
    """Declare every option through ``make_option(*flags, **keywords)``."""
    for flags, keywords in OPTIONS:
        make_option(*flags, **keywords)


def mask(url):
    """``url`` with its passwords replaced by ``***``."""
    return masking.masked(url)


def read_aliases(root=ROOT):
    """The ``[db]`` aliases of setup.cfg, overridden by test.cfg."""
    parser = configparser.ConfigParser(interpolation=None)
    for name in CONFIG_FILES:
        path = os.path.join(root, name)
        try:
            parser.read(path)
        except configparser.Error as err:
            raise UsageError('malformed %s: %s' % (name, _config_problem(err)))
    return dict(parser.items('db')) if parser.has_section('db') else {}


def _config_problem(err):
    from audit_alembic.database import config_problem  # the run ends here
    return config_problem(err)


def format_aliases(aliases):
    """The ``--dbs`` listing."""
    width = max([len(name) for name in aliases] + [10])
    lines = ['Available --db options (use --dburi to override)']
    lines += ['%*s    %s' % (width, name, mask(url))
              for name, url in sorted(aliases.items())]
    return '\n'.join(lines)


def resolve_targets(requested, aliases):
    """Turn ``--db``/``--dburi`` values, in command-line order, into
    ``(label, URL)`` pairs; labels are unique identifiers."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    requested = requested or [('db', 'default')]
    targets, labels = [], set()
    for kind, value in requested:
        if kind == 'db':
            if value not in aliases:
                raise UsageError('unknown --db alias %r; valid aliases: %s'
                                 % (value, ', '.join(sorted(aliases))))
            label, raw, source = value, aliases[value], '[db] alias %r' % value
        else:
            label, raw, source = None, value, '--dburi'
        if masking.password_holds_at(raw):
            raise UsageError(
                "malformed %s: %r: an @ follows its password; write an @ in "
                "a user name, password or query value as %%40"
                % (source, mask(raw)))
        try:
            url = make_url(raw)
        except (ArgumentError, ValueError):  # ValueError: a bad port
            raise UsageError('malformed %s: %r is not a SQLAlchemy URL'
                             % (source, mask(raw))) from None
        label = re.sub(r'\W+', '_', label or url.get_backend_name())
        base, n = label, 1
        while label in labels:
            n += 1
            label = '%s_%d' % (base, n)
        labels.add(label)
        targets.append((label, url))
    return targets


def configure_logging(log_info, log_debug, stream=None):
    """Show the named loggers' records on the console at the given level.

    The records still propagate, so the runner's own log capture (pytest's
    ``caplog``, nose2's ``--log-capture``) sees them too.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        logging.Formatter('%(levelname)s %(name)s %(message)s'))
    for names, level in ((log_info, logging.INFO), (log_debug, logging.DEBUG)):
        for name in names or ():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if handler not in logger.handlers:
                logger.addHandler(handler)


#: Targets resolved by pre_begin, handed to post_begin.
_targets = []
_options = None


def pre_begin(options):
    """Phase one; returns a message to print and exit 0 with, or None."""
    global _options
    _options = options
    configure_logging(options.log_info, options.log_debug)
    aliases = read_aliases()
    if options.list_dbs:
        return format_aliases(aliases)
    _targets[:] = resolve_targets(options.targets, aliases)
    return None


def post_begin():
    """Phase two: connect, honour --dropfirst, publish the targets."""
    from audit_alembic.testing import config
    from audit_alembic.testing import provision
    try:
        config.set_targets(provision.connect_all(
            [provision.Target(label, url) for label, url in _targets]))
        if _options.dropfirst:
            for target in config.targets:
                print(provision.drop_all_tables(target), file=sys.stderr)
    except provision.TargetError as err:
        raise UsageError(str(err)) from None


def describe_targets():
    """One line naming the targets, passwords masked."""
    return 'Database target%s: %s' % (
        's' if len(_targets) > 1 else '',
        ', '.join('%s (%s)' % (label, mask(url)) for label, url in _targets))
