"""`idv dev face-try`: the service's face checks and decision on real photos of shared/faces, every
number printed; refused in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main
from tests.arrange.photos import FACES

ROOT = Path(__file__).resolve().parents[2]
# obama3.jpg as the document; obama.jpg straight on, obama2.jpg turned to his right, obama4.jpg closer.
GENUINE = [
    "--document",
    str(FACES / "obama3.jpg"),
    "--straight",
    str(FACES / "obama.jpg"),
    "--right",
    str(FACES / "obama2.jpg"),
    "--closer",
    str(FACES / "obama4.jpg"),
]


def _try(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["dev", "face-try", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_real_photos_of_the_person_making_the_moves_are_verified_with_every_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _try(capsys, *GENUINE, "--seed", "3")
    assert code == 0, out
    assert out.startswith("DEVELOPMENT ONLY")
    # A challenge drawn as the service draws one, among the moves the photos answer.
    challenge = out.splitlines()[1].removeprefix("challenge: ").split(", ")
    assert "turn_right" in challenge and set(challenge) <= {"turn_right", "move_closer"}
    assert "turn_right   measured 22.57° made by depth, required 15.00" in out
    assert "match: cosine 0.7682 (accept >= 0.5, reject < 0.363): accept" in out
    assert "liveness (active-challenge-v2, certified false): passed with margin" in out
    assert "decision: verified (evidence_consistent; IDV_FACE_VERIFY_WITHOUT_REVIEW=margin" in out


def test_someone_else_or_a_still_photo_is_rejected_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    impostor = [*GENUINE]
    impostor[1] = str(FACES / "person_b_1.jpg")
    code, out, _ = _try(capsys, *impostor, "--actions", "turn_right,move_closer")
    assert code == 0
    assert "decision: rejected (face_mismatch" in out

    still = str(FACES / "obama.jpg")  # the straight photo sent again as the turn
    document = str(FACES / "obama3.jpg")
    pinned = ["--actions", "turn_right"]
    code, out, _ = _try(capsys, "--document", document, "--straight", still, "--right", still, *pinned)
    assert code == 0
    assert "turn_right   measured" in out and "not performed" in out
    assert "decision: rejected (liveness_failed" in out


def test_photos_that_cannot_answer_a_challenge_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    only_closer = ["--document", str(FACES / "obama3.jpg"), "--straight", str(FACES / "obama.jpg")]
    code, _, err = _try(capsys, *only_closer, "--closer", str(FACES / "obama4.jpg"))
    assert code == 2 and "one of them a turn" in err
    code, _, err = _try(capsys, *GENUINE, "--actions", "turn_left")
    assert code == 2 and "no photo for turn_left" in err


def test_production_refuses_it() -> None:
    env = {**os.environ, "IDV_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "-m", "service", "dev", "face-try", *GENUINE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "for development only" in result.stderr and result.stdout == ""
