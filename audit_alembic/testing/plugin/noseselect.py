"""Which tests a nose2 run selects: test names as nose users type them,
and the folders discovery passes by.

Loaded with the nose adapter, by file path (see :mod:`bootstrap`).
"""
import importlib
import importlib.util
import os

if __package__:
    from ... import paths
else:
    import audit_alembic_paths as paths

#: The checkout root, where test/ is.
ROOT = paths.PACKAGE_ROOT


def normalize_name(name, test_dir=os.path.join(ROOT, 'test')):
    """A test name as nose users type it, as the dotted name nose2 takes.

    ``mod:Class.method`` becomes ``mod.Class.method``.  A directory or
    file path (``audit/``, ``audit``, ``audit/test_api.py``) is looked up
    relative to the current directory, then to ``test/``, then to the
    checkout root, and becomes its module name.
    """
    looks_dotted = '.' in name or ':' in name
    if '/' not in name and os.sep not in name and not name.endswith('.py') \
            and (looks_dotted or not os.path.isdir(
                os.path.join(test_dir, name))):
        return name.replace(':', '.')
    for base in (os.getcwd(), test_dir, ROOT):
        path = os.path.abspath(os.path.join(base, name))
        relative = os.path.relpath(path, ROOT)
        if os.path.exists(path) and not relative.startswith(os.pardir):
            return os.path.splitext(relative)[0].replace(os.sep, '.')
    return name


def name_exists(name):
    """Whether a dotted name refers to a module or an object in one.

    Imports the module part of a dotted name; import errors other than a
    missing module count as existing, for nose2 to report in full.
    """
    parts = name.split('.')
    for end in range(len(parts), 0, -1):
        module_name = '.'.join(parts[:end])
        try:
            found = importlib.util.find_spec(module_name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            continue
        try:
            obj = importlib.import_module(module_name)
        except Exception:
            return True
        for attribute in parts[end:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def passed_by(path, names, ignored):
    """Whether discovery passes by folder ``path``: it is one of the
    ``ignored`` folders (the plugin's ``collect-ignore`` setting) and no
    test name of ``names`` (dotted, as nose2 takes them) lies in it."""
    path = os.path.abspath(path)
    if path not in ignored:
        return False
    dotted = os.path.relpath(path, ROOT).replace(os.sep, '.')
    return not any(name == dotted or name.startswith(dotted + '.')
                   for name in names)
