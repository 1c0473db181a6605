"""What a person declares and uploads to certify a qualification."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

# A location written into an upload's metadata: screening must strip it.
MARKER = b"GPS 39.9042N 116.4074E secret-marker"
HUAWEI = "914403001922038216"


def certificate_jpeg() -> bytes:
    """A real JPEG (a drawn certificate) carrying a comment segment that must not survive."""
    image = np.full((600, 800, 3), 245, np.uint8)
    cv2.putText(image, "Certificate of Employment", (60, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (20, 20, 20), 3)
    cv2.rectangle(image, (40, 40), (760, 560), (60, 60, 160), 4)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    data = encoded.tobytes()
    comment = b"\xff\xfe" + struct.pack(">H", len(MARKER) + 2) + MARKER
    return data[:2] + comment + data[2:]


def declaration(email: str, valid_days: int = 365) -> dict[str, str]:
    """A declared employment at Huawei, proven through the work e-mail ``email``."""
    return {
        "organization_name": "华为技术有限公司",
        "credit_code": HUAWEI,
        "job_title": "软件工程师",
        "work_email": email,
        "valid_until": (datetime.now(UTC).date() + timedelta(days=valid_days)).isoformat(),
    }
