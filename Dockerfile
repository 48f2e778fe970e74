# Junction's image: the API, the worker and `junction migrate` (the Helm chart runs all
# three from it). Build: docker build -t junction:0.1.0 .

# 1. The web app, when the tree has one (frontend/); an empty folder otherwise.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY . .
WORKDIR /src/frontend
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund && npm run build; \
    else mkdir -p dist; fi

# 2. Junction and its bundled plugins, installed (not editable) with uv from the lock file.
FROM python:3.11-slim-bookworm AS python
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/junction
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY platform platform
COPY plugins plugins
COPY migrations migrations
RUN uv sync --frozen --no-dev --all-packages --no-editable

# 3. The runtime: no compilers, no uv, a user that is not root.
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 junction \
    && useradd --system --uid 10001 --gid junction --home-dir /var/lib/junction junction \
    && mkdir -p /var/lib/junction && chown junction:junction /var/lib/junction
COPY --from=python /opt/junction /opt/junction
COPY --from=frontend /src/frontend/dist /opt/junction/frontend
ENV PATH=/opt/junction/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    JUNCTION_ENV=production \
    JUNCTION_VAR_DIR=/var/lib/junction \
    JUNCTION_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/junction
EXPOSE 8000
# SIGTERM reaches Junction itself (no shell in between): the API drains, the worker
# finishes or hands back its events.
ENTRYPOINT ["junction"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
