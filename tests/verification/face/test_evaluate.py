"""The evaluation tool: metrics on shared/faces/pairs.csv, honesty about what it cannot estimate."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.arrange.photos import FACES, PAIRS_CSV
from verification.face.evaluate import main, roc_auc, tar_at_far


def test_the_tool_prints_the_metrics_for_the_shared_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(PAIRS_CSV)]) == 0
    out = capsys.readouterr().out

    assert "pairs: 66; scored: 8 genuine, 58 impostor; not scored: 0" in out
    assert "ROC-AUC: 1.0000" in out
    assert "TAR at FAR 1.0%: not estimable (needs 100 impostor pairs, have 58)" in out
    assert "TAR at FAR 0/58" in out
    assert "false-accept rate:   0.0% (0/58); 95 % upper bound 5.2%" in out
    assert "false-reject rate:   0.0% (0/8)" in out
    assert "messi5.jpg: 1 face  quality: face_too_small" in out


def test_photos_without_one_face_are_reported_not_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    cv2.imwrite(str(tmp_path / "wall.png"), gradient)
    (tmp_path / "person.jpg").write_bytes((FACES / "person_a_1.jpg").read_bytes())
    (tmp_path / "pairs.csv").write_text("image_a,image_b,same_person\nperson.jpg,wall.png,0\nperson.jpg,person.jpg,1\n")

    assert main([str(tmp_path / "pairs.csv"), "--accept", "0.6", "--reject", "0.4"]) == 0
    out = capsys.readouterr().out
    assert "wall.png: 0 faces, not scored" in out
    assert "not scored: 1" in out
    assert "not scored: person.jpg / wall.png" in out
    assert "thresholds: accept >= 0.600, reject < 0.400" in out


def test_a_malformed_pair_list_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pairs.csv").write_text("a,b\nx,y\n")
    assert main([str(tmp_path / "pairs.csv")]) == 2
    assert "expected the columns" in capsys.readouterr().err


def test_roc_auc() -> None:
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert roc_auc([0.1], [0.9]) == 0.0
    assert roc_auc([0.5], [0.5]) == 0.5
    assert math.isnan(roc_auc([], [0.1]))


def test_tar_at_far_needs_enough_impostors() -> None:
    impostor = [i / 1000 for i in range(100)]  # 0.000 .. 0.099
    assert tar_at_far([0.5, 0.05], impostor, 0.01) == (0.5, pytest.approx(0.098))
    assert tar_at_far([0.5], impostor, 0.001) is None
