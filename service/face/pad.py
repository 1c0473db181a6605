"""Certified presentation-attack detection by a vendor, behind `PresentationAttackDetector`.

`CertifiedPadDetector` sends the frames of an answer (and the document's portrait) to a PAD vendor
certified to ISO/IEC 30107-3 and, at the same time, runs the built-in active challenge on them. The
vendor is reached through `HttpPadVendor` (HMAC-SHA256-signed JSON, as the real-name registry is, with
a time limit on the whole exchange) or, in development, `SandboxPadVendor`, which production refuses.

How the two are combined, so that a vendor can only add evidence, never hide a failed check:

- vendor says `spoof`: the answer fails (`pad_attack_detected`), whatever the built-in checks said;
- vendor says `live` and every built-in check passed with margin: a certified pass (the vendor's
  name is the recorded method);
- vendor says `live` but a built-in check failed or passed without margin: an operator looks
  (`pad_passed_checks_did_not`, with the built-in reasons), unless `IDV_FACE_CERTIFIED_PAD_SUFFICES`
  lets the certified vendor decide alone;
- vendor timed out, failed, or answered something that is not its contract (`pad_unavailable`,
  `pad_answer_invalid`): the built-in result stands, never certified; a pass goes to an operator, a
  failure stays a failure (an outage must not help an attack). Never a 5xx, never `verified`.

The HTTP contract (a vendor's own API sits behind a small gateway that speaks it, as registries do):
`POST` a JSON body `{"request_id", "challenge": [action, ...], "frames": [[base64 JPEG, ...], ...],
"document": base64 JPEG | null}`, answered `200 {"result": "live" | "spoof", "reference": "..."}`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import random
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import cv2
import httpx
import msgspec
import numpy as np

from verification.face.images import ImageBGR
from verification.face.liveness import ChallengeAction, LivenessIssue, LivenessResult, Uncertainty
from verification.face.presentation import PresentationAttackDetector

logger = logging.getLogger(__name__)
# The frames were already shrunk to 1280 px a side on decoding; this quality keeps what a PAD model reads
# (texture, moire, screen edges) without sending several megabytes per answer.
JPEG_QUALITY = 92
SANDBOX_METHOD = "sandbox-pad (development only, not a certified vendor)"


class PadVerdict(StrEnum):
    LIVE = "live"
    SPOOF = "spoof"


@dataclass(frozen=True)
class PadAnswer:
    verdict: PadVerdict
    reference: str  # the vendor's reference for this judgement (logged, for a dispute with the vendor)


class PadUnavailable(Exception):
    """The vendor could not judge now: timeout, transport error, or an error status."""


class PadAnswerInvalid(PadUnavailable):
    """The vendor answered, but not with its contract's shape: nothing in it is trusted."""


@dataclass(frozen=True)
class PadRequest:
    challenge: list[str]
    frames: list[list[bytes]]  # JPEG, action by action
    document: bytes | None


class PadVendor(Protocol):
    async def judge(self, request: PadRequest) -> PadAnswer: ...


class _Request(msgspec.Struct):
    request_id: str
    challenge: list[str]
    frames: list[list[bytes]]  # msgspec writes bytes as base64
    document: bytes | None


class _Response(msgspec.Struct):
    result: PadVerdict
    reference: str


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The same scheme as the real-name registry's requests: HMAC-SHA256 over timestamp, newline, body."""
    return hmac.new(secret, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


class HttpPadVendor:
    """One signed request per answer, bounded by `timeout` seconds in all (connecting, sending the frames,
    waiting for the verdict). Not retried: the person is waiting, and an answer the vendor could not judge
    goes to an operator anyway."""

    def __init__(
        self, url: str, key_id: str, secret: bytes, *, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))

    async def judge(self, request: PadRequest) -> PadAnswer:
        body = msgspec.json.encode(_Request(str(uuid.uuid4()), request.challenge, request.frames, request.document))
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-idv-key-id": self.key_id,
            "x-idv-timestamp": timestamp,
            "x-idv-signature": signature(self.secret, timestamp, body),
        }
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.post(self.url, content=body, headers=headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise PadUnavailable(f"PAD vendor did not answer ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise PadUnavailable(f"PAD vendor answered {response.status_code}")
        try:
            answer = msgspec.json.decode(response.content, type=_Response)
        except msgspec.DecodeError:
            raise PadAnswerInvalid("PAD vendor's answer is not its contract's JSON") from None
        return PadAnswer(answer.result, answer.reference[:128])


class SandboxPadVendor:
    """Development and tests only: says `live` to everything, so that the certified path (and whoami's
    `automatic_certified_pad`) can be tried without a vendor. It detects nothing; production refuses it."""

    async def judge(self, request: PadRequest) -> PadAnswer:
        first = request.frames[0][0] if request.frames and request.frames[0] else b""
        return PadAnswer(PadVerdict.LIVE, "sandbox-" + hashlib.sha256(first).hexdigest()[:12])


def combine(built_in: LivenessResult, vendor: PadAnswer | Uncertainty, method: str, suffices: bool) -> LivenessResult:
    """The built-in challenge's result and the vendor's verdict (or why there is none) as one result (see
    the module's docstring for the rules)."""
    if isinstance(vendor, Uncertainty):
        if not built_in.passed:
            return built_in
        return dataclasses.replace(built_in, uncertainties=(*built_in.uncertainties, vendor))
    certified = dataclasses.replace(built_in, method=method, certified=True)
    if vendor.verdict is PadVerdict.SPOOF:
        reasons = (*built_in.reason_codes, LivenessIssue.PAD_ATTACK_DETECTED)
        return dataclasses.replace(certified, passed=False, reason_codes=reasons, uncertainties=())
    if built_in.confident or suffices:
        return dataclasses.replace(certified, passed=True, reason_codes=(), uncertainties=())
    # Passed by the vendor, not by our checks: reasons say which checks, and an operator decides.
    doubts = (*built_in.uncertainties, Uncertainty.PAD_PASSED_CHECKS_DID_NOT)
    return dataclasses.replace(certified, passed=True, uncertainties=doubts)


def _jpeg(image: ImageBGR) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("could not encode a frame for the PAD vendor")
    return bytes(np.asarray(encoded).tobytes())


def _request(
    challenge: Sequence[ChallengeAction], frames_per_action: Sequence[Sequence[ImageBGR]], document: ImageBGR | None
) -> PadRequest:
    return PadRequest(
        [action.value for action in challenge],
        [[_jpeg(frame) for frame in frames] for frames in frames_per_action],
        _jpeg(document) if document is not None else None,
    )


class CertifiedPadDetector:
    """A certified vendor's verdict together with the built-in challenge (see the module's docstring)."""

    def __init__(
        self,
        vendor: PadVendor,
        built_in: PresentationAttackDetector,
        encoder: Executor | None,
        *,
        method: str,
        suffices: bool = False,
    ) -> None:
        self._vendor = vendor
        self._built_in = built_in
        self._encoder = encoder  # JPEG encoding of the frames runs here, off the event loop
        self._method = method
        self._suffices = suffices

    @property
    def method(self) -> str:
        return self._method

    @property
    def certified(self) -> bool:
        return True

    def new_challenge(self, rng: random.Random) -> list[ChallengeAction]:
        # The built-in checks judge the same frames, so the person makes the built-in challenge's moves.
        return self._built_in.new_challenge(rng)

    async def assess(
        self,
        challenge: Sequence[ChallengeAction],
        frames_per_action: Sequence[Sequence[ImageBGR]],
        document: ImageBGR | None = None,
    ) -> LivenessResult:
        built_in, vendor = await asyncio.gather(
            self._built_in.assess(challenge, frames_per_action, document),
            self._ask(challenge, frames_per_action, document),
        )
        return combine(built_in, vendor, self._method, self._suffices)

    async def _ask(
        self,
        challenge: Sequence[ChallengeAction],
        frames_per_action: Sequence[Sequence[ImageBGR]],
        document: ImageBGR | None,
    ) -> PadAnswer | Uncertainty:
        loop = asyncio.get_running_loop()
        request = await loop.run_in_executor(self._encoder, _request, challenge, frames_per_action, document)
        try:
            answer = await self._vendor.judge(request)
        except PadAnswerInvalid as exc:
            logger.warning("face PAD: %s", exc)
            return Uncertainty.PAD_ANSWER_INVALID
        except PadUnavailable as exc:
            logger.warning("face PAD: %s", exc)
            return Uncertainty.PAD_UNAVAILABLE
        except Exception:
            # Whatever else went wrong with the vendor, the person gets an operator, not a 500.
            logger.exception("face PAD: the vendor adapter failed")
            return Uncertainty.PAD_UNAVAILABLE
        logger.info("face PAD: %s (reference %s)", answer.verdict.value, answer.reference)
        return answer
