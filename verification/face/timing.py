"""When the frames of an answer were captured, as the capturing client says (milliseconds on its own
monotonic clock, e.g. `performance.now()`): one continuous capture, in order, of plausible length.

Times a client sends can be forged by whoever controls the client, so they only ever take evidence
away: frames out of capture order or with a repeated time are refused (no camera gives two frames one
time), and a capture too short for a person to make the moves, or too long to be one session, sends
an otherwise verifiable answer to an operator instead of rejecting it. The bounds are settings
(`IDV_FACE_CAPTURE_MIN_MS`, `IDV_FACE_CAPTURE_MAX_MS`), not measurements: we have no real capture
sessions to calibrate them on (our genuine test frames are separate photos), so they are set wide and
only decide between verified and review. Answers without times are judged as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class CaptureOrderIssue(StrEnum):
    REPEATED = "capture_time_repeated"
    OUT_OF_ORDER = "capture_time_out_of_order"


class CaptureDoubt(StrEnum):
    """Why the capture's timing sends an answer to review."""

    TOO_SHORT = "capture_too_short"
    TOO_LONG = "capture_too_long"
    TOO_FEW_FRAMES = "too_few_frames"  # an action with fewer frames than a continuous capture gives


def frame_count_doubts(frames_per_action: Sequence[int], min_frames_per_action: int) -> tuple[CaptureDoubt, ...]:
    """A continuous capture gives many frames per move; fewer than `min_frames_per_action` for any action
    (`IDV_FACE_MIN_FRAMES_PER_ACTION`) sends an otherwise verifiable answer to an operator."""
    if any(count < min_frames_per_action for count in frames_per_action):
        return (CaptureDoubt.TOO_FEW_FRAMES,)
    return ()


@dataclass(frozen=True, slots=True)
class CaptureBounds:
    min_ms: int  # first to last frame: under this, too fast for a person to make the moves
    max_ms: int  # over this, not one continuous capture


@dataclass(frozen=True, slots=True)
class OrderProblem:
    action_index: int
    frame_index: int
    issue: CaptureOrderIssue


def order_problems(times: Sequence[Sequence[int]]) -> list[OrderProblem]:
    """Each frame, in the answer's order (action by action), must come strictly after the one before."""
    problems = []
    previous: int | None = None
    for i, action in enumerate(times):
        for j, at in enumerate(action):
            if previous is not None and at == previous:
                problems.append(OrderProblem(i, j, CaptureOrderIssue.REPEATED))
            elif previous is not None and at < previous:
                problems.append(OrderProblem(i, j, CaptureOrderIssue.OUT_OF_ORDER))
            previous = at if previous is None else max(previous, at)
    return problems


def capture_doubts(times: Sequence[Sequence[int]], bounds: CaptureBounds) -> tuple[CaptureDoubt, ...]:
    """For times in order (see `order_problems`): whether the capture's length is plausible."""
    flat = [at for action in times for at in action]
    span = flat[-1] - flat[0]
    if span < bounds.min_ms:
        return (CaptureDoubt.TOO_SHORT,)
    if span > bounds.max_ms:
        return (CaptureDoubt.TOO_LONG,)
    return ()
