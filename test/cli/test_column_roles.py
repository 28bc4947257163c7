"""One registry of column roles (:mod:`audit_alembic.values`): the writer
(``Auditor.create``) and the reader (``verify``, told the names by
options or by the config file) agree on the columns of a table whose
every column is renamed."""
import inspect
import json
import os
import unittest
import unittest.mock

from sqlalchemy import MetaData
from sqlalchemy import Table

from audit_alembic import Auditor
from audit_alembic import values
from audit_alembic.hashing import KEY_VARIABLE
from test.audit.graphs import BRANCHY
from test.cli.support import CLITestCase

#: A new name for every column Auditor.create lets one rename, by role.
RENAMED = {
    values.NEW_VERSION_COLUMN: 'to_rev',
    values.OLD_VERSION_COLUMN: 'from_rev',
    values.OPERATION_COLUMN: 'step_kind',
    values.DIRECTION_COLUMN: 'step_way',
    values.USER_VERSION_COLUMN: 'release',  # reserved on MariaDB
    values.CHANGE_TIME_COLUMN: 'ran_at',
}
TABLE = 'renamed_history'
SEPARATOR = '|'


def create_arguments():
    """Auditor.create's keyword arguments naming every column."""
    arguments = {values.PARAMETERS[role]: name
                 for role, name in RENAMED.items()}
    arguments.update(table_name=TABLE, alembic_version_separator=SEPARATOR)
    return arguments


class RegistryTest(unittest.TestCase):
    def test_every_renaming_parameter_is_registered(self):
        parameters = inspect.signature(Auditor.create).parameters
        renaming = {name for name in parameters
                    if name.endswith('_column_name')}
        registered = {parameter for parameter in values.PARAMETERS.values()
                      if parameter}
        self.assertEqual(renaming, registered)
        for role, parameter in values.PARAMETERS.items():
            if parameter:
                self.assertEqual(parameters[parameter].default, role)
        self.assertEqual(set(RENAMED), {
            role for role, parameter in values.PARAMETERS.items()
            if parameter})

    def test_the_writer_chains_the_renamed_columns(self):
        auditor = Auditor.create('1', details=True, **create_arguments())
        self.assertEqual(auditor.chain, values.chained_names(RENAMED))
        chained = values.CHAINED + values.CHAINED_WHEN_SET
        self.assertEqual(len(auditor.chain), len(chained))
        for role, name in zip(chained, auditor.chain):
            self.assertEqual(name, RENAMED.get(role, role))
            self.assertIn(name, auditor.table.c)
        self.assertNotIn(values.ID_COLUMN, auditor.chain)
        self.assertNotIn(values.ROW_HASH_COLUMN, auditor.chain)

    def test_column_names_from_parameters(self):
        self.assertEqual(values.column_names(create_arguments()),
                         dict(RENAMED, id='id'))
        self.assertEqual(values.column_names({}),
                         {role: role for role in values.PARAMETERS})


class RenamedTableTest(CLITestCase):
    """A table with every column renamed, written by real Alembic runs,
    read by ``verify`` through its options and through the config
    file."""
    __backend__ = True

    def setUp(self):
        super().setUp()
        patcher = unittest.mock.patch.dict(os.environ)
        patcher.start()
        self.addCleanup(patcher.stop)
        os.environ.pop(KEY_VARIABLE, None)
        self.db = self.audited_database(BRANCHY, auditor=Auditor.create(
            'app 7', details=True, **create_arguments()))
        for command in (('upgrade', 'E'), ('upgrade', 'E0'),
                        ('upgrade', 'F'), ('downgrade', 'E0'),
                        ('upgrade', 'heads'), ('stamp', 'G3')):
            self.db.run(*command)
        self.rows = self.db.rows(TABLE)

    def options(self):
        options = ['--table', TABLE, '--separator', SEPARATOR]
        for role, name in RENAMED.items():
            options += ['--column', '%s=%s' % (role, name)]
        return options

    def configure(self):
        with open(self.db.env.ini_path, 'a') as f:
            f.write('\n[audit_alembic]\n')
            for key, value in create_arguments().items():
                f.write('%s = %s\n' % (key, value))

    def chain_check(self, *options):
        result = self.main('verify', '-c', self.db.env.ini_path,
                           '--format', 'json', *options)
        document = json.loads(result.stdout)
        checks = {check['check']: check for check in document['checks']}
        return checks['chain']

    def tamper(self):
        """Edit the renamed user version column of a middle row; its id."""
        edited = self.rows[len(self.rows) // 2]['id']
        table = Table(TABLE, MetaData(), autoload_with=self.db.engine)
        with self.db.engine.begin() as connection:
            connection.execute(table.update().where(
                table.c.id == edited).values(
                    {RENAMED[values.USER_VERSION_COLUMN]: 'app 8'}))
        return edited

    def check_agreement(self, *options):
        self.assertTrue(all(row['row_hash'] for row in self.rows))
        self.assertTrue(self.chain_check(*options)['passed'])
        edited = self.tamper()
        chain = self.chain_check(*options)
        self.assertFalse(chain['passed'], chain)
        self.assertIn('row %d' % edited, json.dumps(chain['problems']))

    def test_names_from_options(self):
        self.check_agreement(*self.options())

    def test_names_from_the_config_file(self):
        self.configure()
        self.check_agreement()
