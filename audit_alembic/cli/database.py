"""The database the command line works on: its URL, from ``--url`` or from
``sqlalchemy.url`` of an Alembic config file, with messages naming the
options to use; the commands open it with :func:`connect`.

Every failure becomes a one-line :class:`~audit_alembic.exc.CommandError`
whose URLs have their password masked.  :func:`connect`,
:func:`require_driver` and :func:`masked` are the library's
(:mod:`audit_alembic.engines`, :mod:`audit_alembic.masking`), here for
the commands.
"""
import configparser
import os
import pathlib

from ..engines import URL_EXAMPLES
from ..engines import connect
from ..engines import require_driver
from ..engines import show_path
from ..errors import config_problem
from ..exc import CommandError
from ..masking import masked
from ..masking import password_holds_at

__all__ = ['parse_url', 'url_from_config', 'connect', 'require_driver',
           'masked']


def parse_url(text, source):
    """The SQLAlchemy URL in ``text``; ``source`` says where it came from.

    :raise CommandError: if it is not a URL.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    text = text.strip()
    if password_holds_at(text):
        raise CommandError(
            'malformed URL %r in %s: an @ follows its password; write an '
            "@ in a user name, password or query value as %%40"
            % (masked(text), source))
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as err:
        # The message of a ValueError may quote the password.
        reason = (' (the port is not a number)' if str(err).startswith(
            'invalid literal for int()') else '')
        raise CommandError('malformed URL %r in %s%s; expected a SQLAlchemy '
                           'URL, %s' % (masked(text), source, reason,
                                        URL_EXAMPLES)) from None


def url_from_config(path, section):
    """``sqlalchemy.url`` of section ``section`` of Alembic config ``path``.

    Read the way Alembic reads it, with ``%(here)s`` standing for the
    file's directory.

    :raise CommandError: if the file, the section or the option is
        missing or unreadable.
    """
    if not os.path.isfile(path):
        raise CommandError(
            'no Alembic config file %s; pass -c FILE, or --url URL'
            % show_path(path))
    here = pathlib.Path(path).absolute().parent.as_posix()
    parser = configparser.ConfigParser({'here': here})
    try:
        parser.read(path, encoding='utf-8')
        if not parser.has_section(section):
            raise CommandError(
                '%s has no [%s] section; name the section with -n NAME'
                % (show_path(path), section))
        raw = parser.get(section, 'sqlalchemy.url', fallback='').strip()
    except configparser.InterpolationError as err:
        # Its message quotes the value, which may hold a password.
        raise CommandError(
            'cannot read %s: bad %%-interpolation in option %s of [%s] '
            '(write a literal %% as %%%%)'
            % (show_path(path), err.option, err.section)) from None
    except (configparser.Error, UnicodeDecodeError) as err:
        raise CommandError('cannot read %s: %s' % (
            show_path(path), config_problem(err))) from None
    if not raw:
        raise CommandError(
            '%s has no sqlalchemy.url in its [%s] section; add one, or pass '
            '--url URL' % (show_path(path), section))
    return parse_url(raw, 'sqlalchemy.url of %s' % show_path(path))
