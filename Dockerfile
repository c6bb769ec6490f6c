# portrait-mockserver as a container: the emulator on port 8000, state in /data (SQLite).
#   docker build -t portrait-mockserver .
#   docker run --rm -p 8000:8000 -e MOCKSERVER_ADMIN_TOKEN=<a secret> portrait-mockserver
# It listens beyond loopback: without MOCKSERVER_ADMIN_TOKEN anyone who reaches the port can
# reset it (the server warns). A team instance also wants MOCKSERVER_FETCH_MODE=shared.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MOCKSERVER_PORT=8000 \
    MOCKSERVER_STORE=sqlite:/data/mockserver.db

WORKDIR /src
# Exactly what the wheel is built from (pyproject.toml: readme, package, force-included data).
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY contract_tests ./contract_tests
COPY schemas ./schemas
COPY fixtures ./fixtures
RUN pip install . \
    && useradd --system --home-dir /data --create-home mockserver \
    && rm -rf /src

USER mockserver
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

# The image has no curl: ask the admin API with the Python that is there anyway.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__admin/health' % os.environ.get('MOCKSERVER_PORT', '8000'), timeout=2)"]

CMD ["mockserver", "serve", "--host", "0.0.0.0"]
