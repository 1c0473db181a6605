"""Per-address rate limits on the endpoints attackers hammer: registration, sign-in, codes.

Built on Litestar's rate-limit middleware and store (memory by default, Redis when
IDV_REDIS_URL is set so replicas share counters). A route opts in with
``opt={"rate_limit": "<group>"}``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from service.settings import Settings

STORE_NAME = "rate_limit"


class RateLimitGroup(StrEnum):
    REGISTRATION = "registration"
    SIGN_IN = "sign_in"
    CODES = "codes"


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def rate_limit_configs(settings: Settings) -> list[RateLimitConfig]:
    limits = {
        RateLimitGroup.REGISTRATION: ("hour", settings.rate_limit_registrations_per_hour),
        RateLimitGroup.SIGN_IN: ("minute", settings.rate_limit_sign_ins_per_minute),
        RateLimitGroup.CODES: ("minute", settings.rate_limit_codes_per_minute),
    }
    configs = []
    for group, limit in limits.items():

        def applies(request: Request[Any, Any, Any], group: RateLimitGroup = group) -> bool:
            return bool(request.route_handler.opt.get("rate_limit") == group)

        def identify(request: Request[Any, Any, Any], group: RateLimitGroup = group) -> str:
            return f"{group}:{_client(request)}"

        configs.append(
            RateLimitConfig(
                rate_limit=limit,  # type: ignore[arg-type]
                check_throttle_handler=applies,
                identifier_for_request=identify,
                store=STORE_NAME,
            )
        )
    return configs


def rate_limit_store(settings: Settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="idv-rate-limit")
    return MemoryStore()
