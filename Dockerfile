# syntax=docker/dockerfile:1
# Build stage: the dependencies in a virtual environment.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# Runtime stage: the virtual environment, the code and the collected static files.
FROM python:3.11-slim-bookworm AS runtime
# STATIC_ROOT outside the code: docker-compose.yml mounts a volume there that nginx serves.
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    STATIC_ROOT=/srv/static
RUN useradd --system --uid 10001 --create-home --home-dir /home/app app \
  && install -d -o app -g app /srv/static
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app . .
USER app
# collectstatic touches no database; production mode only needs some secret to start. Run as
# app, so that the service can refresh the files at start (a volume copies their owner).
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["gunicorn", "-c", "sprocket_factory/gunicorn.conf.py"]
