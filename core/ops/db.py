"""Database helpers shared by the apps."""

from django.db import connection


def statement_timeout_set_local(milliseconds: int) -> None:
    """Within the current transaction, let statements run `milliseconds` (0: no limit).

    Long operations (bulk ingest, exports) use this instead of the request default.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # SET takes no bind parameters; int() keeps the text a number.
            cursor.execute(f"SET LOCAL statement_timeout = {int(milliseconds)}")
