"""Request and response bodies of cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from service.accounts.states import AccountState
from service.http.schemas import RequestBody


class CancellationRequest(RequestBody):
    """The password again, and the TOTP code when a second factor is enrolled."""

    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    totp_code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None


class CancellationStatus(msgspec.Struct):
    state: AccountState
    erase_after: datetime | None
