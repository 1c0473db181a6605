"""Re-entering the password before a sensitive change (second factor, and later cancellation).

Throttled like sign-in, on the same counters, so a stolen session cannot be used to guess the
password; one answer for every failure."""

from __future__ import annotations

from service.accounts import store as accounts
from service.errors import Forbidden
from service.runtime import Runtime
from service.sessions.sessions import Principal
from service.sessions.throttle import SignInThrottle
from verification.passwords import normalize_password


def reauthentication_failed() -> Forbidden:
    return Forbidden("reauthentication_failed", "The password or code is wrong")


async def confirm_password(runtime: Runtime, principal: Principal, password: str, client_address: str) -> None:
    throttle = SignInThrottle(runtime.vault.blind_index)
    subjects = throttle.subjects(f"account:{principal.account_id}", client_address)
    async with runtime.database.transaction() as conn:
        await throttle.reserve(conn, subjects)
        phc = await accounts.password_hash(conn, principal.account_id)
    if phc is None or not (await runtime.passwords.verify(phc, normalize_password(password))).matches:
        raise reauthentication_failed()
    async with runtime.database.transaction() as conn:
        await throttle.succeeded(conn, subjects)
