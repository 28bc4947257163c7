"""Describing an error on one line, with no secret in it: for the history
table's ``error`` column (:func:`describe_failure`), and for a message
to the console (:func:`describe_error`, :func:`config_problem`).

Standard library only at import time; SQLAlchemy's exception classes
are imported when needed.
"""
import configparser
import re
from typing import TYPE_CHECKING
from typing import Optional
from typing import Sequence

from .masking import MASK
from .masking import hide_passwords
from .masking import hide_secret_values
from .masking import hide_secrets
from .masking import secrets_of
from .values import ERROR_LENGTH

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def describe_failure(error: BaseException,
                     url: Optional['URL'] = None) -> str:
    """``error`` as ``'module.Class: message'``, at most
    :data:`.values.ERROR_LENGTH` characters, with no secret in it.

    For an error SQLAlchemy raised for a statement (a
    :class:`~sqlalchemy.exc.StatementError`, such as a ``DBAPIError``),
    the message is the driver's (``(module.Class) message`` of its
    ``orig``): the statement and its bound parameters are left out, and
    a text parameter the driver quotes in its message is hidden.  Any
    other message loses SQLAlchemy's ``[SQL: ...]`` and ``[parameters:
    ...]`` sections and what follows them.  Then every secret is hidden
    where it stands (:func:`.masking.hide_secret_values`: URLs, SQL
    password clauses, ``password=...`` settings), the passwords of
    ``url`` never as bare substrings of the text.
    """
    name = _class_name(type(error))
    message = _failure_message(error)
    found = _STATEMENT_DETAILS.search(message)
    if found is not None:
        message = message[:found.start()]
    text = '%s: %s' % (name, message) if message else name
    secrets: Sequence[str] = secrets_of(url) if url is not None else ()
    return hide_secret_values(text, secrets)[:ERROR_LENGTH]


# Where SQLAlchemy's str() of a StatementError appends the statement, its
# parameters and a link.
_STATEMENT_DETAILS = re.compile(
    r'\s*(?:\[SQL: |\[parameters: |\(Background on this error at: )')
#: How many text parameters :func:`describe_failure` hides at most.
_MAX_PARAMETERS = 1000


def _class_name(cls: type[object]) -> str:
    name = cls.__qualname__
    if cls.__module__ not in ('builtins', '__main__'):
        name = '%s.%s' % (cls.__module__, name)
    return name


def _failure_message(error: BaseException) -> str:
    from sqlalchemy.exc import StatementError
    orig = getattr(error, 'orig', None)
    if not isinstance(error, StatementError) or orig is None:
        return str(error)
    message = '(%s) %s' % (_class_name(type(orig)), orig)
    for value in _text_parameters(error.params):
        # As drivers quote a value: "tok", 'tok', Key (t)=(tok).
        message = re.sub(r'''(['"(])%s(?=['")])''' % re.escape(value),
                         lambda found: found.group(1) + MASK, message)
    return message


def _text_parameters(params: object) -> list[str]:
    """The non-empty text values in ``params`` (a dict, a sequence, or a
    list of them for ``executemany``), longest first."""
    values: set[str] = set()
    todo: list[object] = [params]
    while todo and len(values) < _MAX_PARAMETERS:
        item = todo.pop()
        if isinstance(item, str):
            if item:
                values.add(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
    return sorted(values, key=len, reverse=True)


def failure_summary(error: BaseException,
                    url: Optional['URL'] = None) -> str:
    """The first line of :func:`describe_failure` of ``error``."""
    return describe_failure(error, url).split('\n', 1)[0]


def first_line(error: Optional[BaseException]) -> str:
    """The first line of ``error``'s message, or its class name if it has
    none (a driver error's ``orig`` may be None: ``'None'``)."""
    text = str(error).strip()
    return text.split('\n', 1)[0] if text else type(error).__name__


def describe_error(err: BaseException, url: 'URL') -> str:
    """The driver's message for ``err`` on one line, passwords hidden."""
    return hide_secrets(_joined_lines(getattr(err, 'orig', None) or err), url)


def _joined_lines(err: object) -> str:
    return ' '.join(line.strip() for line in str(err).splitlines()
                    if line.strip())


def config_problem(err: Exception) -> str:
    """A :mod:`configparser` error in one line: the line number and what
    is wrong there, passwords hidden."""
    if isinstance(err, configparser.MissingSectionHeaderError):
        return hide_passwords('line %d: no [section] header before %s' % (
            err.lineno, err.line.strip()))
    if isinstance(err, configparser.ParsingError) and err.errors:
        lineno, line = err.errors[0]
        return hide_passwords(
            'line %d: cannot parse %s' % (lineno, line.strip()))
    message = re.sub(r"^While reading from .*?\[line\s+(\d+)\]: ",
                     r'line \1: ', _joined_lines(err))
    return hide_passwords(message)
