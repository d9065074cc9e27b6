"""gunicorn for the live event streams: `gunicorn -c sprocket_factory/gunicorn_events.conf.py`.

nginx sends GET /sprocketFactory/v1/production/events here and everything else to the WSGI
service (deploy/nginx.conf.template). The same Django project, served over ASGI by uvicorn's
gunicorn worker: an idle stream is a coroutine waiting on Redis, not a thread, so one worker
holds thousands (benchmarks/RESULTS.md, "Live events"). Each setting can be set from the
environment.
"""

import os
import tempfile

os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="sprocket-factory-events-metrics-")
)

wsgi_app = "sprocket_factory.asgi:application"
bind = os.environ.get("EVENTS_BIND", "0.0.0.0:8001")
# uvicorn's pure-Python loop and parser: idle streams cost 11-19% less CPU than with uvloop
# and httptools, the rest measured the same (benchmarks/RESULTS.md, "Live events").
worker_class = "uvicorn_worker.UvicornH11Worker"
workers = int(os.environ.get("EVENTS_CONCURRENCY", "1"))
# A worker that stops answering gunicorn's heartbeat for this long is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# Streams never end by themselves: on a restart they are cut after this, and clients
# reconnect (with Last-Event-ID) to the new workers.
graceful_timeout = int(os.environ.get("EVENTS_GRACEFUL_TIMEOUT", "5"))
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
