# One image for web, worker and beat; docker-compose.yml picks the command.
# /app/var belongs to the app user, so the `static` and `media` volumes docker-compose.yml
# mounts there start out writable (a new named volume copies the image's ownership).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Chromium prints the tenant reports' PDFs (fleet/reports/pdf.py, docs/reports.md).
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY fleet ./fleet
COPY codes ./codes
COPY dashboards ./dashboards
COPY manage.py ./
RUN pip install . \
    && useradd --system --home /app fleet \
    && SECRET_KEY=build python manage.py collectstatic --no-input -v 0 \
    && mkdir -p /app/var/media \
    && chown -R fleet /app/var

USER fleet
EXPOSE 8000
CMD ["gunicorn", "-c", "fleet/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
