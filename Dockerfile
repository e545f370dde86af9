# syntax=docker/dockerfile:1
# Retrain's workers and CLI: Node runs the TypeScript through tsx (there is no build step), and
# a venv made from training/requirements.txt runs the default scikit-learn trainer.
# Used by docker-compose.yml; guide: docs/production-stack.md.
# Node 22: the AWS SDK's releases after January 2027 need it (the test suite passes on 20 and 22).
FROM node:22.23.3-bookworm-slim

# Debian 12's Python is 3.11, which the pinned training requirements support.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

# The training venv lives outside the project, so a project mounted over /app does not hide it.
# Installed before the code is copied: this layer is rebuilt only when the requirements change.
COPY training/requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/retrain-venv \
    && /opt/retrain-venv/bin/pip install --no-cache-dir --disable-pip-version-check --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt
ENV RETRAIN_PYTHON=/opt/retrain-venv/bin/python

WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev leaves out the test tools only: tsx, which bin/retrain.mjs loads the TypeScript
# with, is in "dependencies" (test/docker-compose.test.ts keeps it so).
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force
COPY . .

# Pipelines come from pipelines/ of this image; for a project of your own, mount it and set
# RETRAIN_PROJECT_DIR to where it is (docs/production-stack.md). .retrain/ is writable for the
# local store and logs that are used when RETRAIN_STORE is not set.
ENV RETRAIN_PROJECT_DIR=/app
RUN mkdir -p /app/.retrain && chown node:node /app/.retrain

# The unprivileged user of the Node image; the code and the venv stay read-only to it.
USER node
ENTRYPOINT ["node", "/app/bin/retrain.mjs"]
CMD ["help"]
