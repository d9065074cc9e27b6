"""WSGI entry point: gunicorn serves `sprocket_factory.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprocket_factory.settings")

# Imported once Django is set up: the replay reads settings and the cache.
django_application = get_wsgi_application()

from core.ops.replay import ReplayedReads  # noqa: E402

# Anonymous reads the cache answered are replayed before Django (core/ops/replay.py).
application = ReplayedReads(django_application)
