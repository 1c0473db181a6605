"""The active challenge, judged on real photos through the real models.

Genuine frames are different real photos of one person in different real poses (shared/faces):
obama.jpg looks nearly straight on, obama2.jpg is turned about 23° to his right, obama3.jpg and
obama4.jpg are other real photos (obama4's face fills more of its frame: closer). Attacks are built as
an attacker holding ONE photo would build them (`verification.face.attacks`): tilted, rotated, zoomed,
mirrored, blurred, recompressed, nose-warped or re-rendered copies of that photo. No warp of a still
is ever called genuine here.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from tests.arrange.photos import photo, side_by_side
from verification.face import attacks
from verification.face.engine import FaceEngine
from verification.face.geometry import Box, DetectedFace, Landmarks
from verification.face.liveness import (
    CALIBRATED_ACTIONS,
    TURNS,
    ChallengeAction,
    FrameObservation,
    LivenessIssue,
    Uncertainty,
    check_challenge,
    new_challenge,
    observe_frame,
)

LEFT, RIGHT, CLOSER = (
    ChallengeAction.TURN_LEFT,
    ChallengeAction.TURN_RIGHT,
    ChallengeAction.MOVE_CLOSER,
)


@pytest.fixture(scope="module")
def frames(engine: FaceEngine) -> dict[str, FrameObservation]:
    """One observation per kind of frame, observed through the real models."""
    gradient = cv2.cvtColor(np.tile(np.linspace(0, 255, 747, dtype=np.uint8), (900, 1)), cv2.COLOR_GRAY2BGR)
    obama2 = photo("obama2.jpg")
    images = {
        "neutral": photo("obama.jpg"),  # real, nearly straight on
        "right": obama2,  # real, turned to his right
        "closer": photo("obama4.jpg"),  # real, the face fills more of the frame
        "other": photo("obama3.jpg"),  # real, seen from his left of obama2.jpg
        "document": photo("obama3.jpg"),
        "someone_else": photo("person_b_1.jpg"),
        "no_face": gradient,
        "two_faces": side_by_side(photo("obama.jpg"), photo("person_b_1.jpg")),
        # Attacks on obama2.jpg: its mirror image reads as a turn to his left.
        "obama2_mirrored": attacks.mirror_print(obama2),
        "neutral_recompressed": attacks.recompress_print(photo("obama.jpg"), 80),
    }
    return {name: observe_frame(engine, frame) for name, frame in images.items()}


Frames = dict[str, FrameObservation]


def slots(frames: Frames, *groups: list[str]) -> list[list[FrameObservation]]:
    return [[frames[name] for name in group] for group in groups]


@pytest.mark.parametrize(
    ("actions", "groups"),
    [
        ([RIGHT, CLOSER], (["neutral", "right"], ["closer"])),
        ([CLOSER, RIGHT], (["neutral", "closer"], ["right"])),
        ([LEFT], (["right", "other"],)),  # from obama2.jpg, obama3.jpg is a real turn to his left
    ],
)
def test_real_photos_making_the_requested_moves_in_order_pass_with_margin(
    frames: Frames, actions: list[ChallengeAction], groups: tuple[list[str], ...]
) -> None:
    result = check_challenge(
        actions, slots(frames, *groups), document=frames["document"] if LEFT not in actions else None
    )
    assert result.passed and result.confident, (result.reason_codes, result.uncertainties, result.actions)
    assert [outcome.action for outcome in result.actions] == actions
    turn = next(outcome for outcome in result.actions if outcome.action in TURNS)
    assert turn.measured >= 20.0  # the depth-made part of the turn, with margin
    assert result.baseline is slots(frames, *groups)[0][0]


def test_the_same_frame_sent_for_every_action_is_refused(frames: Frames) -> None:
    result = check_challenge([RIGHT, CLOSER], slots(frames, ["neutral", "neutral"], ["neutral_recompressed"]))
    assert not result.passed
    assert LivenessIssue.FRAMES_REUSED in result.reason_codes


def test_the_document_portrait_as_a_live_frame_is_refused(frames: Frames) -> None:
    result = check_challenge(
        [RIGHT, CLOSER], slots(frames, ["neutral", "right"], ["closer"]), document=frames["neutral_recompressed"]
    )
    assert result.reason_codes[0] is LivenessIssue.DOCUMENT_REUSED
    assert [(p.action_index, p.frame_index) for p in result.frame_problems] == [(0, 0)]


def test_the_right_moves_in_the_wrong_order_fail(frames: Frames) -> None:
    result = check_challenge([RIGHT, CLOSER], slots(frames, ["neutral", "closer"], ["right"]))
    assert result.reason_codes == (LivenessIssue.CHALLENGE_OUT_OF_ORDER,)


def test_a_turn_to_the_wrong_side_is_not_the_requested_turn(frames: Frames) -> None:
    result = check_challenge([LEFT, RIGHT], slots(frames, ["neutral", "right"], ["closer"]))
    assert result.reason_codes == (LivenessIssue.CHALLENGE_OUT_OF_ORDER,)
    assert not result.actions[0].performed


def test_a_different_person_in_one_frame_fails(frames: Frames) -> None:
    result = check_challenge([RIGHT, CLOSER], slots(frames, ["neutral", "someone_else"], ["closer"]))
    assert not result.passed
    assert LivenessIssue.FACE_CHANGED in result.reason_codes
    (problem,) = result.frame_problems
    assert (problem.action_index, problem.frame_index, problem.issue) == (0, 1, LivenessIssue.FACE_CHANGED)
    assert problem.similarity is not None and problem.similarity < 0.363


def test_a_frame_without_a_face_fails(frames: Frames) -> None:
    result = check_challenge([RIGHT, CLOSER], slots(frames, ["neutral", "right"], ["no_face", "closer"]))
    assert result.reason_codes == (LivenessIssue.NO_FACE,)
    assert [(p.action_index, p.frame_index) for p in result.frame_problems] == [(1, 0)]


def test_a_frame_with_two_faces_fails(frames: Frames) -> None:
    result = check_challenge([RIGHT, CLOSER], slots(frames, ["neutral", "two_faces"], ["closer"]))
    assert result.reason_codes == (LivenessIssue.MULTIPLE_FACES,)


def test_a_mirrored_photo_is_not_a_turn_with_margin(frames: Frames) -> None:
    """Mirroring obama2.jpg moves the nose with real depth: the turn counts, but it is the neutral
    picture again, so a person must look."""
    result = check_challenge([LEFT], slots(frames, ["right", "obama2_mirrored"]))
    assert not result.confident
    assert not result.passed or Uncertainty.TURN_LIKE_BASELINE in result.uncertainties


@pytest.mark.parametrize(
    "frames_per_action",
    [
        lambda f: [],
        lambda f: [[f["neutral"], f["right"]]],
        lambda f: [[f["neutral"], f["right"]], []],
        lambda f: [[f["neutral"]], [f["right"]], [f["closer"]]],
    ],
)
def test_missing_or_extra_action_slots_fail(
    frames: Frames, frames_per_action: Callable[[Frames], list[list[FrameObservation]]]
) -> None:
    result = check_challenge([RIGHT, CLOSER], frames_per_action(frames))
    assert result.reason_codes == (LivenessIssue.CHALLENGE_INCOMPLETE,)


@pytest.mark.parametrize("name", ["obama.jpg", "person_b_1.jpg", "person_c_1.jpg"])
@pytest.mark.parametrize("action", [LEFT, RIGHT])
def test_no_attack_built_from_one_photo_passes_with_margin(
    engine: FaceEngine, name: str, action: ChallengeAction
) -> None:
    """Every attack type of `verification.face.attacks` on a real photo: refused, or at most review."""
    image = photo(name)
    (face,) = engine.detect(image)
    neutral = observe_frame(engine, attacks.recompress_print(image, 90))
    closer = observe_frame(engine, attacks.zoom_print(image, face, 1.3))
    sign = 1.0 if action is LEFT else -1.0
    for kind, attack_frames in attacks.turn_attacks(image, face, sign).items():
        observed = [neutral, *(observe_frame(engine, frame) for frame in attack_frames)]
        result = check_challenge([action, CLOSER], [observed, [closer]])
        assert not result.confident, (kind, result.actions, result.uncertainties)


def test_a_challenge_is_two_or_three_distinct_actions_with_a_turn() -> None:
    rng = random.Random(20240601)
    seen = set()
    for _ in range(500):
        actions = new_challenge(rng)
        assert 2 <= len(actions) <= 3
        assert len(set(actions)) == len(actions)
        assert any(action in TURNS for action in actions)
        seen.add(tuple(actions))
    # Every ordering that the rule allows turns up: 6 pairs and 6 triples of turns and moving closer.
    assert len(seen) == 12


def test_new_challenges_draw_only_calibrated_actions() -> None:
    """Looking up has no real photos to calibrate on (no genuine pair of shared/faces looks up by a
    depth-made 8°), so it could never pass with margin: drawn, it sent half of genuine users to review."""
    rng = random.Random(5)
    drawn = {action for _ in range(500) for action in new_challenge(rng)}
    assert drawn == set(CALIBRATED_ACTIONS) == {LEFT, RIGHT, CLOSER}
    assert ChallengeAction.LOOK_UP not in drawn


def test_a_look_up_in_a_challenge_issued_before_is_still_judged(frames: Frames) -> None:
    """Challenges stored before looking up was dropped are answered through the same code: a frame that
    does not look up does not perform it, and the action is reported like any other."""
    result = check_challenge([RIGHT, ChallengeAction.LOOK_UP], slots(frames, ["neutral", "right"], ["closer"]))
    assert result.reason_codes == (LivenessIssue.CHALLENGE_NOT_PERFORMED,)
    assert [(outcome.action, outcome.performed) for outcome in result.actions] == [
        (RIGHT, True),
        (ChallengeAction.LOOK_UP, False),
    ]


def test_the_challenge_follows_its_random_source() -> None:
    assert new_challenge(random.Random(7)) == new_challenge(random.Random(7))


def test_one_frame_turned_like_a_picture_fails_the_answer_whatever_the_best_frame(frames: Frames) -> None:
    """Landmarks by hand (the face's signature borrowed from a real frame): a sheared picture reads as a
    25° turn with no depth, beside a frame whose nose really swung across."""
    frontal = Landmarks((300.0, 200.0), (400.0, 200.0), (350.0, 257.0), (310.0, 300.0), (390.0, 300.0))

    def shear(point: tuple[float, float]) -> tuple[float, float]:
        return (point[0] - 0.4 * (point[1] - 200.0), point[1])

    sheared = Landmarks(*(shear(point) for point in frontal))
    turned = frontal._replace(nose_tip=(327.0, 257.0))  # the nose 0.23 eye distances toward his right

    def frame(marks: Landmarks) -> FrameObservation:
        face = DetectedFace(Box(260.0, 130.0, 180.0, 220.0), marks, 0.95)
        return FrameObservation(faces=(face,), image_size=(640, 480), signature=frames["neutral"].signature)

    honest = check_challenge([RIGHT], [[frame(frontal), frame(turned)]])
    assert honest.passed, honest.reason_codes
    result = check_challenge([RIGHT], [[frame(frontal), frame(sheared), frame(turned)]])
    assert result.reason_codes == (LivenessIssue.PLANAR_MOTION,)
    assert [(p.action_index, p.frame_index) for p in result.frame_problems] == [(0, 1)]


def test_a_frame_only_a_little_like_the_baseline_goes_to_a_person(frames: Frames) -> None:
    """No real photo pair of shared/faces falls between 0.363 and 0.50 (one person 0.60-0.81, two people at
    most 0.26), so the turned frame's embedding is drawn toward another person's until it does."""
    base = frames["neutral"].signature
    turned, other = frames["right"].signature, frames["someone_else"].signature
    assert base is not None and turned is not None and other is not None
    for weight in np.linspace(1.0, 0.0, 41):
        mixed = weight * turned.embedding + (1.0 - weight) * other.embedding
        mixed = (mixed / np.linalg.norm(mixed)).astype(np.float32)
        similarity = float(np.dot(base.embedding, mixed))
        if similarity < 0.45:
            break
    assert 0.363 <= similarity < 0.50, similarity
    doubted = dataclasses.replace(frames["right"], signature=dataclasses.replace(turned, embedding=mixed))
    result = check_challenge([RIGHT, CLOSER], [[frames["neutral"], doubted], [frames["closer"]]])
    assert result.passed and not result.confident
    assert Uncertainty.FACE_CHANGED_WITHOUT_MARGIN in result.uncertainties
