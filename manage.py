#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprocket_factory.settings")
    if sys.argv[1:2] != ["runserver"]:
        # Migrations and commands run as long as they need; only requests are bounded. The
        # requests' bound stays known, for `migrate` to set it behind a pooler (core/ops/db.py).
        if "DATABASE_STATEMENT_TIMEOUT" in os.environ:
            os.environ["REQUEST_STATEMENT_TIMEOUT"] = os.environ["DATABASE_STATEMENT_TIMEOUT"]
        os.environ["DATABASE_STATEMENT_TIMEOUT"] = "0"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
