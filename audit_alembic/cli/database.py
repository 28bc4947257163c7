"""The database the command line works on: its URL, from ``--url`` or from
``sqlalchemy.url`` of an Alembic config file (read by :mod:`.config`),
with messages naming the options to use; the commands open it with
:func:`connect`.

Every failure becomes a one-line :class:`~audit_alembic.exc.CommandError`
whose URLs have their password masked.  :func:`connect`,
:func:`require_driver` and :func:`masked` are the library's
(:mod:`audit_alembic.engines`, :mod:`audit_alembic.masking`), here for
the commands.
"""
from ..engines import URL_EXAMPLES
from ..engines import connect
from ..engines import require_driver
from ..exc import CommandError
from ..masking import masked
from ..masking import password_holds_at

__all__ = ['parse_url', 'connect', 'require_driver', 'masked']


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
