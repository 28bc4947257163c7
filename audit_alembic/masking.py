"""Hiding the passwords of database URLs, and of text that may quote them.

A URL is read as SQLAlchemy reads it (:func:`sqlalchemy.engine.make_url`);
where it cannot be read, or where its password may hold an ``@`` that
SQLAlchemy would take for the end of the password, everything between
``://`` and the last ``@`` is hidden.

Passwords are hidden where they stand (:func:`hide_secret_values`): in
URLs, as the values of settings named like a secret (``password=...``,
``"token": "..."``) and as the literals of SQL password clauses (``PASSWORD
'...'``, ``IDENTIFIED BY '...'``); never as bare substrings of free text,
where a short password would hide pieces of words.  Only
:func:`hide_secrets`, for the messages a driver gives when it cannot
connect, also hides a URL's password wherever it shows, if it is long
enough to mean anything.

Standard library and SQLAlchemy's URL only, imported when first needed:
the library, the command line and the test runner use this module (the
runner loads it by file path before coverage starts).
"""
import re
from typing import TYPE_CHECKING
from typing import Iterable
from typing import Union
from urllib.parse import quote
from urllib.parse import quote_plus

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: What a hidden password is shown as.
MASK = '***'
#: Query parameters some drivers take a password from.
SECRET_PARAMETERS = ('password', 'passwd', 'pwd', 'sslpassword')
_PLACEHOLDER = 'xxMASKEDxx'  # survives URL quoting, unlike '***'
_SECRET_QUERY = re.compile(r'\b((?:%s)=)[^&\s]*' % '|'.join(
    SECRET_PARAMETERS), re.IGNORECASE)
_SCHEME = '://'


def masked(url: Union[str, 'URL']) -> str:
    """``url`` (a SQLAlchemy URL or a string) as a string in which no
    character of a password shows: the one after the user name and any
    in the query string are ``***``.  The rest reads as the user wrote
    it: a string is kept but for its passwords; a URL object is shown
    with only the characters quoted that would change its meaning
    (``sqlite:///:memory:``, not ``sqlite:///%3Amemory%3A``)."""
    if isinstance(url, str):
        return _masked_text(url)
    text = _as_written(url)
    if url.password is not None and _has_stray_at(url):
        # Part of the password was read as host, database or query.
        text = hide_userinfo(text)
    return text


def _as_written(url: 'URL') -> str:
    """``url`` as text, the password and password parameters ``***``,
    each part as it reads (SQLAlchemy's ``render_as_string``
    percent-quotes every character of the database and the query that is
    not alphanumeric)."""
    text = url.drivername + _SCHEME
    if url.username is not None:
        text += quote(url.username, safe=' +!$&()*,;=~')
        if url.password is not None:
            text += ':' + MASK
        text += '@'
    if url.host is not None:
        text += '[%s]' % url.host if ':' in url.host else url.host
    if url.port is not None:
        text += ':%d' % url.port
    if url.database is not None:
        text += '/' + url.database.replace('%', '%25').replace('?', '%3F')
    pairs: list[str] = []
    for key, values in url.query.items():
        for value in [values] if isinstance(values, str) else values:
            if key.lower() in SECRET_PARAMETERS:
                value = MASK
            pairs.append('%s=%s' % (_query_part(key), _query_part(value)))
    if pairs:
        text += '?' + '&'.join(pairs)
    return text


def _query_part(text: str) -> str:
    return quote(text, safe=" !$'()*+,/:;@~")


def _has_stray_at(url: 'URL') -> bool:
    parts = [url.host or '', url.database or '']
    for key, value in url.query.items():
        parts.append(key)
        parts.extend([value] if isinstance(value, str) else value)
    return any('@' in part for part in parts)


def _masked_text(text: str) -> str:
    from sqlalchemy.engine import make_url
    try:
        url = make_url(text)
    except Exception:  # ArgumentError, or ValueError on a bad port
        return _hide_query_secrets(hide_userinfo(text, hide_port=True))
    if password_holds_at(text):
        return _hide_query_secrets(hide_userinfo(text))
    if url.password is not None:
        # As SQLAlchemy reads it: from the ':' after the user name to
        # the first '@'.
        start = text.index(_SCHEME) + len(_SCHEME)
        colon = text.index(':', start)
        text = text[:colon + 1] + MASK + text[text.index('@', colon):]
    return _hide_query_secrets(text)


def password_holds_at(text: str) -> bool:
    """Whether URL ``text`` has an ``@`` after the one ending its password,
    as SQLAlchemy reads it: the password probably holds an ``@`` that
    should have been written ``%40``, and its end was taken for the host,
    the database or the query."""
    start = text.find(_SCHEME)
    if start < 0:
        return False
    start += len(_SCHEME)
    colon = text.find(':', start)
    if colon < 0 or '/' in text[start:colon]:
        return False  # no user name with a password
    end = text.find('@', colon)
    return end >= 0 and '@' in text[end + 1:]


def hide_userinfo(text: str, hide_port: bool = False) -> str:
    """URL ``text`` with everything between ``://`` (or ``//``) and the last
    ``@`` shown as ``***``; with ``hide_port``, also a port that is not a
    number (where there is no ``@``, the password may have been taken
    for one)."""
    start = text.find(_SCHEME)
    if start >= 0:
        start += len(_SCHEME)
    else:
        start = text.find('//')
        start = 0 if start < 0 else start + 2
    end = text.rfind('@', start)
    if end >= 0:
        return text[:start] + MASK + text[end:]
    if hide_port:
        found = re.match(r'[^/?]*', text[start:])
        assert found is not None  # it matches any text, if only ''
        authority = found.group()
        user, colon, port = authority.partition(':')
        if colon and not port.isdigit():
            return text[:start] + user + colon + MASK + \
                text[start + len(authority):]
    return text


def _hide_query_secrets(text: str) -> str:
    return _SECRET_QUERY.sub(r'\1' + MASK, text)


def hide_passwords(text: str) -> str:
    """Free ``text`` (an error message, a config file line) with whatever
    may be a password in a URL hidden: everything between each ``://`` and
    the last ``@`` before the end of its line or the next URL, and the
    values of password query parameters."""
    return _hide_query_secrets(_hide_userinfos(text))


def _hide_userinfos(text: str) -> str:
    lines: list[str] = []
    for line in text.split('\n'):
        pieces = line.split(_SCHEME)
        for i in range(1, len(pieces)):
            end = pieces[i].rfind('@')
            if end >= 0:
                pieces[i] = MASK + pieces[i][end:]
        lines.append(_SCHEME.join(pieces))
    return '\n'.join(lines)


def secrets_of(url: 'URL') -> list[str]:
    """The passwords of SQLAlchemy URL ``url``, as given and as they may
    appear quoted: strings no output should contain."""
    values: list[Union[str, tuple[str, ...], None]] = [url.password, *(
        value for key, value in url.query.items()
        if key.lower() in SECRET_PARAMETERS)]
    secrets: set[str] = set()
    for value in values:
        for one in [value] if isinstance(value, str) else value or ():
            if one:
                secrets.update({one, quote(one, safe=''),
                                quote(one, safe=' +'), quote_plus(one)})
    return sorted(secrets, key=len, reverse=True)


def hide_secrets(text: str, url: 'URL') -> str:
    """``text`` (a driver's message) with every password of ``url`` of at
    least :data:`BARE_SECRET_LENGTH` characters hidden wherever it shows,
    and every secret hidden where it stands (:func:`hide_secret_values`):
    a shorter password is no sign of itself in free text."""
    secrets = secrets_of(url)
    for secret in secrets:
        if len(secret) >= BARE_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    return hide_secret_values(text, secrets)


#: The shortest password :func:`hide_secrets` hides as a bare substring.
BARE_SECRET_LENGTH = 4
#: Words that make a setting's value a secret when its name holds one
#: (``PGPASSWORD``, ``client_secret``, ``X-Api-Key``...).
SECRET_WORDS = ('password', 'passwd', 'pwd', 'secret', 'token', 'api_key',
                'apikey', 'api-key', 'access_key', 'private_key',
                'credential')

# A value, in its widest reading: quoted strings with the quotes escaped
# or doubled inside ('it''s', "a \"b\"", 'it'\''s'), a quoted string cut
# short (to the end of the text), or a bare word without its trailing
# punctuation.
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_QUOTED_VALUE = (r"""(?:[EeNn]|_\w+)?%s(?:%s|\\.|[^\s'"\\,;)\]}])*"""
                 % (_QUOTED, _QUOTED))
_CUT_SHORT = r"""['"][\s\S]*"""
_DOLLAR_QUOTED = r'\$(?P<tag>\w*)\$[\s\S]*?\$(?P=tag)\$'
_BARE = r"""[^\s'",;)\]}](?:\S*[^\s,;)\]}])?"""
_SQL_CLAUSES = [re.compile(pattern % {
    'quoted': _QUOTED_VALUE, 'dollar': _DOLLAR_QUOTED, 'cut': _CUT_SHORT,
    'bare': _BARE}, re.IGNORECASE | re.VERBOSE) for pattern in (
        # MySQL, MariaDB, Oracle; the value may be bare (Oracle).
        r"""\b(?P<keyword>
              IDENTIFIED \s+ (?:(?:WITH|VIA) \s+ \w+ \s+)? (?:BY|AS|USING)
                (?:\s+ PASSWORD\b)? \s* \(?
            | PASSWORD \s+ FOR \s+ \S+ \s* = \s* (?:PASSWORD \s* \()?
            | PASSWORD \s* \(
            \s*)
            (?P<value> %(quoted)s | %(dollar)s | %(cut)s | %(bare)s)""",
        # PostgreSQL (ENCRYPTED PASSWORD too): quoted values only, so
        # that "password authentication failed" stays.
        r"""\b(?P<keyword> PASSWORD \s+)
            (?P<value> %(quoted)s | %(dollar)s | %(cut)s)""")]
_SETTING = r"""(?<![\w.-])(?<!using\ )(?P<keyword>
        (?P<quote>['"]?) [\w.-]*? (?:%(words)s) [\w.-]* (?P=quote)
        [ \t]* [:=] [ \t]*)
    (?P<value> %(quoted)s | %(cut)s | %(known)s %(bare)s)"""
_OPENING = re.compile(r"""(?:[EeNn]|_\w+)?(['"])|\$\w*\$""")


def _setting_pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    known = ''.join('%s(?:\\S*[^\\s,;)\\]}])?|' % re.escape(secret)
                    for secret in secrets)
    pattern = _setting_patterns.get(known)
    if pattern is None:
        if len(_setting_patterns) > 100:
            _setting_patterns.clear()
        pattern = _setting_patterns[known] = re.compile(_SETTING % {
            'words': '|'.join(SECRET_WORDS), 'quoted': _QUOTED_VALUE,
            'cut': _CUT_SHORT, 'known': known, 'bare': _BARE},
            re.IGNORECASE | re.VERBOSE)
    return pattern


_setting_patterns: dict[str, re.Pattern[str]] = {}


def _hide_value(match: re.Match[str]) -> str:
    value = match.group('value')
    opening = _OPENING.match(value)
    shown = MASK
    if opening is not None:
        closing = opening.group(1) or opening.group()
        shown = opening.group() + MASK
        if len(value) >= len(opening.group()) + len(closing) and \
                value.endswith(closing):
            shown += closing
    return match.group('keyword') + shown


def hide_secret_values(text: str, secrets: Iterable[str] = ()) -> str:
    """Free ``text`` (an error message) with every secret hidden whole
    where it stands, and nowhere else:

    - the passwords of URLs: everything between ``://`` and the last
      ``@`` before the end of its line or the next URL;
    - the literals of SQL password clauses: ``PASSWORD '...'`` (and
      ``ENCRYPTED PASSWORD``), ``IDENTIFIED BY [PASSWORD] '...'``,
      ``IDENTIFIED WITH plugin BY|AS '...'``, ``PASSWORD('...')``, ``SET
      PASSWORD FOR user = '...'``, quoted with ``'`` or ``"``, quotes
      escaped or doubled inside, or (after ``IDENTIFIED BY``) bare;
    - the values of ``key=value`` and ``key: value`` settings whose name
      holds one of :data:`SECRET_WORDS` (``password``, ``PGPASSWORD``,
      ``'token'``, ``"api_key"``...), quoted (spaces and all) or bare, to
      the next space; a bare value that starts with one of ``secrets``
      (the passwords one knows of) is hidden to its end, spaces and all.

    MySQL's ``(using password: YES)`` stays as it is.
    """
    text = _hide_userinfos(text)
    for pattern in _SQL_CLAUSES:
        text = pattern.sub(_hide_value, text)
    return _setting_pattern(tuple(secrets)).sub(_hide_value, text)
