"""What several commands read of an Alembic project and its database.

The script directory (named by ``--script-location`` or by the
project's config, see :mod:`.config`), loaded whole so that a broken
one is one error line; the revisions in the database's version table;
and the tables a command needs, required or reflected, with an error
naming what is missing.
"""
from ..exc import CommandError
from . import config
from . import database
from . import options
from .output.text import one_line


def script_directory(args):
    """The Alembic script directory named by ``--script-location`` or by
    the project's config (``alembic.ini``, ``pyproject.toml``), read
    through Alembic's own ``Config``.

    :raise CommandError: if it cannot be found or read.
    """
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError as AlembicError
    if not names_a_project(args):
        raise CommandError('no Alembic project here (no %s): pass -c FILE, '
                           'or --script-location DIR'
                           % options.DEFAULT_CONFIG)
    try:
        if args.script_location is not None:
            return ScriptDirectory(args.script_location)
        project = config.project_config(args)
        if project.ini_path is not None:
            project.sqlalchemy_url()  # says what is missing
        return ScriptDirectory.from_config(project.alembic)
    except (AlembicError, ValueError) as err:  # ValueError: bad TOML
        raise CommandError('cannot read the Alembic scripts: %s'
                           % one_line(err)) from None


def optional_script_directory(args):
    """The script directory, or None where neither ``--script-location``
    nor a config file names one."""
    if not names_a_project(args):
        return None
    return script_directory(args)


def names_a_project(args):
    """Whether ``--script-location``, ``-c``, ``./alembic.ini`` or
    ``./pyproject.toml`` names an Alembic project."""
    return args.script_location is not None or \
        config.names_a_project(args.config)


def read_scripts(scripts):
    """Load every revision script of ``scripts`` now, so that a broken
    directory (a missing down revision, a script that does not compile)
    is one error line, not a traceback later.

    :raise CommandError: naming what is wrong.
    """
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            scripts.revision_map.heads
            for _ in scripts.walk_revisions():
                pass
        except Exception as err:
            from alembic.script.revision import RevisionError
            from alembic.util import CommandError as AlembicError
            what = one_line(err)
            if not isinstance(err, (AlembicError, RevisionError)):
                what = '%s: %s' % (type(err).__name__, what)
            # Alembic warns first of what it then fails on.
            what = '; '.join([one_line(w.message) for w in caught] + [what])
            raise CommandError('cannot read the Alembic scripts in %s: %s'
                               % (scripts.dir, what)) from None
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category,
                               warning.filename, warning.lineno)


def current_heads(connection, version_table, url):
    """The revisions in the database's version table, sorted.

    :param version_table: the table ``--version-table`` names, which
        must exist; None for Alembic's default, which may be missing
        (no revision yet).
    :raise CommandError: if a named version table is missing.
    """
    from alembic.runtime.migration import MigrationContext
    if version_table is not None:
        require_table(connection, version_table, None, url,
                      '--version-table')
    context = MigrationContext.configure(connection, opts={
        'version_table': version_table or options.DEFAULT_VERSION_TABLE})
    return sorted(context.get_current_heads())


def require_table(connection, name, schema, url, what):
    """:raise CommandError: unless the database has table ``schema.name``
    (``what`` named it)."""
    from sqlalchemy import inspect
    if not inspect(connection).has_table(name, schema=schema):
        raise CommandError('no table %s in %s (%s)' % (
            _qualified(name, schema), database.masked(url), what))


def reflect_table(connection, name, schema, url):
    """The history table ``schema.name``, as found in the database.

    :raise CommandError: if there is no such table.
    """
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy.exc import NoSuchTableError
    try:
        return Table(name, MetaData(), schema=schema,
                     autoload_with=connection)
    except NoSuchTableError:
        raise CommandError(
            'no table %s in %s; pass --table NAME (and --schema SCHEMA) if '
            'the history table has another name'
            % (_qualified(name, schema), database.masked(url))) from None


def _qualified(name, schema):
    return '%s.%s' % (schema, name) if schema else name


def script_heads(scripts):
    """The revisions ``alembic upgrade heads`` leaves in the version
    table, sorted: the heads of the script directory, less those another
    head depends on."""
    heads = scripts.get_heads()
    needed = set()
    for head in heads:
        needed.update(revision.revision for revision in
                      scripts.revision_map.iterate_revisions(
                          head, 'base', inclusive=True)
                      if revision.revision != head)
    return sorted(set(heads) - needed)
