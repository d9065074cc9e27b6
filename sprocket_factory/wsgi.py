"""WSGI entry point: gunicorn serves `sprocket_factory.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprocket_factory.settings")

application = get_wsgi_application()
