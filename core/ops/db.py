"""Database helpers shared by the apps."""

from django.conf import settings
from django.db import connections


def statement_timeout_set_local(milliseconds: int) -> None:
    """Within the current transaction, let statements run `milliseconds` (0: no limit).

    Long operations (bulk ingest, exports) use this instead of the request default.
    """
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # SET takes no bind parameters; int() keeps the text a number.
            cursor.execute(f"SET LOCAL statement_timeout = {int(milliseconds)}")


def statement_timeout_role_default(using: str = "default", **_signal) -> None:
    """Behind a transaction pooler: make the requests' statement timeout the default of the
    service's role in its database, which every new server connection starts with (a
    connection the pooler opened before keeps the old default until the pooler replaces it).
    Connected to post_migrate, so that `migrate` sets it."""
    connection = connections[using]
    if not settings.DATABASE_TRANSACTION_POOLER or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # ALTER ROLE takes no bind parameters: a quoted name and int() keep the text safe.
        database = connection.ops.quote_name(connection.settings_dict["NAME"])
        timeout = int(settings.REQUEST_STATEMENT_TIMEOUT)
        cursor.execute(
            f"ALTER ROLE CURRENT_USER IN DATABASE {database} SET statement_timeout = {timeout}"
        )
