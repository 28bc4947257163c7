"""The Alembic project's configuration, read the way Alembic reads it.

Every command reads the project through Alembic's own
``alembic.config.Config``: an ini file (``-c FILE``, else the file the
``ALEMBIC_CONFIG`` environment variable names, else ``./alembic.ini``,
as ``alembic`` takes them) and, where the installed Alembic reads one (1.16+),
``pyproject.toml`` (``-c pyproject.toml`` names it; else the one beside
the ini file, else the one of the current directory).  So
``script_location`` in ``[tool.alembic]``, ``%(here)s`` and the other
interpolations work as they do for ``alembic`` itself.

Our own settings are read alongside: the ``[audit_alembic]`` section of
the ini file (interpolated like the rest of it) and ``[tool.audit_alembic]``
of ``pyproject.toml``; the ini file wins, as it does for Alembic.
"""
import configparser
import os

from .. import compat
from ..engines import show_path
from ..errors import config_problem
from ..exc import CommandError

DEFAULT_CONFIG = 'alembic.ini'
#: Names the config file when ``-c`` does not, as for ``alembic``.
ENVIRONMENT = 'ALEMBIC_CONFIG'
PYPROJECT = 'pyproject.toml'
#: Our section of the ini file, and our table of ``pyproject.toml``.
SECTION = 'audit_alembic'
TOML_TABLE = 'tool.' + SECTION


class ProjectConfig:
    """Alembic's ``Config`` of a project, and where it came from.

    :ivar ini_path: the ini file (None where there is none).
    :ivar toml_path: ``pyproject.toml`` (None where there is none, or
        where this Alembic does not read it).
    :ivar section: the ini file's main section (``-n``).
    :ivar alembic: the ``alembic.config.Config``.
    """

    def __init__(self, ini_path, toml_path, section):
        self.ini_path = ini_path
        self.toml_path = toml_path
        self.section = section
        self.alembic = compat.alembic_config(ini_path, toml_path, section)

    def parser(self):
        """Alembic's ConfigParser of the ini file.

        :raise CommandError: if the file cannot be read.
        """
        try:
            return self.alembic.file_config
        except (configparser.Error, UnicodeDecodeError) as err:
            raise CommandError('cannot read %s: %s' % (
                show_path(self.ini_path), config_problem(err))) from None

    def option(self, section, name):
        """Option ``name`` of ini section ``section``, interpolated as
        Alembic does ('' where missing).

        :raise CommandError: on a bad %-interpolation (without quoting
            the value, which may hold a password).
        """
        try:
            return self.parser().get(section, name, fallback='').strip()
        except configparser.InterpolationError as err:
            raise CommandError(
                'cannot read %s: bad %%-interpolation in option %s of [%s] '
                '(write a literal %% as %%%%)'
                % (show_path(self.ini_path), err.option, err.section)
            ) from None

    def sqlalchemy_url(self):
        """The text of ``sqlalchemy.url`` of the main section.

        :raise CommandError: if the file, the section or the option is
            missing or unreadable.
        """
        if self.ini_path is None:
            raise CommandError(
                'no Alembic config file %s; pass -c FILE, or --url URL'
                % show_path(DEFAULT_CONFIG))
        if not self.parser().has_section(self.section):
            raise CommandError(
                '%s has no [%s] section; name the section with -n NAME'
                % (show_path(self.ini_path), self.section))
        raw = self.option(self.section, 'sqlalchemy.url')
        if not raw:
            raise CommandError(
                '%s has no sqlalchemy.url in its [%s] section; add one, or '
                'pass --url URL' % (show_path(self.ini_path), self.section))
        return raw

    def audit_settings(self):
        """Our settings: key -> ``(value, where it came from)``, from
        ``[tool.audit_alembic]`` of ``pyproject.toml`` and, winning, the
        ``[audit_alembic]`` section of the ini file.

        :raise CommandError: if a file cannot be read.
        """
        settings = {}
        if self.toml_path is not None:
            where = 'the [%s] table of %s' % (TOML_TABLE,
                                              show_path(self.toml_path))
            for key, value in self._toml_table().items():
                if not isinstance(value, str):
                    raise CommandError('%s in %s must be a string, not %r'
                                       % (key, where, value))
                settings[key] = (value % self._toml_args(), where)
        if self.ini_path is not None and self.parser().has_section(SECTION):
            where = 'the [%s] section of %s' % (SECTION,
                                                show_path(self.ini_path))
            for key in self.parser().options(SECTION):
                if self.parser().has_option(SECTION, key) and \
                        key not in self.parser().defaults():
                    settings[key] = (self.option(SECTION, key), where)
        return settings

    def _toml_table(self):
        try:
            data = compat.load_toml(self.toml_path)
        except (OSError, ValueError) as err:
            raise CommandError('cannot read %s: %s' % (
                show_path(self.toml_path), err)) from None
        table = data.get('tool', {}).get(SECTION, {})
        if not isinstance(table, dict):
            raise CommandError('[%s] of %s is not a table'
                               % (TOML_TABLE, show_path(self.toml_path)))
        return table

    def _toml_args(self):
        here = os.path.dirname(os.path.abspath(self.toml_path))
        return dict(self.alembic.config_args, here=here.replace(os.sep, '/'))


def named_config(config):
    """``(path, what named it)`` of the config file: ``-c config`` if
    given, else the file ``ALEMBIC_CONFIG`` names, as ``alembic`` takes
    it (an empty variable counts as unset); ``(None, None)`` for the
    default (:data:`DEFAULT_CONFIG`)."""
    if config is not None:
        return config, '-c'
    from_environment = os.environ.get(ENVIRONMENT)
    if from_environment:
        return from_environment, ENVIRONMENT
    return None, None


def project_config(args):
    """The :class:`ProjectConfig` that ``args`` name (``-c``, ``-n``), read
    once per command."""
    found = getattr(args, '_project_config', None)
    if found is None:
        found = ProjectConfig(*files(args.config), args.name)
        args._project_config = found
    return found


def files(config):
    """``(ini file or None, pyproject.toml or None)`` that ``-c config``
    names, the way ``alembic -c`` takes them.

    Without ``-c``, the file ``ALEMBIC_CONFIG`` names is taken as if
    ``-c`` named it (see :func:`named_config`).

    :raise CommandError: if a file named by ``-c`` or ``ALEMBIC_CONFIG``
        is missing.
    """
    config, source = named_config(config)
    if config is not None and not os.path.isfile(config):
        raise CommandError(
            'no Alembic config file %s%s' % (show_path(config), (
                ' (named by %s): unset it, or pass -c FILE' % source)
                if source == ENVIRONMENT else ''))
    if config is not None and os.path.basename(config) == PYPROJECT:
        toml, ini = config, DEFAULT_CONFIG
    else:
        ini = config or DEFAULT_CONFIG
        toml = os.path.join(os.path.dirname(ini), PYPROJECT)
        if not os.path.isfile(toml):
            toml = PYPROJECT
    ini = ini if os.path.isfile(ini) else None
    toml = toml if (compat.alembic_reads_pyproject() and
                    os.path.isfile(toml)) else None
    return ini, toml


def names_a_project(config):
    """Whether ``-c config``, ``ALEMBIC_CONFIG``, ``./alembic.ini`` or a
    ``[tool.alembic]`` table in ``./pyproject.toml`` names an Alembic
    project."""
    config, _ = named_config(config)
    if config is not None or os.path.isfile(DEFAULT_CONFIG):
        return True
    if not (compat.alembic_reads_pyproject() and os.path.isfile(PYPROJECT)):
        return False
    try:
        return 'alembic' in compat.load_toml(PYPROJECT).get('tool', {})
    except (OSError, ValueError):
        return True  # reading it says what is wrong
