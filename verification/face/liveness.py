"""An active challenge: the person is asked for 2-3 head movements in a random order, and must make them.

This is NOT certified presentation-attack detection (ISO/IEC 30107-3). It raises the bar above holding a
photo to the camera, tilting, zooming or mirroring it, reusing the document's portrait, swapping faces
mid-session or replaying another session, no more: a video of the person making the right moves, a
still re-rendered through a 3-D head model, a good mask or an injected camera stream can pass it. So a
pass is `confident` only with margin on every check, and only then may the service verify without a
person looking (`IDV_FACE_VERIFY_WITHOUT_REVIEW`); everything else goes to an operator. Where the
risk calls for it, plug a certified vendor in through `presentation.PresentationAttackDetector`.

How frames are judged (from YuNet's box and landmarks, see `geometry` and `parallax`, and the face
signatures of `reuse`):

- Every frame must show exactly one face (`no_face`, `multiple_faces`).
- The first frame of the first action is the neutral baseline: it must look roughly at the camera
  (`baseline_not_frontal`). Every movement is measured against it, in the person's own frame of reference.
- Every frame must show the baseline's person: SFace cosine to the baseline at least 0.363, SFace's published
  same-person threshold (`face_changed`: another person spliced into the capture). From 0.363 to under 0.50
  (the match's accept threshold) the person is neither clearly the same nor clearly another, so an operator
  looks (`face_changed_without_margin`). Real photos of one person in different poses score 0.60-0.81
  against each other on shared/faces, different people at most 0.26.
- No picture twice: a frame of one action that is a frame of another action again (`frames_reused`), or a
  frame that is the document's portrait again (`document_reused`), fails.
- The frames given for action i must show action i. A turn counts by its depth-made part only
  (`parallax.depth_motion`: the yaw change the plane of eyes and mouth cannot explain), at least 15°
  to the requested side; looking up likewise by 8° of depth-made pitch; moving closer by a face 1.2x the
  baseline's size. A turn the landmarks show but depth does not is a picture moved (`planar_motion`),
  in any frame, not only the best one of an action. When an action's frames instead show another
  action of the challenge, the moves came in the wrong order (`challenge_out_of_order`); otherwise the
  move was not made (`challenge_not_performed`).

Why those amounts: see `parallax` for the turns (real pose pairs 20-29° of depth-made turn; flat prints
within 16.3°, so 15° counts and 20° is the margin). We have no real photos of one person looking up,
so looking up is never a pass with margin: a challenge with it goes to review when all else passed,
and new challenges no longer ask for it (`CALIBRATED_ACTIONS`).
Moving closer is trivially imitated (zoom a photo); it only adds order and sequence, and every challenge
includes a turn.

All of these want calibrating on real capture sessions, on several phone models, before launch.

Expired or replayed challenges (nonces, timestamps) are the service's business, not this module's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from verification.face.geometry import DetectedFace, HeadPose, estimate_pose
from verification.face.matching import (
    DEFAULT_THRESHOLDS,
    PUBLISHED_SFACE_COSINE_THRESHOLD,
    Embedding,
    cosine_similarity,
)
from verification.face.parallax import DepthMotion, depth_motion
from verification.face.reuse import (
    DEFAULT_REUSE,
    FaceSignature,
    ReuseConfig,
    face_patch,
    same_frame,
    same_picture,
    thumbnail,
    warped_picture,
)

if TYPE_CHECKING:
    from verification.face.engine import FaceEngine
    from verification.face.images import ImageBGR

METHOD = "active-challenge-v2"
Reason = TypeVar("Reason", bound=StrEnum)
# A frame whose landmarks turned by the required amount with less than this share of it made by depth
# moved like a picture: real pose pairs 15° or more apart keep 0.96 or more of their turn as depth (a
# 12° pair, 0.63), flat prints mostly far less (see `parallax`).
PLANAR_SHARE = 0.5


class ChallengeAction(StrEnum):
    TURN_LEFT = "turn_left"  # the person's own left
    TURN_RIGHT = "turn_right"
    MOVE_CLOSER = "move_closer"
    LOOK_UP = "look_up"


TURNS = (ChallengeAction.TURN_LEFT, ChallengeAction.TURN_RIGHT)
# What new challenges draw from: the actions whose genuine performance we measured on real photos. Turns
# are calibrated on real pose pairs (see `parallax`); moving closer is a face-size ratio, which different
# real photos of one person at different distances show plainly. Looking up is not drawn: no real photo
# pair of shared/faces differs by a depth-made upward pitch, so it never passed with margin and sent
# every challenge holding it (half of them) to review. It is still judged for challenges issued before.
CALIBRATED_ACTIONS = (*TURNS, ChallengeAction.MOVE_CLOSER)


class LivenessIssue(StrEnum):
    CHALLENGE_INCOMPLETE = "challenge_incomplete"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    BASELINE_NOT_FRONTAL = "baseline_not_frontal"
    FACE_CHANGED = "face_changed"
    FRAMES_REUSED = "frames_reused"
    DOCUMENT_REUSED = "document_reused"
    PLANAR_MOTION = "planar_motion"
    CHALLENGE_OUT_OF_ORDER = "challenge_out_of_order"
    CHALLENGE_NOT_PERFORMED = "challenge_not_performed"
    PAD_ATTACK_DETECTED = "pad_attack_detected"  # a certified PAD vendor judged the frames an attack


class Uncertainty(StrEnum):
    """Why a pass is not one with margin: a person should look."""

    TURN_WITHOUT_MARGIN = "turn_without_margin"  # the depth-made turn is under the margin
    # The turned face is the neutral frame's picture again: mirrored, bent or re-rendered (see `reuse`).
    TURN_LIKE_BASELINE = "turn_like_baseline"
    LOOK_UP_UNCALIBRATED = "look_up_uncalibrated"
    # A frame's face is the baseline's person only by a little (SFace cosine in the match's grey band).
    FACE_CHANGED_WITHOUT_MARGIN = "face_changed_without_margin"
    # A certified PAD vendor (see `presentation`) could not judge: it timed out, failed or answered nonsense.
    PAD_UNAVAILABLE = "pad_unavailable"
    PAD_ANSWER_INVALID = "pad_answer_invalid"
    # The certified PAD passed an answer the built-in checks failed (or passed without margin).
    PAD_PASSED_CHECKS_DID_NOT = "pad_passed_checks_did_not"


@dataclass(frozen=True, slots=True)
class LivenessConfig:
    min_turn: float = 15.0  # degrees of depth-made yaw, to the requested side
    margin_turn: float = 20.0  # from here a turn passes with margin
    min_look_up: float = 8.0  # degrees of depth-made pitch, upward
    min_closer: float = 1.2  # face size relative to the baseline's
    max_baseline_yaw: float = 20.0  # degrees
    max_baseline_pitch: float = 20.0
    min_same_face: float = PUBLISHED_SFACE_COSINE_THRESHOLD  # cosine to the baseline
    margin_same_face: float = DEFAULT_THRESHOLDS.accept  # from here the same person with margin
    reuse: ReuseConfig = DEFAULT_REUSE


DEFAULT_LIVENESS = LivenessConfig()


@dataclass(frozen=True, slots=True)
class FrameObservation:
    """What one camera frame showed: every face found, and the face's signature when there was one."""

    faces: tuple[DetectedFace, ...]
    image_size: tuple[int, int]  # width, height
    signature: FaceSignature | None = None  # present when exactly one face was found

    @property
    def embedding(self) -> Embedding | None:
        return self.signature.embedding if self.signature is not None else None


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    action: ChallengeAction
    performed: bool
    measured: float  # best frame: depth-made degrees for turns and looking up, size ratio for moving closer
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
    portrait: FrameObservation | None = None  # the document's portrait as observed (not observed again)
    method: str = METHOD
    uncertainties: tuple[Uncertainty, ...] = field(default=())  # why a pass has no margin
    certified: bool = False  # judged by a certified PAD (see `presentation`), not by this challenge

    @property
    def confident(self) -> bool:
        """Passed with margin on every check: the only pass that may verify without a person looking."""
        return self.passed and not self.uncertainties


def new_challenge(rng: random.Random) -> list[ChallengeAction]:
    """2 or 3 distinct calibrated actions in random order, at least one of them a turn (the cue landmarks
    follow best).

    Pass `random.SystemRandom()` in the service: the order must not be predictable.
    """
    count = rng.choice((2, 3))
    turn = rng.choice(TURNS)
    others = [action for action in CALIBRATED_ACTIONS if action is not turn]
    actions = [turn, *rng.sample(others, count - 1)]
    rng.shuffle(actions)
    return actions


def observe_frame(engine: FaceEngine, image: ImageBGR) -> FrameObservation:
    """Detect the faces in one frame, and take the face's signature when there is exactly one."""
    faces = tuple(engine.detect(image))
    signature = None
    if len(faces) == 1:
        aligned = engine.align(image, faces[0])
        embedding = engine.embed(image, faces[0], aligned)
        signature = FaceSignature(embedding, thumbnail(aligned), thumbnail(image), face_patch(image, faces[0].box))
    height, width = image.shape[:2]
    return FrameObservation(faces=faces, image_size=(width, height), signature=signature)


def check_challenge(
    actions: Sequence[ChallengeAction],
    frames_per_action: Sequence[Sequence[FrameObservation]],
    config: LivenessConfig = DEFAULT_LIVENESS,
    document: FrameObservation | None = None,
) -> LivenessResult:
    """Judge the frames captured for each action of the challenge, in the challenge's order; `document`,
    when given, is the document's portrait, which no frame may be."""
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

    base_embedding = _signature(baseline).embedding
    same_face_doubted = False
    for i, frames in enumerate(frames_per_action):
        for j, frame in enumerate(frames):
            similarity = cosine_similarity(base_embedding, _signature(frame).embedding)
            if not similarity >= config.min_same_face:
                problems.append(FrameProblem(i, j, LivenessIssue.FACE_CHANGED, similarity))
            elif similarity < config.margin_same_face:
                same_face_doubted = True
    reused = _reused(frames_per_action, document, config.reuse)
    problems.extend(reused)
    issues.extend(_distinct(problem.issue for problem in problems))

    moves = [[_move(baseline, frame) for frame in frames] for frames in frames_per_action]
    # Every frame counts, not only the best: one frame that turned like a picture is a picture moved.
    planar = [
        FrameProblem(i, j, LivenessIssue.PLANAR_MOTION)
        for i, (action, slot_moves) in enumerate(zip(actions, moves, strict=True))
        if action in TURNS
        for j, move in enumerate(slot_moves)
        if _change(action, move, flat=True) >= config.min_turn
        and _change(action, move, flat=False) < config.min_turn * PLANAR_SHARE
    ]
    problems.extend(planar)
    if planar:
        issues.append(LivenessIssue.PLANAR_MOTION)
    outcomes = tuple(_outcome(action, slot_moves, config) for action, slot_moves in zip(actions, moves, strict=True))
    missed = [index for index, outcome in enumerate(outcomes) if not outcome.performed]
    if missed and not planar:
        if any(_outcome(actions[index], moves[index], config, flat=True).performed for index in missed):
            issues.append(LivenessIssue.PLANAR_MOTION)
        elif any(
            _outcome(other, moves[index], config).performed
            for index in missed
            for other in actions
            if other is not actions[index]
        ):
            issues.append(LivenessIssue.CHALLENGE_OUT_OF_ORDER)
        else:
            issues.append(LivenessIssue.CHALLENGE_NOT_PERFORMED)

    return LivenessResult(
        passed=not issues,
        reason_codes=tuple(issues),
        actions=outcomes,
        frame_problems=tuple(problems),
        baseline=baseline,
        portrait=document,
        uncertainties=()
        if issues
        else (
            *((Uncertainty.FACE_CHANGED_WITHOUT_MARGIN,) if same_face_doubted else ()),
            *_uncertainties(actions, frames_per_action, moves, config),
        ),
    )


@dataclass(frozen=True, slots=True)
class _Move:
    """One frame against the baseline: the landmarks' pose change, and its depth-made part."""

    pose: HeadPose
    base: HeadPose
    depth: DepthMotion


def _move(baseline: FrameObservation, frame: FrameObservation) -> _Move:
    return _Move(_pose(frame), _pose(baseline), depth_motion(baseline.faces[0].landmarks, frame.faces[0].landmarks))


def _reused(
    frames_per_action: Sequence[Sequence[FrameObservation]], document: FrameObservation | None, config: ReuseConfig
) -> list[FrameProblem]:
    problems = []
    flat = [(i, j, _signature(frame)) for i, frames in enumerate(frames_per_action) for j, frame in enumerate(frames)]
    portrait = document.signature if document is not None else None
    for i, j, signature in flat:
        if portrait is not None and same_picture(portrait, signature, config):
            problems.append(FrameProblem(i, j, LivenessIssue.DOCUMENT_REUSED))
        elif any(k != i and same_frame(other, signature, config) for k, _, other in flat):
            problems.append(FrameProblem(i, j, LivenessIssue.FRAMES_REUSED))
    return problems


def _uncertainties(
    actions: Sequence[ChallengeAction],
    frames_per_action: Sequence[Sequence[FrameObservation]],
    moves: Sequence[Sequence[_Move]],
    config: LivenessConfig,
) -> tuple[Uncertainty, ...]:
    found: list[Uncertainty] = []
    baseline = _signature(frames_per_action[0][0])
    for action, frames, slot_moves in zip(actions, frames_per_action, moves, strict=True):
        if action is ChallengeAction.LOOK_UP:
            found.append(Uncertainty.LOOK_UP_UNCALIBRATED)
        if action not in TURNS:
            continue
        turned = [
            frame
            for frame, move in zip(frames, slot_moves, strict=True)
            if _change(action, move, flat=False) >= config.margin_turn
        ]
        if not turned:
            found.append(Uncertainty.TURN_WITHOUT_MARGIN)
        elif all(warped_picture(baseline, _signature(frame), config.reuse) for frame in turned):
            found.append(Uncertainty.TURN_LIKE_BASELINE)
    return _distinct(found)


def _face_count_issue(frame: FrameObservation) -> LivenessIssue | None:
    if not frame.faces:
        return LivenessIssue.NO_FACE
    if len(frame.faces) > 1:
        return LivenessIssue.MULTIPLE_FACES
    return None


def _pose(frame: FrameObservation) -> HeadPose:
    return estimate_pose(frame.faces[0], frame.image_size)


def _signature(frame: FrameObservation) -> FaceSignature:
    if frame.signature is None:
        raise ValueError("a frame with one face must carry its signature (see observe_frame)")
    return frame.signature


def _change(action: ChallengeAction, move: _Move, *, flat: bool) -> float:
    """How far the frame went toward `action`; `flat`: by the landmarks alone, as a picture could."""
    if action is ChallengeAction.MOVE_CLOSER:
        return move.pose.size / move.base.size if move.base.size > 0 else 0.0
    if action is ChallengeAction.LOOK_UP:
        return move.pose.pitch - move.base.pitch if flat else move.depth.pitch
    yaw = move.pose.yaw - move.base.yaw if flat else move.depth.yaw
    return yaw if action is ChallengeAction.TURN_LEFT else -yaw


def _required(action: ChallengeAction, config: LivenessConfig) -> float:
    if action in TURNS:
        return config.min_turn
    if action is ChallengeAction.LOOK_UP:
        return config.min_look_up
    return config.min_closer


def _outcome(
    action: ChallengeAction, moves: Sequence[_Move], config: LivenessConfig, *, flat: bool = False
) -> ActionOutcome:
    best = max(_change(action, move, flat=flat) for move in moves)
    required = _required(action, config)
    return ActionOutcome(action=action, performed=best >= required, measured=best, required=required, frames=len(moves))


def _distinct(issues: Iterable[Reason]) -> tuple[Reason, ...]:
    return tuple(dict.fromkeys(issues))


def _failed(issues: Sequence[LivenessIssue], frame_problems: Sequence[FrameProblem] = ()) -> LivenessResult:
    return LivenessResult(passed=False, reason_codes=tuple(issues), frame_problems=tuple(frame_problems))
