"""Reading a history table's values as they are stored.

A value that its column's type cannot convert (text in a time or number
column, a time no driver can represent) is returned as the database gave
it, never raised: the commands show it, and the chain hashes it, so that
one odd value neither hides the history nor stops a deploy.
"""
import datetime
import re
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Optional
from typing import Union

from . import dialects

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql.elements import Label
    from sqlalchemy.types import TypeEngine
    from sqlalchemy.types import UserDefinedType


def as_stored(column: 'Column[Any]', dialect: 'Dialect') -> 'Label[Any]':
    """``column`` for the SELECT list, its values converted as its type
    says, but left as the database returned them where that fails (text
    in a time or number column, invalid JSON): shown, never a crash.

    On PostgreSQL, dates and times are read as text and converted here:
    drivers fail on ``infinity`` and on years after 9999.
    """
    from sqlalchemy import Text
    from sqlalchemy import cast
    from sqlalchemy import type_coerce
    from sqlalchemy import types
    if dialects.server(dialect).times_read_as_text and \
            isinstance(column.type, (types.DateTime, types.Date)):
        return type_coerce(cast(column, Text), _text_time_type()()).label(
            column.name)
    return type_coerce(column, _lenient_type(column.type)).label(column.name)


#: A date or time as PostgreSQL writes it (DateStyle ISO).
_ISO_TIME = re.compile(
    r'(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?'
    r'(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$')


def parse_time(text: str) -> Union[datetime.date, str]:
    """The date or datetime (aware if ``text`` has an offset) written in
    ``text``; ``text`` itself if it is none (``infinity``, a year after
    9999 or before 1)."""
    try:  # quick, but Python 3.10 reads only some ISO-8601 forms
        if len(text) == 10:
            return datetime.date.fromisoformat(text)
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _ISO_TIME.match(text)
    if match is None:
        return text
    (year, month, day, hour, minute, second, fraction, sign,
     offset_hours, offset_minutes, offset_seconds) = match.groups()
    try:
        if hour is None:
            return datetime.date(int(year), int(month), int(day))
        zone = None
        if sign:
            offset = datetime.timedelta(
                hours=int(offset_hours), minutes=int(offset_minutes or 0),
                seconds=int(offset_seconds or 0))
            zone = datetime.timezone(-offset if sign == '-' else offset)
        return datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute),
            int(second), int((fraction or '').ljust(6, '0')), tzinfo=zone)
    except (ValueError, OverflowError):
        return text


def _text_time_type() -> 'type[UserDefinedType[Any]]':
    from sqlalchemy.types import UserDefinedType

    class TextTime(UserDefinedType[Any]):
        """Text from the database, turned into a date or time where it
        is one."""
        cache_ok = True

        def result_processor(self, dialect: 'Dialect',
                             coltype: object) -> Callable[[Any], Any]:
            def process(value: Any) -> Any:
                return parse_time(value) if isinstance(value, str) \
                    else value
            return process
    return TextTime


def _lenient_type(wrapped: 'TypeEngine[Any]') -> 'UserDefinedType[Any]':
    from sqlalchemy.types import Boolean
    from sqlalchemy.types import UserDefinedType
    # Some drivers hand booleans over as integers; anything else is odd.
    expected = (None, 0, 1) if isinstance(wrapped, Boolean) else None

    class Lenient(UserDefinedType[Any]):
        cache_ok = False  # the query runs once

        def result_processor(
                self, dialect: 'Dialect',
                coltype: object) -> Optional[Callable[[Any], Any]]:
            try:
                process = wrapped.dialect_impl(dialect).result_processor(
                    dialect, coltype)
            except Exception:
                return None
            if process is None:
                return None

            def lenient(value: Any) -> Any:
                if expected is not None and value not in expected:
                    return value
                try:
                    return process(value)
                except Exception:
                    return value
            return lenient
    return Lenient()
