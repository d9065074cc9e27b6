"""gunicorn settings: `gunicorn -c sprocket_factory/gunicorn.conf.py`. Each can be set from
the environment."""

import glob
import os
import tempfile

# Prometheus counters of every worker go to files in one folder, so /metrics adds them up.
# Set before any worker imports prometheus_client.
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="sprocket-factory-metrics-")
)

wsgi_app = "sprocket_factory.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Threaded workers: a long CSV stream or bulk upload occupies a thread, not a whole worker,
# and does not trip the worker timeout. gunicorn's own error answers (a request line over
# limit_request_line, a header it cannot parse) are JSON like every other API error. A thread
# waits on a slow client, so production runs behind nginx (deploy/nginx.conf.template).
worker_class = "core.ops.gunicorn_worker.JSONErrorThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# nginx sends the live event streams to the ASGI events server; one that reaches these
# threads anyway holds a thread for as long as it lasts, so at most half of them stream.
os.environ.setdefault("EVENTS_MAX_SYNC_STREAMS", str(max(1, threads // 2)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A worker's restart costs about a second of CPU: at 5,000 requests a worker answering cached
# reads restarted every few seconds (p99 128-340 ms; 27-48 ms without restarts, measured).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "10000"))
# Request lines and headers are bounded; bodies are bounded by the application's own limits.
limit_request_line = 8190
limit_request_fields = 100
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(server) -> None:
    """Counters left by an earlier run of the server would be added to this one's."""
    os.makedirs(metrics_dir, exist_ok=True)
    for path in glob.glob(os.path.join(metrics_dir, "*.db")):
        os.unlink(path)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
