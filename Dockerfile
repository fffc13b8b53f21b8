# One image for migrate, web, worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gaoxin ./gaoxin
COPY tasks_app ./tasks_app
COPY manage.py ./
# collectstatic with the production storage (hashed, compressed names WhiteNoise serves).
RUN pip install --no-cache-dir . \
 && DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret-key-used-at-build-time-000000 \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 gaoxin && mkdir -p /app/media && chown gaoxin /app/media
USER gaoxin
EXPOSE 8000
CMD ["gunicorn", "gaoxin.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
