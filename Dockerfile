# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY fleet ./fleet
COPY codes ./codes
COPY dashboards ./dashboards
COPY manage.py ./
RUN pip install . \
    && useradd --system --home /app fleet \
    && mkdir -p /app/var && chown fleet /app/var \
    && SECRET_KEY=build python manage.py collectstatic --no-input -v 0

USER fleet
EXPOSE 8000
CMD ["gunicorn", "fleet.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
