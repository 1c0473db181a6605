"""Per-address rate limits on the endpoints attackers hammer: registration, sign-in, codes, uploads.

Built on Litestar's rate-limit middleware and store (memory by default, Redis when
IDV_REDIS_URL is set so replicas share counters). A route opts in with
``opt={"rate_limit": "<group>"}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, Receive, Scope, Send

from service.console.security import SESSION_COOKIE, cookie_name
from service.settings import Environment, Settings

STORE_NAME = "rate_limit"


class RateLimitGroup(StrEnum):
    REGISTRATION = "registration"
    SIGN_IN = "sign_in"
    CODES = "codes"
    UPLOADS = "uploads"
    # Counted per operator session (its bearer token or console cookie), not per address.
    ACCOUNT_LOOKUPS = "account_lookups"


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _operator_session(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The operator session a request presents (API bearer token, else console cookie), as a digest
    so the counters' store never holds a token; the address when it presents neither (the guard
    refuses such a request anyway). A new session takes a sign-in with a fresh TOTP code."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    credential = token.strip() if scheme.lower() == "bearer" else ""
    credential = credential or request.cookies.get(cookie_name(settings, SESSION_COOKIE), "")
    if not credential:
        return _client(request)
    return hashlib.sha256(credential.encode()).hexdigest()


def rate_limit_middleware(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """One middleware for all groups: a route that opted in goes through its group's limiter;
    every other route (whoami above all) pays one dictionary look-up and nothing else."""
    limits: dict[RateLimitGroup, tuple[DurationUnit, int]] = {
        RateLimitGroup.REGISTRATION: ("hour", settings.rate_limit_registrations_per_hour),
        RateLimitGroup.SIGN_IN: ("minute", settings.rate_limit_sign_ins_per_minute),
        RateLimitGroup.CODES: ("minute", settings.rate_limit_codes_per_minute),
        RateLimitGroup.UPLOADS: ("minute", settings.rate_limit_uploads_per_minute),
        RateLimitGroup.ACCOUNT_LOOKUPS: ("minute", settings.rate_limit_account_lookups_per_minute),
    }

    def identify_for(group: RateLimitGroup) -> Callable[[Request[Any, Any, Any]], str]:
        if group is RateLimitGroup.ACCOUNT_LOOKUPS:
            return lambda request: f"{group}:{_operator_session(request, settings)}"
        return lambda request: f"{group}:{_client(request)}"

    def wrap(app: ASGIApp) -> ASGIApp:
        # A route's limiter is made when its first limited request comes: every route gets this
        # wrapper, and making five limiters for each of some 300 routes up front took a quarter of
        # the app's start (each makes an anyio lock). Nothing awaits between the look-up and the
        # store, so two first requests on the event loop cannot make two limiters.
        limiters: dict[RateLimitGroup, ASGIApp] = {}

        async def route_by_group(scope: Scope, receive: Receive, send: Send) -> None:
            group = scope["route_handler"].opt.get("rate_limit")
            limit = limits.get(group) if group is not None else None
            if group is None or limit is None or limit[1] <= 0:
                await app(scope, receive, send)
                return
            limiter = limiters.get(group)
            if limiter is None:
                limiter = limiters[group] = RateLimitMiddleware(
                    app, RateLimitConfig(rate_limit=limit, identifier_for_request=identify_for(group), store=STORE_NAME)
                )
            await limiter(scope, receive, send)

        return route_by_group

    return wrap


def unshared_limits_problem(settings: Settings) -> str | None:
    """Why the API must not start: in production, per-address limits each replica counts alone
    (with N pods an attacker gets N times every limit), unless that is declared intended. Checked
    by `idv serve` only: workers and migrations serve no requests. (Operators' account look-ups,
    counted per operator session, are a brake on trusted staff, not a defence against attackers:
    counted per replica they do not stop the service from starting.)"""
    limits_on = any(
        (
            settings.rate_limit_registrations_per_hour,
            settings.rate_limit_sign_ins_per_minute,
            settings.rate_limit_codes_per_minute,
            settings.rate_limit_uploads_per_minute,
        )
    )
    shared = settings.redis_url is not None or settings.rate_limits_per_replica
    if settings.env is Environment.PRODUCTION and limits_on and not shared:
        return (
            "production refuses per-address rate limits without IDV_REDIS_URL (counters shared by replicas);"
            " set IDV_RATE_LIMITS_PER_REPLICA=true if per-replica counting is intended"
        )
    return None


def rate_limit_store(settings: Settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="idv-rate-limit")
    return MemoryStore()
