# syntax=docker/dockerfile:1
# One image for every process of the app: the web server (gunicorn, the default command), Celery
# workers, Celery beat and the migrations (see docker-compose.yml). No Docker engine runs on our
# machines, so CI lints this file with hadolint (`make lint`) and .ci/image_steps.py rehearses it
# outside Docker: it runs the builder's RUN lines below in a fresh virtualenv, installs the
# runtime stage's Debian packages, and runs the CMD, the HEALTHCHECK and the compose commands as
# an unprivileged user. Keep every RUN of the builder a call of .ci/install-python or compileall,
# which is what that rehearsal knows how to run.

# -- builder: a virtualenv with exactly the pins of the lock file, every hash checked -----------
FROM python:3.11-slim-bookworm AS builder
WORKDIR /app
COPY .ci/install-python .ci/install-python
COPY requirements/ requirements/
RUN --mount=type=cache,target=/root/.cache/pip \
    .ci/install-python deps /opt/venv requirements/runtime.txt
# The source tree (what .dockerignore lets in) stays in /app and is installed in editable mode:
# the app finds templates/ and migrations/ beside its package, as in a checkout. Compiled here
# because the unprivileged user cannot write __pycache__ at run time.
COPY . .
RUN .ci/install-python app /opt/venv /app \
    && /opt/venv/bin/python -m compileall -q trainer_app worker migrations

# -- runtime: the Debian libraries and fonts WeasyPrint needs, the virtualenv, the source --------
FROM python:3.11-slim-bookworm AS runtime
# Fonts with wide coverage for the PDFs, Pango for WeasyPrint, HarfBuzz subsetting (faster PDF
# writing) and Cairo for cairosvg (the drawings' print rasters): the Makefile's DEB_RUNTIME (tests/test_deploy.py keeps the two lists equal). Versions
# come from the base image's Debian release, so security updates land with each rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-dejavu-core fonts-noto-core fonts-noto-cjk \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2 \
    && rm -rf /var/lib/apt/lists/*
# The app runs unprivileged; it writes only to its instance folder (the generated files of the
# embedded default, Celery beat's schedule), a volume in docker-compose.yml.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /srv/instance --no-create-home \
        --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0750 /srv/instance
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
# gunicorn binds 0.0.0.0:$PORT and starts $WEB_CONCURRENCY workers when no flag says otherwise.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TRAINER_ENV=production \
    TRAINER_INSTANCE_PATH=/srv/instance \
    PORT=8000 \
    WEB_CONCURRENCY=3
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=4)"]
# The heartbeat files of gunicorn's workers live in memory: on an overlay file system they stall.
CMD ["gunicorn", "-c", "python:trainer_app.gunicorn_conf", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "trainer_app.wsgi:app"]
