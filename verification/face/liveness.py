"""An active challenge: the person is asked for 2-3 head movements in a random order, and must make them.

This is NOT certified presentation-attack detection (ISO/IEC 30107-3). It raises the bar above holding a
still photo to the camera, swapping faces mid-session or replaying a recording of another session, no more:
a video of the person making the right moves, a good mask or an injected camera stream can pass it, and a
printed photo bent or tilted with skill may get through a single action. Where the risk calls for it, plug a
certified vendor in through `presentation.PresentationAttackDetector`.

How frames are judged (all of it from YuNet's box and landmarks, see `geometry`):

- Every frame must show exactly one face (`no_face`, `multiple_faces`).
- The first frame of the first action is the neutral baseline: it must look roughly at the camera
  (`baseline_not_frontal`). Every movement is measured against it, in the person's own frame of reference.
- Every frame must show the baseline's person: SFace cosine to the baseline at least 0.363, SFace's published
  same-person threshold (`face_changed`). A turned head scores lower than a frontal one, so this catches a
  different face, not a small drift.
- The frames given for action i must show action i: at least one of them must have turned 15° to the
  requested side, looked up 8°, or grown to 1.2x the baseline's face size. When an action's frames instead
  show another action of the challenge, the moves came in the wrong order (`challenge_out_of_order`);
  otherwise the move was not made (`challenge_not_performed`), which is what a still photo gives.

Why those amounts, measured on the 11 independent photos of shared/faces reprojected through a generic 3D
head (tests/face/transforms.py), since we have no recordings of real sessions yet:

- A 30° turn read as 8-35° (median 20°); a flat photo tilted 45° in front of a close camera moved the
  yaw estimate by 1-16°. So a turn of 15° passes most real turns and stops most tilted photos, not all.
- A 30° look up read as 0-17°, and a flat photo tilted sideways moved the pitch estimate by up to 9°: YuNet's
  landmarks follow a nod poorly, so 8° is a compromise, looking up is the least reliable action, and every
  challenge includes a turn.
- Moving closer is trivially imitated (zoom a photo); it only adds order and sequence.
- Turned heads score lower against the frontal baseline (0.65-0.86 at 30-35°, down to 0.35 for a 40° nod of a
  100 px face), so `face_changed` can also mean "turned too far": the person can try again.

All of these want calibrating on real capture sessions, on several phone models, before launch.

Expired or replayed challenges (nonces, timestamps) are the service's business, not this module's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from verification.face.geometry import DetectedFace, HeadPose, estimate_pose
from verification.face.matching import PUBLISHED_SFACE_COSINE_THRESHOLD, Embedding, cosine_similarity

if TYPE_CHECKING:
    from verification.face.engine import FaceEngine
    from verification.face.images import ImageBGR

METHOD = "active-challenge-v1"


class ChallengeAction(StrEnum):
    TURN_LEFT = "turn_left"  # the person's own left
    TURN_RIGHT = "turn_right"
    MOVE_CLOSER = "move_closer"
    LOOK_UP = "look_up"


TURNS = (ChallengeAction.TURN_LEFT, ChallengeAction.TURN_RIGHT)


class LivenessIssue(StrEnum):
    CHALLENGE_INCOMPLETE = "challenge_incomplete"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    BASELINE_NOT_FRONTAL = "baseline_not_frontal"
    FACE_CHANGED = "face_changed"
    CHALLENGE_OUT_OF_ORDER = "challenge_out_of_order"
    CHALLENGE_NOT_PERFORMED = "challenge_not_performed"


@dataclass(frozen=True, slots=True)
class LivenessConfig:
    min_turn: float = 15.0  # degrees of estimated yaw, to the requested side
    min_look_up: float = 8.0  # degrees of estimated pitch, upward
    min_closer: float = 1.2  # face size relative to the baseline's
    max_baseline_yaw: float = 20.0  # degrees
    max_baseline_pitch: float = 20.0
    min_same_face: float = PUBLISHED_SFACE_COSINE_THRESHOLD  # cosine to the baseline


DEFAULT_LIVENESS = LivenessConfig()


@dataclass(frozen=True, slots=True)
class FrameObservation:
    """What one camera frame showed: every face found, and the embedding of the face when there was one."""

    faces: tuple[DetectedFace, ...]
    image_size: tuple[int, int]  # width, height
    embedding: Embedding | None = None  # present when exactly one face was found


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    action: ChallengeAction
    performed: bool
    measured: float  # best frame: degrees for turns and looking up, size ratio for moving closer
    required: float
    frames: int


@dataclass(frozen=True, slots=True)
class FrameProblem:
    action_index: int
    frame_index: int
    issue: LivenessIssue
    similarity: float | None = None  # for face_changed: the cosine to the baseline


@dataclass(frozen=True, slots=True)
class LivenessResult:
    passed: bool
    reason_codes: tuple[LivenessIssue, ...]
    actions: tuple[ActionOutcome, ...] = field(default=())
    frame_problems: tuple[FrameProblem, ...] = field(default=())
    baseline: FrameObservation | None = None  # the neutral frame, to match against the document photo
    method: str = METHOD


def new_challenge(rng: random.Random) -> list[ChallengeAction]:
    """2 or 3 distinct actions in random order, at least one of them a turn (the cue landmarks follow best).

    Pass `random.SystemRandom()` in the service: the order must not be predictable.
    """
    count = rng.choice((2, 3))
    turn = rng.choice(TURNS)
    others = [action for action in ChallengeAction if action is not turn]
    actions = [turn, *rng.sample(others, count - 1)]
    rng.shuffle(actions)
    return actions


def observe_frame(engine: FaceEngine, image: ImageBGR) -> FrameObservation:
    """Detect the faces in one frame, and embed the face when there is exactly one."""
    faces = tuple(engine.detect(image))
    embedding = engine.embed(image, faces[0]) if len(faces) == 1 else None
    height, width = image.shape[:2]
    return FrameObservation(faces=faces, image_size=(width, height), embedding=embedding)


def check_challenge(
    actions: Sequence[ChallengeAction],
    frames_per_action: Sequence[Sequence[FrameObservation]],
    config: LivenessConfig = DEFAULT_LIVENESS,
) -> LivenessResult:
    """Judge the frames captured for each action of the challenge, in the challenge's order."""
    if not actions or len(frames_per_action) != len(actions) or any(not frames for frames in frames_per_action):
        return _failed((LivenessIssue.CHALLENGE_INCOMPLETE,))

    problems = [
        FrameProblem(i, j, issue)
        for i, frames in enumerate(frames_per_action)
        for j, frame in enumerate(frames)
        if (issue := _face_count_issue(frame)) is not None
    ]
    if problems:
        return _failed(_distinct(problem.issue for problem in problems), frame_problems=problems)

    baseline = frames_per_action[0][0]
    base_pose = _pose(baseline)
    issues: list[LivenessIssue] = []
    if abs(base_pose.yaw) > config.max_baseline_yaw or abs(base_pose.pitch) > config.max_baseline_pitch:
        issues.append(LivenessIssue.BASELINE_NOT_FRONTAL)

    base_embedding = _embedding(baseline)
    for i, frames in enumerate(frames_per_action):
        for j, frame in enumerate(frames):
            similarity = cosine_similarity(base_embedding, _embedding(frame))
            if not similarity >= config.min_same_face:
                problems.append(FrameProblem(i, j, LivenessIssue.FACE_CHANGED, similarity))
    if problems:
        issues.append(LivenessIssue.FACE_CHANGED)

    poses = [[_pose(frame) for frame in frames] for frames in frames_per_action]
    outcomes = tuple(
        _outcome(action, base_pose, slot_poses, config) for action, slot_poses in zip(actions, poses, strict=True)
    )
    missed = [index for index, outcome in enumerate(outcomes) if not outcome.performed]
    if missed:
        swapped = any(
            _outcome(other, base_pose, poses[index], config).performed
            for index in missed
            for other in actions
            if other is not actions[index]
        )
        issues.append(LivenessIssue.CHALLENGE_OUT_OF_ORDER if swapped else LivenessIssue.CHALLENGE_NOT_PERFORMED)

    return LivenessResult(
        passed=not issues,
        reason_codes=tuple(issues),
        actions=outcomes,
        frame_problems=tuple(problems),
        baseline=baseline,
    )


def _face_count_issue(frame: FrameObservation) -> LivenessIssue | None:
    if not frame.faces:
        return LivenessIssue.NO_FACE
    if len(frame.faces) > 1:
        return LivenessIssue.MULTIPLE_FACES
    return None


def _pose(frame: FrameObservation) -> HeadPose:
    return estimate_pose(frame.faces[0], frame.image_size)


def _embedding(frame: FrameObservation) -> Embedding:
    if frame.embedding is None:
        raise ValueError("a frame with one face must carry its embedding (see observe_frame)")
    return frame.embedding


def _change(action: ChallengeAction, base: HeadPose, pose: HeadPose) -> float:
    if action is ChallengeAction.TURN_LEFT:
        return pose.yaw - base.yaw
    if action is ChallengeAction.TURN_RIGHT:
        return base.yaw - pose.yaw
    if action is ChallengeAction.LOOK_UP:
        return pose.pitch - base.pitch
    return pose.size / base.size if base.size > 0 else 0.0


def _required(action: ChallengeAction, config: LivenessConfig) -> float:
    if action in TURNS:
        return config.min_turn
    if action is ChallengeAction.LOOK_UP:
        return config.min_look_up
    return config.min_closer


def _outcome(
    action: ChallengeAction, base: HeadPose, poses: Sequence[HeadPose], config: LivenessConfig
) -> ActionOutcome:
    best = max(_change(action, base, pose) for pose in poses)
    required = _required(action, config)
    return ActionOutcome(action=action, performed=best >= required, measured=best, required=required, frames=len(poses))


def _distinct(issues: Iterable[LivenessIssue]) -> tuple[LivenessIssue, ...]:
    return tuple(dict.fromkeys(issues))


def _failed(issues: Sequence[LivenessIssue], frame_problems: Sequence[FrameProblem] = ()) -> LivenessResult:
    return LivenessResult(passed=False, reason_codes=tuple(issues), frame_problems=tuple(frame_problems))
