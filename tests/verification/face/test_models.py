"""The model files: found in the carrier wheel, checked against our digests, refused when they differ."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from verification.face.models import (
    DETECTOR,
    MODEL_VERSION,
    RECOGNIZER,
    LoadedModels,
    ModelIntegrityError,
    carrier_directory,
    load_models,
)


def test_the_installed_model_files_have_the_pinned_digests(models: LoadedModels) -> None:
    for model, data in ((DETECTOR, models.detector), (RECOGNIZER, models.recognizer)):
        assert hashlib.sha256(data.tobytes()).hexdigest() == model.sha256
        assert (carrier_directory() / model.filename).read_bytes() == data.tobytes()


def test_the_model_version_names_both_models(models: LoadedModels) -> None:
    assert models.version == MODEL_VERSION == "yunet-2023mar-int8bq+sface-2021dec-int8bq"


def test_a_modified_model_file_is_refused(tmp_path: Path) -> None:
    for model in (DETECTOR, RECOGNIZER):
        shutil.copyfile(str(carrier_directory() / model.filename), tmp_path / model.filename)
    tampered = bytearray((tmp_path / RECOGNIZER.filename).read_bytes())
    tampered[len(tampered) // 2] ^= 0x01
    (tmp_path / RECOGNIZER.filename).write_bytes(bytes(tampered))

    with pytest.raises(ModelIntegrityError, match=f"{RECOGNIZER.filename} has sha256 .*expected {RECOGNIZER.sha256}"):
        load_models(tmp_path)


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    shutil.copyfile(str(carrier_directory() / DETECTOR.filename), tmp_path / DETECTOR.filename)

    with pytest.raises(ModelIntegrityError, match=f"{RECOGNIZER.filename} not found"):
        load_models(tmp_path)


def test_the_loaded_bytes_cannot_be_changed(models: LoadedModels) -> None:
    with pytest.raises(ValueError, match="read-only"):
        models.detector[0] = 0
