"""Recipients' webhook secrets are sealed under one service-wide data key."""

from __future__ import annotations

import uuid

RECIPIENT_SECRETS = uuid.UUID("3f0c2a8e-5d41-4b7c-a9e2-7c1d0b6e4f55")
