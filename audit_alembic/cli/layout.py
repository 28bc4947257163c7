"""Which column of a history table holds what.

A table made by ``Auditor.create`` with its default names needs nothing;
one made with other names (0.2.0 lets every column and the revision
separator be renamed) is described by the same ``Auditor.create``
parameters, in an ``[audit_alembic]`` section of the Alembic config
file (or a ``[tool.audit_alembic]`` table of ``pyproject.toml``, read
as :mod:`.config` says), or by options::

    [audit_alembic]
    table_name = schema_history
    alembic_version_column_name = rev_to
    alembic_version_separator = +

``--column ROLE=NAME`` and ``--separator`` override the file; a role is
the default name of a column (``alembic_version``, ``changed_at``...).
"""
from .. import values
from ..exc import CommandError

SECTION = 'audit_alembic'
#: Role (the column's default name) -> the Auditor.create parameter that
#: renames it (the registry's: see :data:`.values.PARAMETERS`).
PARAMETERS = values.PARAMETERS
#: Keys the [audit_alembic] section may hold.
KEYS = {'table_name', 'schema', 'alembic_version_separator'} | {
    parameter for parameter in PARAMETERS.values() if parameter}


class TableLayout:
    """The history table's name and schema, the names of its standard
    columns (by role) and its revision separator, each with where it came
    from (for error messages)."""

    def __init__(self, table_name=values.DEFAULT_TABLE_NAME, schema=None,
                 separator=values.DEFAULT_SEPARATOR, names=None,
                 sources=None):
        self.table_name = table_name
        self.schema = schema
        self.separator = separator
        self.names = dict((role, role) for role in PARAMETERS)
        self.names.update(names or {})
        self.sources = sources or {}

    def name(self, role):
        """The column name of ``role``."""
        return self.names[role]

    def column(self, table, role, needed_for):
        """The column of ``table`` that plays ``role``.

        :raise CommandError: naming the missing column, what needs it and
            where its name came from.
        """
        name = self.names[role]
        if name in table.c:
            return table.c[name]
        source = self.sources.get(role)
        raise CommandError(
            '%s needs column %s, which table %s lacks%s' % (
                needed_for, name, table.fullname,
                ' (named by %s)' % source if source else
                '; name the %s column with --column %s=NAME or with %s in '
                'the [%s] section of the Alembic config file'
                % (role, role, PARAMETERS[role] or role, SECTION)))

    def split(self, value):
        """The revisions in a stored ``value`` (empty for the base)."""
        return [part for part in (value or '').split(self.separator) if part]


def read_settings(project):
    """Our settings in the config of ``project`` (a
    :class:`~.config.ProjectConfig`, or None): key -> ``(value, where it
    came from)``.

    :raise CommandError: on an unknown key or an unreadable file.
    """
    if project is None:
        return {}
    settings = project.audit_settings()
    for key, (_, where) in sorted(settings.items()):
        if key not in KEYS:
            raise CommandError(
                'unknown option %s in %s; known: %s'
                % (key, where, ', '.join(sorted(KEYS))))
    return settings


def parse_column_option(text):
    """An argparse type: ``ROLE=NAME`` as a ``(role, name)`` pair."""
    import argparse
    role, equals, name = text.partition('=')
    if not equals or not name or role not in PARAMETERS:
        raise argparse.ArgumentTypeError(
            'expected ROLE=NAME with ROLE one of %s, not %r'
            % (', '.join(PARAMETERS), text))
    return role, name


def add_layout_options(group):
    """``--column ROLE=NAME`` (repeatable) and ``--separator``."""
    group.add_argument(
        '--column', metavar='ROLE=NAME', action='append', default=[],
        type=parse_column_option, dest='columns',
        help='the history column NAME plays ROLE, the default name of a '
             'standard column, e.g. --column alembic_version=rev_to '
             '(repeatable; also read from [%s] of the config file)'
             % SECTION)
    group.add_argument(
        '--separator', metavar='TEXT',
        help='what joins several revisions in one column (default: the '
             '[%s] section, else %r)' % (SECTION, values.DEFAULT_SEPARATOR))


def layout_from(args, project):
    """The :class:`TableLayout` that ``args`` and our settings in the
    config of ``project`` (see :func:`read_settings`) describe; options
    win over the files."""
    settings = read_settings(project)
    section = {key: value for key, (value, _) in settings.items()}
    names, sources = {}, {}
    for role, parameter in PARAMETERS.items():
        if parameter and parameter in section:
            names[role] = section[parameter]
            sources[role] = '%s in %s' % (parameter, settings[parameter][1])
    for role, name in args.columns:
        names[role] = name
        sources[role] = '--column %s=%s' % (role, name)
    separator = args.separator
    if separator is None:
        separator = section.get('alembic_version_separator',
                                values.DEFAULT_SEPARATOR)
    if not separator:
        raise CommandError('the revision separator cannot be empty')
    return TableLayout(
        table_name=args.table or section.get('table_name',
                                             values.DEFAULT_TABLE_NAME),
        schema=args.schema or section.get('schema'),
        separator=separator, names=names, sources=sources)
