"""Fixtures: the real models, loaded once per test session, and embeddings of the shared photos
(registered for every test by tests/conftest.py, for tests/verification/face and tests/face)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from tests.arrange.photos import photo
from verification.face.engine import FaceEngine
from verification.face.matching import Embedding
from verification.face.models import LoadedModels, load_models


@pytest.fixture(scope="session")
def models() -> LoadedModels:
    return load_models()


@pytest.fixture(scope="session")
def engine(models: LoadedModels) -> FaceEngine:
    return FaceEngine(models)


@pytest.fixture(scope="session")
def embedding_of(engine: FaceEngine) -> Callable[[str], Embedding]:
    """The embedding of the one face on a shared/faces photo."""

    @functools.cache
    def embed(name: str) -> Embedding:
        image = photo(name)
        faces = engine.detect(image)
        assert len(faces) == 1, f"{name}: expected one face, found {len(faces)}"
        return engine.embed(image, faces[0])

    return embed
