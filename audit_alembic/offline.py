"""Recording the steps of an offline (``--sql``) script: the history
table's creation, then one ``INSERT`` per step, in the script.

The values are rendered as literals, except SQL expressions (the
details' time and database user), which the script evaluates when it
runs.
"""
import weakref
from typing import TYPE_CHECKING
from typing import Any
from typing import Mapping

from . import compat
from .ddl import create_if_not_exists

if TYPE_CHECKING:
    from sqlalchemy import Table


class OfflineWriter:
    """Writes the rows of ``table`` into offline scripts."""

    def __init__(self, table: 'Table') -> None:
        self.table = table
        # Migration contexts whose script creates the table already.
        self._created: 'weakref.WeakSet[Any]' = weakref.WeakSet()

    def write(self, ctx: Any, row: Mapping[str, Any]) -> None:
        """Emit ``row`` into ``ctx``'s script, after the statements that
        create the table, the first time."""
        from sqlalchemy.sql import ClauseElement
        if ctx not in self._created:
            for element in create_if_not_exists(self.table, ctx.dialect):
                ctx.impl.execute(element)
            self._created.add(ctx)
        with compat.standard_conforming_strings(ctx.dialect):
            if any(isinstance(value, ClauseElement)
                   for value in row.values()):
                ctx.impl.execute(self.table.insert().values(row))
            else:
                ctx.impl.bulk_insert(self.table, [row])  # as literals
