"""Hiding the passwords of database URLs, and of text that may quote them.

A URL is read as SQLAlchemy reads it (:func:`sqlalchemy.engine.make_url`);
where it cannot be read, or where its password may hold an ``@`` that
SQLAlchemy would take for the end of the password, everything between
``://`` and the last ``@`` is hidden.

Standard library and SQLAlchemy's URL only, imported when first needed:
the library, the command line and the test runner use this module (the
runner loads it by file path before coverage starts).
"""
import re
from urllib.parse import quote
from urllib.parse import quote_plus

#: What a hidden password is shown as.
MASK = '***'
#: Query parameters some drivers take a password from.
SECRET_PARAMETERS = ('password', 'passwd', 'pwd', 'sslpassword')
_PLACEHOLDER = 'xxMASKEDxx'  # survives URL quoting, unlike '***'
_SECRET_QUERY = re.compile(r'\b((?:%s)=)[^&\s]*' % '|'.join(
    SECRET_PARAMETERS), re.IGNORECASE)
_SCHEME = '://'


def masked(url):
    """``url`` (a SQLAlchemy URL or a string) as a string in which no
    character of a password shows: the one after the user name and any
    in the query string are ``***``."""
    if isinstance(url, str):
        return _masked_text(url)
    secrets = [key for key in url.query if key.lower() in SECRET_PARAMETERS]
    if secrets:
        url = url.update_query_dict(dict.fromkeys(secrets, _PLACEHOLDER))
    text = url.render_as_string(hide_password=True).replace(
        _PLACEHOLDER, MASK)
    if url.password is not None and _has_stray_at(url):
        # Part of the password was read as host, database or query.
        from urllib.parse import unquote
        text = hide_userinfo(unquote(text))
    return text


def _has_stray_at(url):
    parts = [url.host or '', url.database or '']
    for key, value in url.query.items():
        parts.append(key)
        parts.extend([value] if isinstance(value, str) else value)
    return any('@' in part for part in parts)


def _masked_text(text):
    from sqlalchemy.engine import make_url
    try:
        url = make_url(text)
    except Exception:  # ArgumentError, or ValueError on a bad port
        return _hide_query_secrets(hide_userinfo(text, hide_port=True))
    if password_holds_at(text):
        return _hide_query_secrets(hide_userinfo(text))
    return masked(url)


def password_holds_at(text):
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


def hide_userinfo(text, hide_port=False):
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
        authority = re.match(r'[^/?]*', text[start:]).group()
        user, colon, port = authority.partition(':')
        if colon and not port.isdigit():
            return text[:start] + user + colon + MASK + \
                text[start + len(authority):]
    return text


def _hide_query_secrets(text):
    return _SECRET_QUERY.sub(r'\1' + MASK, text)


def hide_passwords(text):
    """Free ``text`` (an error message, a config file line) with whatever
    may be a password in a URL hidden: everything between each ``://`` and
    the last ``@`` before the end of its line or the next URL, and the
    values of password query parameters."""
    lines = []
    for line in text.split('\n'):
        pieces = line.split(_SCHEME)
        for i in range(1, len(pieces)):
            end = pieces[i].rfind('@')
            if end >= 0:
                pieces[i] = MASK + pieces[i][end:]
        lines.append(_hide_query_secrets(_SCHEME.join(pieces)))
    return '\n'.join(lines)


def secrets_of(url):
    """The passwords of SQLAlchemy URL ``url``, as given and as they may
    appear quoted: strings no output should contain."""
    values = [url.password] + [
        value for key, value in url.query.items()
        if key.lower() in SECRET_PARAMETERS]
    secrets = set()
    for value in values:
        for one in [value] if isinstance(value, str) else value or ():
            if one:
                secrets.update({one, quote(one, safe=''),
                                quote(one, safe=' +'), quote_plus(one)})
    return sorted(secrets, key=len, reverse=True)


def hide_secrets(text, url):
    """``text`` with every password of ``url`` in it, and whatever looks
    like a password in a URL, hidden."""
    for secret in secrets_of(url):
        text = text.replace(secret, MASK)
    return hide_passwords(text)
