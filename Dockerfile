# The API, worker and cron image (docker-compose.yml runs all three from it):
#   web:    the CMD below
#   worker: agency-worker
#   cron:   rq cron agency/cron.py --url $REDIS_URL
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY agency ./agency
COPY matching ./matching
COPY migrations ./migrations
COPY alembic.ini wsgi.py gunicorn.conf.py ./
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && useradd --create-home --uid 10001 agency
USER agency

EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "wsgi:app"]
