# One image for every service; the container's command picks the service
# (`python -m services.<name> run`, exactly what `make run` starts).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
COPY services ./services
RUN pip install --no-compile . && useradd --system --uid 10001 app && mkdir -p /app/var && chown app /app/var
USER app
EXPOSE 8000
CMD ["python", "-m", "services.gateway", "run"]
