"""What the installed Alembic can do."""
import inspect


def alembic_supports_callback(configure_method=None):
    """Tell whether ``configure_method`` accepts ``on_version_apply``.

    :param configure_method: a ``configure`` function to inspect; by
        default (or when given ``alembic.context.configure``, a proxy
        without a signature of its own) Alembic's
        ``EnvironmentContext.configure``.
    """
    from alembic import context
    from alembic.runtime.environment import EnvironmentContext
    if configure_method is None or configure_method is context.configure:
        configure_method = EnvironmentContext.configure
    try:
        parameters = inspect.signature(configure_method).parameters
    except (TypeError, ValueError):
        return False
    return 'on_version_apply' in parameters
