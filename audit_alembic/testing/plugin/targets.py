"""The database targets a run names: ``[db]`` aliases and URLs.

Reads the ``[db]`` aliases of setup.cfg and test.cfg, lists them for
``--dbs`` (with the per-run databases killed runs left behind), and turns
``--db``/``--dburi`` values into labelled SQLAlchemy URLs.  Bad input
raises :class:`UsageError`, whose message is one line fit to show the
user.

Like :mod:`plugin_base`, it runs before coverage starts: loaded by file
path (see :mod:`bootstrap`), it imports nothing from :mod:`audit_alembic`
at import time.
"""
import configparser
import os
import re

if __package__:
    from ... import masking
    from ... import paths
else:
    import audit_alembic_masking as masking
    import audit_alembic_paths as paths

#: The checkout root, where setup.cfg, test.cfg and test/ are.
ROOT = paths.PACKAGE_ROOT
CONFIG_FILES = ('setup.cfg', 'test.cfg')


class UsageError(Exception):
    """Bad input from the command line or a config file; one-line message."""


def mask(url):
    """``url`` with its passwords replaced by ``***``."""
    return masking.masked(url)


def read_aliases(root=ROOT):
    """The ``[db]`` aliases of setup.cfg, overridden by test.cfg."""
    parser = configparser.ConfigParser(interpolation=None)
    for name in CONFIG_FILES:
        path = os.path.join(root, name)
        try:
            parser.read(path, encoding='utf-8')
        except configparser.Error as err:
            raise UsageError('malformed %s: %s' % (name, _config_problem(err)))
        except UnicodeDecodeError as err:
            raise UsageError('cannot read %s: not UTF-8 text (byte %d)'
                             % (name, err.start)) from None
    return dict(parser.items('db')) if parser.has_section('db') else {}


def _config_problem(err):
    from audit_alembic.errors import config_problem  # the run ends here
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


def list_leftovers(aliases):
    """Lines naming leftover per-run databases of killed runs on the
    servers and SQLite files of the aliases; '' if there are none."""
    from audit_alembic.testing import leftovers
    seen, lines = set(), []
    for name in sorted(aliases):
        try:
            (label, url), = resolve_targets([('db', name)], aliases)
        except UsageError:
            continue  # listed above; not a URL whose server can be asked
        key = (url.get_backend_name(), url.host, url.port,
               url.database if url.get_backend_name() == 'sqlite' else None)
        if key in seen:
            continue
        seen.add(key)
        names = leftovers.reachable_leftovers(url)
        if names:
            lines.append('Leftover per-run databases on %s (drop them with '
                         '--dropfirst): %s' % (mask(url), ', '.join(names)))
    return ''.join('\n' + line for line in lines)


def describe(targets):
    """One line naming ``(label, URL)`` targets, passwords masked."""
    return 'Database target%s: %s' % (
        's' if len(targets) > 1 else '',
        ', '.join('%s (%s)' % (label, mask(url)) for label, url in targets))
