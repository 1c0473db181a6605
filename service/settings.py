"""One typed settings object, read from ``IDV_*`` environment variables and ``DATABASE_URL``.

Each variable is declared once, on the ``Settings`` field it fills: its name, the capability it
belongs to, its parser, default and one-line doc, and what production requires of it. ``load_settings``
reads the environment through these declarations, ``production_problems`` checks their production
rules, and ``markdown_table`` writes the README's table from them (a test keeps the README in step).

A new variable is a new annotated field in its capability's section of ``Settings``, e.g.
``port: Annotated[int, HTTP("IDV_PORT", _integer(0, 65535), "port `idv serve` binds", "8080")]``,
then ``idv settings --markdown`` pasted into the README. A rule between several variables goes in
``_inconsistencies``.
"""

from __future__ import annotations

import base64
import enum
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from service.http.forwarding import parse_networks
from service.retention_categories import DEFAULT_PERIODS, Retained
from verification.ages import AgeProfile, profile_named

T = TypeVar("T")


class SettingsError(Exception):
    """The environment does not describe a service that may start; the message says why."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Workload(enum.Flag):
    """What a process is started to do. Production asks each for the secrets it uses and no more;
    configuration that is not secret is checked whatever the workload (the manifests share it)."""

    # `idv migrate` (and `idv audit archive`, `verify-archive`): the tables' owner's URL; no keys, no providers.
    MIGRATIONS = enum.auto()
    # The API and the data commands: the keys, the database, the real-name registry (called
    # during requests). Messages are only queued here, never sent.
    SERVICE = enum.auto()
    # Sending the courier's outbox (`idv worker`, `idv serve --with-worker`): SMTP and SMS credentials.
    DELIVERY = enum.auto()


class Argon2Parameters(msgspec.Struct, frozen=True):
    """argon2id cost; OWASP's minimum recommendation is m=19 MiB, t=2, p=1."""

    memory_kib: int = 19 * 1024
    time_cost: int = 2
    parallelism: int = 1


class MasterKey(msgspec.Struct, frozen=True):
    key_id: str
    secret: bytes


# --- How a variable is declared -------------------------------------------------------------------

# (variable name, its text) -> the value; a ValueError's message is the whole complaint, name included.
Parser = Callable[[str, str], T]


@dataclass(frozen=True)
class ProductionRule:
    """What IDV_ENV=production requires of one variable: ``refuses(value, settings, workload)`` is
    true when it is breached. ``says`` is the README's word for it; ``message`` may name {name} and {value}."""

    says: str
    refuses: Callable[[Any, Settings, Workload], bool]
    message: str


@dataclass(frozen=True)
class Variable(Generic[T]):
    name: str
    group: str
    parse: Parser[T]
    doc: str
    # The text read when the variable is unset or empty; None: the value is ``unset`` (or computed).
    default: str | None = None
    unset: T | None = None
    # A default from other settings (by field name, declared earlier), described by ``default_doc``.
    computed_default: Callable[[Mapping[str, Any]], T] | None = None
    default_doc: str | None = None
    # Read only by processes doing this (the keys: the service, not `idv migrate`); otherwise ``unset``.
    read_for: Workload | None = None
    # Read only when another variable has this value (e.g. the registry's secret, for the http provider).
    read_if: tuple[str, str] | None = None
    # The complaint when the variable is read and unset.
    required: str | None = None
    production: tuple[ProductionRule, ...] = ()


@dataclass(frozen=True)
class Group:
    """One capability's section of the settings: calling it declares a variable in it."""

    title: str

    def __call__(
        self, name: str, parse: Parser[T], doc: str, default: str | None = None, **options: Any
    ) -> Variable[T]:
        return Variable(name, self.title, parse, doc, default, **options)


@dataclass(frozen=True)
class Composite:
    """A field built from several variables (argon2id's three costs): ``build(**{part: value})``."""

    build: Callable[..., Any]
    parts: Mapping[str, Variable[Any]] = field(default_factory=dict)


PROCESS = Group("process")
DATABASE = Group("database")
HTTP = Group("http")
VAULT = Group("vault")
PASSWORDS = Group("passwords")
SESSIONS = Group("sessions")
CONTACTS = Group("contacts")
COURIER = Group("courier")
POLICIES = Group("policies")
OPERATORS = Group("operators")
CASES = Group("cases")
REAL_NAME = Group("realname")
UPLOADS = Group("qualifications")
FACE = Group("face")
GUARDIANS = Group("guardians")
LIFECYCLE = Group("lifecycle")
RIGHTS = Group("rights")
TERMINATION = Group("termination")
PASSKEYS = Group("passkeys")
TOKENS = Group("tokens")


# --- Parsers --------------------------------------------------------------------------------------


def _text(_: str, text: str) -> str:
    return text


def _upper(_: str, text: str) -> str:
    return text.upper()


def _true_unless_false(_: str, text: str) -> bool:
    return text.lower() not in {"0", "false", "no"}


def _false_unless_true(_: str, text: str) -> bool:
    return text.lower() in {"1", "true", "yes"}


def _comma_list(_: str, text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _or_list(choices: tuple[str, ...]) -> str:
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]


def _one_of(*choices: str) -> Parser[str]:
    def parse(name: str, text: str) -> str:
        if text not in choices:
            raise ValueError(f"{name} must be {_or_list(choices)}")
        return text

    return parse


def _environment(name: str, text: str) -> Environment:
    try:
        return Environment(text)
    except ValueError:
        raise ValueError(f"{name} must be one of {', '.join(e.value for e in Environment)}") from None


def _sms_signature(name: str, text: str) -> str:
    signature = text.strip().removeprefix("【").removesuffix("】").strip()
    if not signature or len(signature) > 16 or any(c in signature for c in "【】"):
        raise SettingsError(f"{name}: the signature in 【】, at most 16 characters")
    return signature


def _integer(low: int, high: int) -> Parser[int]:
    def parse(name: str, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}, got {value}")
        return value

    return parse


def _seconds(low: int, high: int) -> Parser[float]:
    whole = _integer(low, high)
    return lambda name, text: float(whole(name, text))


def _fraction(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between -1 and 1, got {value}")
    return value


def _duration(minimum: timedelta = timedelta(0), shown: str = "") -> Parser[timedelta]:
    def parse(name: str, text: str) -> timedelta:
        try:
            value = parse_duration(text)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        if value < minimum:
            raise ValueError(f"{name} must be at least {shown}")
        return value

    return parse


def _duration_up_to(maximum: timedelta, shown: str) -> Parser[timedelta]:
    at_least_a_second = _duration(timedelta(seconds=1), "1s")

    def parse(name: str, text: str) -> timedelta:
        value = at_least_a_second(name, text)
        if value > maximum:
            raise ValueError(f"{name} must be at most {shown}")
        return value

    return parse


def _audiences(name: str, text: str) -> tuple[str, ...]:
    audiences = _comma_list(name, text)
    if not audiences or any(len(audience) > 200 for audience in audiences):
        raise ValueError(f"{name} must be a comma-separated list of audiences (each at most 200 characters)")
    return audiences


_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")


def _origins(name: str, text: str) -> tuple[str, ...]:
    origins = _comma_list(name, text)
    bad = [origin for origin in origins if not _ORIGIN.fullmatch(origin)]
    if bad or not origins:
        raise ValueError(f"{name} must be a comma-separated list of origins like https://example.com (no path)")
    return origins


def _path(_: str, text: str) -> Path:
    return Path(text).absolute()


def _key(name: str, text: str) -> bytes:
    return _decode_key(text, name)


def _master_keys(name: str, text: str) -> tuple[MasterKey, ...]:
    keys = parse_master_keys(text)
    if not keys:
        raise ValueError(_MASTER_KEYS_REQUIRED)
    return keys


def _base64(name: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ValueError(f"{name} is not base64") from None


def _cookie_domain(name: str, text: str) -> str | None:
    domain = text.strip().lower().removeprefix(".")
    if not domain:
        return None
    if not _COOKIE_DOMAIN.fullmatch(domain):
        raise ValueError(f"{name} must be a domain name such as example.com, got {domain!r}")
    return domain


def _networks(name: str, text: str) -> str:
    try:
        parse_networks(text)
    except ValueError:
        raise ValueError(f"{name}: not addresses or networks: {text!r}") from None
    return text


def _time_zone(name: str, text: str) -> str:
    try:
        ZoneInfo(text)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"{name}: unknown zone {text!r}") from None
    return text


def _four_eyes(name: str, text: str) -> frozenset[str]:
    decisions = frozenset(_comma_list(name, text))
    if unknown := sorted(decisions - FOUR_EYES_CHOICES):
        raise ValueError(f"{name}: unknown decisions {', '.join(unknown)}")
    if "approve" in decisions and "overturn" not in decisions:
        raise ValueError(f"{name}: overturning an appeal approves, so list overturn with approve")
    return decisions


def _retention(name: str, text: str) -> dict[str, timedelta]:
    periods: dict[str, timedelta] = {}
    problems: list[str] = []
    for item in text.split(","):
        if not item.strip():
            continue
        category, _, value = item.partition("=")
        if category.strip() not in RETENTION_CATEGORIES:
            problems.append(f"{name}: unknown category {category.strip()!r}")
            continue
        try:
            periods[category.strip()] = parse_duration(value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ValueError("; ".join(problems))
    return periods


# --- Production rules -----------------------------------------------------------------------------


def _development_adapter(*adapters: str) -> ProductionRule:
    return ProductionRule(
        f"not {_or_list(tuple(f'`{a}`' for a in adapters))}",
        lambda value, _settings, _workload: value in adapters,
        "{name}={value} is a development adapter; production refuses it",
    )


_MASTER_KEYS_REQUIRED = "IDV_MASTER_KEYS is required (e.g. `k1:<base64 of 32 random bytes>`)"
_MIN_ARGON2_MEMORY_KIB = 19 * 1024


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting, each annotated with the one declaration of the variable it is read from."""

    # process
    env: Annotated[
        Environment,
        PROCESS(
            "IDV_ENV",
            _environment,
            "`development`, `test` or `production`, which refuses what the last column says",
            "development",
        ),
    ]
    state_dir: Annotated[
        Path,
        PROCESS(
            "IDV_STATE_DIR",
            _path,
            "local state: the embedded PostgreSQL, development keys, the file outbox",
            computed_default=lambda _: default_state_dir().absolute(),
            default_doc="`.idv` in the checkout idv is installed from (editable), whatever the current folder; "
            "else `./.idv`",
        ),
    ]
    log_level: Annotated[str, PROCESS("IDV_LOG_LEVEL", _upper, "log level", "INFO")]
    public_name: Annotated[
        str, PROCESS("IDV_PUBLIC_NAME", _text, "issuer shown in authenticator apps and messages", "idv")
    ]
    default_language: Annotated[
        str,
        PROCESS(
            "IDV_DEFAULT_LANGUAGE",
            _one_of("zh-CN", "en"),
            "the language of a person who states none (registration without `Accept-Language`) and of "
            "answers to requests without one: `zh-CN` or `en`",
            "zh-CN",
        ),
    ]
    time_zone: Annotated[
        str, PROCESS("IDV_TIME_ZONE", _time_zone, "the zone whose date decides ages and birthdays", "Asia/Shanghai")
    ]
    cpu_workers: Annotated[
        int,
        PROCESS(
            "IDV_CPU_WORKERS",
            _integer(1, 1024),
            "threads for CPU-heavy work (face models, image screening)",
            computed_default=lambda _: available_cpus(),
            default_doc="the cores this process may use, capped by a container's CPU limit",
        ),
    ]

    # database
    database_url: Annotated[
        str | None,
        DATABASE(
            "DATABASE_URL",
            _text,
            "PostgreSQL; unset starts the embedded server (development)",
            production=(
                ProductionRule(
                    "required",
                    lambda value, _settings, workload: value is None and Workload.SERVICE in workload,
                    "production needs DATABASE_URL (the embedded PostgreSQL is for development)",
                ),
            ),
        ),
    ]
    migrations_database_url: Annotated[
        str | None,
        DATABASE(
            "IDV_MIGRATIONS_DATABASE_URL",
            _text,
            "the tables' owner, for migrations; `DATABASE_URL` is then a member of `idv_service`",
            production=(
                ProductionRule(
                    "`idv migrate`: this or `DATABASE_URL`",
                    lambda value, settings, workload: (
                        Workload.SERVICE not in workload and value is None and settings.database_url is None
                    ),
                    "production needs IDV_MIGRATIONS_DATABASE_URL, the tables' owner, to migrate",
                ),
            ),
        ),
    ]
    embedded_pg_port: Annotated[
        int | None,
        DATABASE("IDV_PG_PORT", _integer(1, 65535), "port of the embedded PostgreSQL", default_doc="a free one"),
    ]
    db_pool_size: Annotated[
        int,
        DATABASE(
            "IDV_DB_POOL_SIZE",
            _integer(2, 200),
            "the most pooled PostgreSQL connections a process holds; the budget for the HPA and KEDA maxima "
            "is written beside `max_connections` in `k8s/overlays/prod/postgres-cluster.yaml`",
            "10",
        ),
    ]
    migrate_on_start: Annotated[
        bool,
        DATABASE(
            "IDV_MIGRATE_ON_START",
            _true_unless_false,
            "apply pending migrations at start; `false` (as in Kubernetes, where only the migration Job may): "
            "wait up to `IDV_SCHEMA_WAIT` for them instead of failing and being restarted (`idv migrate` always "
            "applies them; `scripts/deploy OVERLAY` runs a release in order)",
            "true",
        ),
    ]
    schema_wait: Annotated[
        timedelta,
        DATABASE("IDV_SCHEMA_WAIT", _duration(), "with `IDV_MIGRATE_ON_START=false`, how long to wait", "15m"),
    ]

    # http
    host: Annotated[
        str,
        HTTP(
            "IDV_HOST",
            _text,
            "where `idv serve` and the worker's probes listen; `::` is one dual-stack socket (IPv6 and IPv4, "
            "falling back to `0.0.0.0` with a warning where IPv6 is disabled; the image sets it); a comma list binds "
            "each address on the same port",
            "127.0.0.1",
        ),
    ]
    port: Annotated[int, HTTP("IDV_PORT", _integer(0, 65535), "port `idv serve` binds", "8080")]
    worker_health_port: Annotated[
        int,
        HTTP(
            "IDV_WORKER_HEALTH_PORT",
            _integer(0, 65535),
            "where `idv worker` answers `/health/live`, `/health/ready`, `/metrics` (`0`: nowhere)",
            "8081",
        ),
    ]
    max_body_bytes: Annotated[
        int, HTTP("IDV_MAX_BODY_BYTES", _integer(1024, 64 * 1024 * 1024), "largest request body accepted", "1048576")
    ]
    allowed_origins: Annotated[
        tuple[str, ...],
        HTTP(
            "IDV_ALLOWED_ORIGINS",
            _comma_list,
            "comma-separated browser origins allowed to use the session cookie",
            "",
        ),
    ]
    forwarded_allow_ips: Annotated[
        str,
        HTTP(
            "IDV_FORWARDED_ALLOW_IPS",
            _networks,
            "the gateway's addresses or networks: only a peer among them may name the client (`*`: any peer)",
            "127.0.0.1",
        ),
    ]
    forwarded_hops: Annotated[
        int,
        HTTP(
            "IDV_FORWARDED_HOPS",
            _integer(0, 8),
            "how many proxies of ours append to `X-Forwarded-For`: the client is the entry that many places "
            "from the right (Envoy: 1), never one further left, which the client wrote itself "
            "(`service/http/forwarding.py`; uvicorn's own reading is off)",
            "1",
        ),
    ]
    redis_url: Annotated[
        str | None,
        HTTP(
            "IDV_REDIS_URL",
            _text,
            "Redis shared by replicas for rate-limit counters (production: required while limits are on, "
            "unless `IDV_RATE_LIMITS_PER_REPLICA`)",
        ),
    ]
    rate_limits_per_replica: Annotated[
        bool,
        HTTP(
            "IDV_RATE_LIMITS_PER_REPLICA",
            _false_unless_true,
            "production: `true` to accept rate limits counted per replica (each pod alone)",
            "false",
        ),
    ]
    rate_limit_registrations_per_hour: Annotated[
        int,
        HTTP(
            "IDV_RATE_REGISTRATIONS_PER_HOUR",
            _integer(0, 10**7),
            "registrations per client address per hour (`0`: no limit here, e.g. when the gateway limits)",
            "20",
        ),
    ]
    rate_limit_sign_ins_per_minute: Annotated[
        int,
        HTTP(
            "IDV_RATE_SIGN_INS_PER_MINUTE", _integer(0, 10**7), "sign-in requests per client address per minute", "30"
        ),
    ]
    rate_limit_codes_per_minute: Annotated[
        int,
        HTTP(
            "IDV_RATE_CODES_PER_MINUTE",
            _integer(0, 10**7),
            "one-time-code requests per client address per minute",
            "10",
        ),
    ]
    rate_limit_uploads_per_minute: Annotated[
        int,
        HTTP(
            "IDV_RATE_UPLOADS_PER_MINUTE",
            _integer(0, 10**7),
            "avatar uploads per client address per minute (each is decoded and re-encoded)",
            "20",
        ),
    ]
    rate_limit_account_lookups_per_minute: Annotated[
        int,
        HTTP(
            "IDV_RATE_ACCOUNT_LOOKUPS_PER_MINUTE",
            _integer(0, 10**7),
            "operators' account look-ups by e-mail, phone or ID number per operator session per minute",
            "20",
        ),
    ]

    # vault
    master_keys: Annotated[
        tuple[MasterKey, ...],
        VAULT(
            "IDV_MASTER_KEYS",
            _master_keys,
            "key ring `id:base64,id:base64` of 32-byte keys that wrap data keys",
            unset=(),
            default_doc="development generates one into the state directory",
            read_for=Workload.SERVICE,
            required=_MASTER_KEYS_REQUIRED,
        ),
    ]
    active_master_key_id: Annotated[
        str,
        VAULT(
            "IDV_ACTIVE_MASTER_KEY",
            _text,
            "which key wraps new data keys",
            unset="",
            computed_default=lambda values: values["master_keys"][0].key_id if values["master_keys"] else "",
            default_doc="the first",
            read_for=Workload.SERVICE,
        ),
    ]
    blind_index_key: Annotated[
        bytes,
        VAULT(
            "IDV_BLIND_INDEX_KEY",
            _key,
            "base64 32-byte key for look-up hashes",
            unset=b"",
            default_doc="development generates one into the state directory",
            read_for=Workload.SERVICE,
            required="IDV_BLIND_INDEX_KEY is required (base64 of 32 random bytes)",
        ),
    ]
    # During a blind-index rotation: the key indexes were made under before (service/vault/reindex.py).
    blind_index_key_previous: Annotated[
        bytes | None,
        VAULT(
            "IDV_BLIND_INDEX_KEY_PREVIOUS",
            _key,
            "during a blind-index rotation only: the key `IDV_BLIND_INDEX_KEY` replaced, tried second until "
            '`vault.reindex` is done (`idv vault status`; see "Personal-data vault")',
        ),
    ] = None
    # How long backups are kept (the CloudNativePG ObjectStore retentionPolicy): a master key no
    # data key is wrapped under any more may be retired once this has passed (service/vault/rotation.py).
    backup_retention: Annotated[
        timedelta,
        VAULT(
            "IDV_BACKUP_RETENTION",
            _duration(),
            "how long database backups are kept (match the backup `retentionPolicy`): a master key may be "
            "removed that long after it stopped wrapping data keys",
            "30d",
        ),
    ] = timedelta(days=30)
    master_key_max_age: Annotated[
        timedelta,
        VAULT(
            "IDV_MASTER_KEY_MAX_AGE",
            _duration(),
            "age of the active master key after which `idv_master_key_rotation_due` asks for a rotation",
            "90d",
        ),
    ] = timedelta(days=90)

    # passwords
    argon2: Annotated[
        Argon2Parameters,
        Composite(
            Argon2Parameters,
            {
                "memory_kib": PASSWORDS(
                    "IDV_ARGON2_MEMORY_KIB",
                    _integer(8, 4 * 1024 * 1024),
                    "argon2id memory cost (OWASP's minimum)",
                    str(_MIN_ARGON2_MEMORY_KIB),
                    production=(
                        ProductionRule(
                            f"at least {_MIN_ARGON2_MEMORY_KIB}",
                            lambda value, _settings, _workload: value < _MIN_ARGON2_MEMORY_KIB,
                            "production refuses argon2id memory below 19 MiB ({name})",
                        ),
                    ),
                ),
                "time_cost": PASSWORDS("IDV_ARGON2_TIME_COST", _integer(1, 100), "argon2id iterations", "2"),
                "parallelism": PASSWORDS("IDV_ARGON2_PARALLELISM", _integer(1, 64), "argon2id lanes", "1"),
            },
        ),
    ]
    hash_concurrency: Annotated[
        int,
        PASSWORDS(
            "IDV_HASH_CONCURRENCY",
            _integer(1, 1024),
            "password hashes computed at once",
            computed_default=lambda values: values["cpu_workers"],
            default_doc="`IDV_CPU_WORKERS`",
        ),
    ]

    # sessions
    cookie_secure: Annotated[
        bool,
        SESSIONS(
            "IDV_COOKIE_SECURE",
            _true_unless_false,
            "mark the session cookie Secure",
            "true",
            production=(
                ProductionRule(
                    "`true`",
                    lambda value, _settings, _workload: not value,
                    "production refuses IDV_COOKIE_SECURE=false",
                ),
            ),
        ),
    ]
    # Set for apps on sibling subdomains: the cookie then goes to the whole parent domain.
    cookie_domain: Annotated[
        str | None,
        SESSIONS(
            "IDV_COOKIE_DOMAIN",
            _cookie_domain,
            "parent domain the session cookie goes to (`__Secure-idv_session`, e.g. `example.com` for apps on "
            "its subdomains); unset: this host only (`__Host-idv_session`)",
        ),
    ]
    session_idle_timeout: Annotated[
        timedelta, SESSIONS("IDV_SESSION_IDLE_TIMEOUT", _duration(), "a session unused this long ends", "24h")
    ]
    session_absolute_timeout: Annotated[
        timedelta,
        SESSIONS("IDV_SESSION_ABSOLUTE_TIMEOUT", _duration(), "a session ends this long after sign-in", "14d"),
    ]
    session_cache_ttl: Annotated[
        timedelta,
        SESSIONS(
            "IDV_SESSION_CACHE_TTL",
            _duration(),
            "how long a process reuses a resolved session (whoami) when no notification dropped it first; "
            "0 resolves every request in the database",
            "2s",
        ),
    ]
    session_cache_max_entries: Annotated[
        int,
        SESSIONS(
            "IDV_SESSION_CACHE_MAX_ENTRIES",
            _integer(0, 10_000_000),
            "the most resolved sessions a process keeps (least recently used go first; about 1 KiB each)",
            "20000",
        ),
    ]

    # session tokens (service/tokens): signed, short-lived, verified by gateways without asking idv
    session_token_lifetime: Annotated[
        timedelta,
        TOKENS(
            "IDV_SESSION_TOKEN_LIFETIME",
            _duration_up_to(timedelta(hours=1), "1h"),
            "how long a signed session token (`POST /v1/sessions/token`) is valid, never past its session's "
            "expiry: also how long a token outlives the end of its session",
            "120s",
            production=(
                ProductionRule(
                    "at most `5m`",
                    lambda value, _settings, _workload: value > timedelta(minutes=5),
                    "production refuses {name} above 5m: a token outlives its session's end that long",
                ),
            ),
        ),
    ]
    session_token_issuer: Annotated[
        str,
        TOKENS(
            "IDV_SESSION_TOKEN_ISSUER",
            _text,
            "the `iss` claim of session tokens (e.g. `https://id.example.com`)",
            computed_default=lambda values: values["public_name"],
            default_doc="`IDV_PUBLIC_NAME`",
        ),
    ]
    session_token_audiences: Annotated[
        tuple[str, ...],
        TOKENS(
            "IDV_SESSION_TOKEN_AUDIENCES",
            _audiences,
            "comma-separated `aud` values a session token may be asked for (`?audience=`); the first is the default",
            "idv-gateway",
        ),
    ]
    session_signing_key_rotation: Annotated[
        timedelta,
        TOKENS(
            "IDV_SESSION_SIGNING_KEY_ROTATION",
            _duration(timedelta(days=1), "1d"),
            "how long one key signs session tokens before the next takes over (`tokens.rotate_signing_keys`)",
            "30d",
        ),
    ]

    # passkeys (WebAuthn): the relying party browsers bind a passkey to, and the pages that may use it
    webauthn_rp_id: Annotated[
        str,
        PASSKEYS(
            "IDV_WEBAUTHN_RP_ID",
            _text,
            "the relying-party id passkeys are bound to: the registrable domain of the sign-in pages (e.g. "
            "`example.com`)",
            "localhost",
        ),
    ]
    webauthn_rp_name: Annotated[
        str, PASSKEYS("IDV_WEBAUTHN_RP_NAME", _text, "the name a browser shows when creating a passkey", "idv")
    ]
    webauthn_origins: Annotated[
        tuple[str, ...],
        PASSKEYS(
            "IDV_WEBAUTHN_ORIGINS",
            _origins,
            "comma-separated origins of the pages that run the passkey ceremonies (e.g. `https://example.com`)",
            computed_default=lambda values: (f"http://localhost:{values['port']}",),
            default_doc="`http://localhost:<IDV_PORT>`",
            # Only the API runs the ceremonies (`idv migrate` and the worker need no origins).
            read_for=Workload.SERVICE,
            unset=(),
            production=(
                ProductionRule(
                    "`https://` origins only",
                    lambda value, _settings, _workload: any(not origin.startswith("https://") for origin in value),
                    "production refuses IDV_WEBAUTHN_ORIGINS that are not https://",
                ),
            ),
        ),
    ]

    # contacts
    default_phone_region: Annotated[
        str, CONTACTS("IDV_DEFAULT_PHONE_REGION", _upper, "region assumed for phone numbers without +country", "CN")
    ]

    # courier
    sms_signature: Annotated[
        str,
        COURIER(
            "IDV_SMS_SIGNATURE",
            _sms_signature,
            "the sender's signature registered with the carriers, put in 【】 at the start of every SMS "
            "(`idv` or `【idv】`)",
            computed_default=lambda values: values["public_name"],
            default_doc="`IDV_PUBLIC_NAME`",
        ),
    ]
    courier_email: Annotated[
        str,
        COURIER(
            "IDV_COURIER_EMAIL",
            _one_of("file", "smtp"),
            "`smtp`, or `file` (development only: an outbox file in the state directory)",
            "file",
            production=(_development_adapter("file"),),
        ),
    ]
    smtp_url: Annotated[
        str | None,
        COURIER(
            "IDV_SMTP_URL",
            _text,
            "`smtps://user:pass@host:465` (or `smtp://`, STARTTLS) for the smtp courier; needed only by "
            "processes that deliver (`idv worker`)",
            production=(
                ProductionRule(
                    "TLS, unless to a relay on loopback",
                    lambda value, _settings, _workload: bool(value) and _plaintext_smtp_off_host(value),
                    "production refuses IDV_SMTP_URL without TLS except to a relay on loopback",
                ),
            ),
        ),
    ]
    smtp_sender: Annotated[str, COURIER("IDV_SMTP_SENDER", _text, "From: of e-mail", "idv <no-reply@localhost>")]
    courier_sms: Annotated[
        str,
        COURIER(
            "IDV_COURIER_SMS",
            _one_of("file", "http"),
            "`http` (an SMS gateway), or `file` (development only)",
            "file",
            production=(_development_adapter("file"),),
        ),
    ]
    sms_gateway_url: Annotated[
        str | None, COURIER("IDV_SMS_GATEWAY_URL", _text, "HTTPS endpoint of the SMS gateway for the http courier")
    ]
    sms_gateway_token: Annotated[
        str | None,
        COURIER(
            "IDV_SMS_GATEWAY_TOKEN",
            _text,
            "bearer token for the SMS gateway; needed only by processes that deliver",
            production=(
                ProductionRule(
                    "required where SMS is delivered",
                    lambda value, settings, workload: (
                        Workload.DELIVERY in workload and settings.courier_sms == "http" and not value
                    ),
                    "IDV_COURIER_SMS=http needs IDV_SMS_GATEWAY_TOKEN to deliver SMS in production (`idv worker`)",
                ),
            ),
        ),
    ]

    # policies
    policy_refresh_interval: Annotated[
        timedelta,
        POLICIES(
            "IDV_POLICY_REFRESH_INTERVAL",
            _duration(timedelta(seconds=1), "1s"),
            "how often each process re-reads published policies besides being notified (LISTEN/NOTIFY)",
            "60s",
        ),
    ]

    # operators
    operator_session_idle_timeout: Annotated[
        timedelta,
        OPERATORS(
            "IDV_OPERATOR_SESSION_IDLE_TIMEOUT",
            _duration(),
            "an operator session unused this long ends (at most `IDV_SESSION_IDLE_TIMEOUT`)",
            "15m",
        ),
    ]
    operator_session_absolute_timeout: Annotated[
        timedelta,
        OPERATORS(
            "IDV_OPERATOR_SESSION_ABSOLUTE_TIMEOUT",
            _duration(),
            "an operator session ends this long after sign-in (at most `IDV_SESSION_ABSOLUTE_TIMEOUT`)",
            "8h",
        ),
    ]
    operator_enrolment_lifetime: Annotated[
        timedelta,
        OPERATORS("IDV_OPERATOR_ENROLMENT_LIFETIME", _duration(), "how long an operator's enrolment code works", "72h"),
    ]
    operator_require_passkey: Annotated[
        bool,
        OPERATORS(
            "IDV_OPERATOR_REQUIRE_PASSKEY",
            _false_unless_true,
            "`true`: operators must sign in with a passkey; a password and TOTP sign-in then only lets an "
            "operator without one enrol their first (recommended in production; the console and the API both "
            "run the passkey ceremonies)",
            "false",
        ),
    ]

    # cases
    case_max_resubmissions: Annotated[
        int,
        CASES("IDV_CASE_MAX_RESUBMISSIONS", _integer(0, 100), "times a user may resubmit evidence in one case", "3"),
    ]
    case_appeal_window: Annotated[
        timedelta,
        CASES("IDV_CASE_APPEAL_WINDOW", _duration(), "how long after a rejection the user may appeal", "30d"),
    ]
    four_eyes_decisions: Annotated[
        frozenset[str],
        CASES(
            "IDV_FOUR_EYES_DECISIONS",
            _four_eyes,
            "decisions a second operator must confirm: `approve` (then also `overturn`), `reject`, "
            "`request_resubmission`, `uphold`, `overturn`, and `child_data` (every decision on a child's case)",
            "overturn,child_data",
            production=(
                ProductionRule(
                    "includes `child_data`",
                    lambda value, _settings, _workload: "child_data" not in value,
                    "production refuses IDV_FOUR_EYES_DECISIONS without child_data",
                ),
            ),
        ),
    ]

    # realname
    real_name_provider: Annotated[
        str,
        REAL_NAME(
            "IDV_REAL_NAME_PROVIDER",
            _one_of("sandbox", "http"),
            "`http` registry (HMAC-SHA256-signed JSON), or `sandbox` (development only)",
            "sandbox",
            production=(_development_adapter("sandbox"),),
        ),
    ]
    real_name_url: Annotated[
        str | None, REAL_NAME("IDV_REAL_NAME_URL", _text, "HTTPS endpoint of the registry for the http provider")
    ]
    real_name_key_id: Annotated[
        str | None, REAL_NAME("IDV_REAL_NAME_KEY_ID", _text, "key id sent with each signed request")
    ]
    real_name_secret: Annotated[
        bytes | None,
        REAL_NAME(
            "IDV_REAL_NAME_SECRET",
            _base64,
            "base64 HMAC-SHA256 key that signs requests to the registry (read by the service, not `idv migrate`)",
            read_for=Workload.SERVICE,
            read_if=("IDV_REAL_NAME_PROVIDER", "http"),
        ),
    ]
    real_name_timeout: Annotated[
        float,
        REAL_NAME("IDV_REAL_NAME_TIMEOUT_SECONDS", _seconds(1, 60), "how long one registry request may take", "5"),
    ]
    identity_accounts_limit: Annotated[
        int,
        REAL_NAME("IDV_IDENTITY_ACCOUNTS_LIMIT", _integer(1, 100), "accounts one verified ID number may back", "1"),
    ]
    real_name_mismatches_before_suspension: Annotated[
        int,
        REAL_NAME(
            "IDV_REAL_NAME_MISMATCHES_BEFORE_SUSPENSION",
            _integer(1, 20),
            "registry mismatches after which the account is suspended for false information (appealable)",
            "3",
        ),
    ]

    # qualifications
    upload_max_decoded_bytes: Annotated[
        int,
        UPLOADS(
            "IDV_UPLOAD_MAX_DECODED_BYTES",
            _integer(1024 * 1024, 64 * 1024**3),
            "memory decoding one uploaded image may take at its peak, estimated from its header (size, channels, "
            "bit depth); larger images are refused before they are decoded",
            str(256 * 1024 * 1024),
        ),
    ]
    decode_memory_budget_mib: Annotated[
        int,
        UPLOADS(
            "IDV_DECODE_MEMORY_BUDGET_MIB",
            _integer(1, 64 * 1024),
            "memory all image decodes running at once may take; an upload that does not fit soon is answered 503",
            "256",
        ),
    ]

    # face
    face_accept_threshold: Annotated[
        float,
        FACE(
            "IDV_FACE_ACCEPT_THRESHOLD",
            _fraction,
            "SFace cosine similarity from which a live face matches the document",
            "0.50",
        ),
    ]
    face_reject_threshold: Annotated[
        float,
        FACE(
            "IDV_FACE_REJECT_THRESHOLD",
            _fraction,
            "cosine similarity below which it does not; in between, an operator decides",
            "0.363",
        ),
    ]
    face_challenge_lifetime: Annotated[
        timedelta,
        FACE("IDV_FACE_CHALLENGE_LIFETIME", _duration(), "how long a liveness challenge may be answered", "5m"),
    ]
    face_image_retention: Annotated[
        timedelta,
        FACE(
            "IDV_FACE_IMAGE_RETENTION",
            _duration(),
            "how long images of automated face decisions are kept (`0`: not at all; images under review go "
            "with the decision)",
            "0",
        ),
    ]
    face_challenges_per_day: Annotated[
        int,
        FACE(
            "IDV_FACE_CHALLENGES_PER_DAY",
            _integer(1, 1000),
            "face challenges one account may ask for in 24 hours (then `429`, pointing to document review)",
            "5",
        ),
    ]
    face_failures_in_a_row: Annotated[
        int,
        FACE(
            "IDV_FACE_FAILURES_IN_A_ROW",
            _integer(1, 100),
            "failed face answers in a row after which the account is sent to document review (`409`)",
            "3",
        ),
    ]
    face_verify_without_review: Annotated[
        str,
        FACE(
            "IDV_FACE_VERIFY_WITHOUT_REVIEW",
            _one_of("margin", "certified_pad", "never"),
            "when a face verification may become `verified` with no operator looking: `margin` (a certified "
            "PAD passed, or every built-in check passed with margin), `certified_pad`, `never`; otherwise review",
            "margin",
        ),
    ]
    face_capture_min_ms: Annotated[
        int,
        FACE(
            "IDV_FACE_CAPTURE_MIN_MS",
            _integer(0, 600_000),
            "a face answer's frames captured (by the client's `captured_at` times) within less go to review "
            "(a wide guess, not a measurement)",
            "1000",
        ),
    ]
    face_capture_max_ms: Annotated[
        int,
        FACE(
            "IDV_FACE_CAPTURE_MAX_MS",
            _integer(1, 3_600_000),
            "a face answer's frames captured over more than this go to review (a wide guess, not a measurement)",
            "120000",
        ),
    ]
    face_min_frames: Annotated[
        int,
        FACE(
            "IDV_FACE_MIN_FRAMES_PER_ACTION",
            _integer(1, 6),
            "a face answer with fewer frames than this for any action goes to review (raise it to what your "
            "client's continuous capture sends)",
            "1",
        ),
    ]
    face_pad: Annotated[
        str,
        FACE(
            "IDV_FACE_PAD",
            _one_of("builtin", "http", "sandbox"),
            "presentation-attack detection: `builtin` (the active challenge alone, not certified), `http` (a "
            "certified vendor, with the challenge's checks too), `sandbox` (development only)",
            "builtin",
            production=(_development_adapter("sandbox"),),
        ),
    ]
    face_pad_name: Annotated[
        str | None,
        FACE("IDV_FACE_PAD_NAME", _text, "the certified PAD vendor's product and version, recorded with its decisions"),
    ]
    face_pad_url: Annotated[str | None, FACE("IDV_FACE_PAD_URL", _text, "HTTPS endpoint of the certified PAD vendor")]
    face_pad_key_id: Annotated[
        str | None, FACE("IDV_FACE_PAD_KEY_ID", _text, "key id sent with each signed request to the PAD vendor")
    ]
    face_pad_secret: Annotated[
        bytes | None,
        FACE(
            "IDV_FACE_PAD_SECRET",
            _base64,
            "base64 HMAC-SHA256 key that signs requests to the PAD vendor (read by the service, not `idv migrate`)",
            read_for=Workload.SERVICE,
            read_if=("IDV_FACE_PAD", "http"),
        ),
    ]
    face_pad_timeout: Annotated[
        float,
        FACE(
            "IDV_FACE_PAD_TIMEOUT_SECONDS",
            _seconds(1, 60),
            "how long one PAD vendor request may take; past it, an operator decides",
            "10",
        ),
    ]
    face_certified_pad_suffices: Annotated[
        bool,
        FACE(
            "IDV_FACE_CERTIFIED_PAD_SUFFICES",
            _false_unless_true,
            "`true`: a certified PAD's pass verifies (with a face match) even where a built-in check failed or had "
            "no margin; `false`: such answers go to an operator",
            "false",
        ),
    ]

    # guardians
    age_profile_name: Annotated[
        str,
        GUARDIANS(
            "IDV_AGE_PROFILE",
            _text,
            "who is a minor or a child: `pipl` (guardian under 18, child under 14), `gdpr` (the member state's "
            "age of digital consent), `coppa` (13)",
            "pipl",
        ),
    ]
    digital_consent_age: Annotated[
        int,
        GUARDIANS(
            "IDV_DIGITAL_CONSENT_AGE",
            _integer(13, 16),
            "for the gdpr profile: the member state's age of digital consent",
            "16",
        ),
    ]
    guardian_consent_window: Annotated[
        timedelta,
        GUARDIANS(
            "IDV_GUARDIAN_CONSENT_WINDOW",
            _duration(),
            "how long a minor's registration waits for a guardian (the invitation is valid) before deletion",
            "7d",
        ),
    ]

    # lifecycle
    cancellation_cooling_off: Annotated[
        timedelta,
        LIFECYCLE(
            "IDV_CANCELLATION_COOLING_OFF",
            _duration(),
            "how long a cancelled account may still be kept (`0`: erased at the next run of the job)",
            "15d",
        ),
    ]
    unverified_account_lifetime: Annotated[
        timedelta,
        LIFECYCLE(
            "IDV_UNVERIFIED_ACCOUNT_LIFETIME",
            _duration(),
            "how long an account may stay `pending_verification` (no contact verified) before it is erased and "
            "its e-mail, phone and username are free again",
            "7d",
        ),
    ]
    # How much of the audit trail stays in the database; `idv audit archive` moves older months to files.
    audit_online_months: Annotated[
        int,
        LIFECYCLE(
            "IDV_AUDIT_ONLINE_MONTHS",
            _integer(1, 1200),
            "whole months of the audit trail kept in the database before the current one; `idv audit archive` "
            "moves only older months to verified files",
            "24",
            production=(
                ProductionRule(
                    "at least 12",
                    lambda value, _settings, _workload: value < 12,
                    "production keeps at least 12 months of the audit trail in the database ({name})",
                ),
            ),
        ),
    ]
    # Retention periods by category (service/lifecycle/retention.py); unnamed ones keep their default.
    retention: Annotated[
        dict[str, timedelta],
        LIFECYCLE(
            "IDV_RETENTION",
            _retention,
            _retention_doc(),
            "",
        ),
    ]

    # rights
    export_lifetime: Annotated[
        timedelta, RIGHTS("IDV_EXPORT_LIFETIME", _duration(), "how long a data export stays downloadable", "7d")
    ]
    rights_request_due: Annotated[
        timedelta,
        RIGHTS(
            "IDV_RIGHTS_REQUEST_DUE",
            _duration(),
            "when a rights request must be answered, from the (signed-in) request",
            "15d",
        ),
    ]

    # termination
    termination_bar: Annotated[
        timedelta,
        TERMINATION(
            "IDV_TERMINATION_BAR",
            _duration(),
            "how long a verified identity is barred after its account is terminated for false information",
            "1095d",
        ),
    ]

    @property
    def age_profile(self) -> AgeProfile:
        return profile_named(self.age_profile_name, self.digital_consent_age)

    def today(self) -> date:
        """The date where the service's people are (ages change at their midnight, not UTC's)."""
        return datetime.now(ZoneInfo(self.time_zone)).date()

    @property
    def outbox_path(self) -> Path:
        return self.state_dir / "outbox.jsonl"


FOUR_EYES_CHOICES = frozenset({"approve", "reject", "request_resubmission", "uphold", "overturn", "child_data"})
RETENTION_CATEGORIES = frozenset(Retained)

# A registrable-looking name of two labels or more: no scheme, port, path or wildcard.
_COOKIE_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_DURATION = re.compile(r"^(\d+)([smhdy]?)$")
# A year is 365 days, as the retention defaults count three years (1095d); a period that must never
# fall short of calendar years (a leap day inside) is written in days, e.g. 1096d.
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def _retention_doc() -> str:
    # A function, not a comprehension in the annotation: msgspec evaluates annotations with the
    # module's names as locals, which a comprehension's own scope cannot see.
    defaults = ", ".join(f"`{name}` {_shown_duration(period)}" for name, period in DEFAULT_PERIODS.items())
    return (
        "retention periods, `category=duration,...`, e.g. `legal_hold=5y`; the categories and their defaults: "
        f"{defaults} (see `idv retention report`)"
    )


def _shown_duration(period: timedelta) -> str:
    """``period`` as IDV_* durations are written, in the largest unit that divides it."""
    seconds = int(period.total_seconds())
    for unit in ("y", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def available_cpus() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota (a container's
    CPU limit, which os.cpu_count() does not see: in a pod it returns the node's core count)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, count)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"not a duration (use e.g. 90s, 15m, 24h, 7d, 3y): {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ValueError(f"{name} is not base64") from exc
    if len(key) != 32:
        raise ValueError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


def parse_master_keys(text: str) -> tuple[MasterKey, ...]:
    keys: list[MasterKey] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, sep, encoded = item.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", key_id):
            raise ValueError("IDV_MASTER_KEYS entries look like `key-id:base64key`")
        keys.append(MasterKey(key_id, _decode_key(encoded, f"master key {key_id!r}")))
    if len({k.key_id for k in keys}) != len(keys):
        raise ValueError("IDV_MASTER_KEYS repeats a key id")
    return tuple(keys)


def _plaintext_smtp_off_host(url: str) -> bool:
    parts = urlsplit(url)
    plaintext = parts.scheme == "smtp" and "starttls=false" in parts.query
    return plaintext and parts.hostname not in {"127.0.0.1", "::1", "localhost"}


def default_state_dir() -> Path:
    """Where development state lives when IDV_STATE_DIR is unset.

    From a checkout (`scripts/install` installs it editable) every command uses the checkout's
    .idv, wherever it is run from: `idv operators create` in another folder must reach the database
    and keys that `scripts/serve` uses, not start a second, empty one. An installed package (the
    container image, which sets IDV_STATE_DIR anyway) keeps ./.idv."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "service" / "settings.py").is_file():
        return checkout / ".idv"
    return Path(".idv")


def development_secrets(state_dir: Path) -> dict[str, str]:
    """Keys generated once into the state directory so a developer's data survives restarts."""
    path = state_dir / "development-keys.json"
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    state_dir.mkdir(parents=True, exist_ok=True)
    generated = {
        "IDV_MASTER_KEYS": "dev-1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "IDV_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(generated, handle)
    return generated


# --- The declarations, read once --------------------------------------------------------------------


def _declared_fields() -> dict[str, Variable[Any] | Composite]:
    """Each Settings field's declaration, in the order written; a field without one fails the import."""
    declared: dict[str, Variable[Any] | Composite] = {}
    # The module's globals, explicitly: the lambdas and comprehensions in the annotations read them.
    for name, hint in get_type_hints(Settings, globalns=globals(), include_extras=True).items():
        found = [m for m in get_args(hint)[1:] if isinstance(m, Variable | Composite)]
        if get_origin(hint) is not Annotated or len(found) != 1:
            raise TypeError(f"Settings.{name} needs one variable declaration")
        declared[name] = found[0]
    return declared


FIELDS = _declared_fields()


def _variables() -> Iterator[Variable[Any]]:
    for declaration in FIELDS.values():
        if isinstance(declaration, Composite):
            yield from declaration.parts.values()
        else:
            yield declaration


# Every variable by name, in the order of the Settings fields.
VARIABLES: dict[str, Variable[Any]] = {variable.name: variable for variable in _variables()}
if len(VARIABLES) != sum(1 for _ in _variables()) or not all(v.doc for v in VARIABLES.values()):
    raise TypeError("every variable is declared once, with a doc")


class _Reader:
    """Reads variables through their declarations, collecting every problem instead of stopping."""

    def __init__(self, source: Mapping[str, str], workload: Workload) -> None:
        self.source = source
        self.workload = workload
        self.problems: list[str] = []
        # By variable name: what production_problems checks.
        self.values: dict[str, Any] = {}

    def text(self, variable: Variable[Any]) -> str | None:
        return self.source.get(variable.name) or variable.default

    def read(self, variable: Variable[T], earlier: Mapping[str, Any]) -> T | None:
        value = self._value(variable, earlier)
        self.values[variable.name] = value
        return value

    def _value(self, variable: Variable[T], earlier: Mapping[str, Any]) -> T | None:
        if variable.read_for is not None and not variable.read_for & self.workload:
            return variable.unset
        if variable.read_if is not None:
            other, expected = variable.read_if
            if self.text(VARIABLES[other]) != expected:
                return variable.unset
        text = self.text(variable)
        if text is not None:
            try:
                return variable.parse(variable.name, text)
            except ValueError as exc:
                self.problems.append(str(exc))
        elif variable.required:
            self.problems.append(variable.required)
        # Unset, or refused above: its default stands in so that the other checks still run.
        if text is not None and variable.default is not None and text != variable.default:
            return variable.parse(variable.name, variable.default)
        if variable.computed_default is not None:
            return variable.computed_default(earlier)
        return variable.unset


def load_settings(environ: Mapping[str, str] | None = None, workload: Workload = Workload.SERVICE) -> Settings:
    """Read and check the environment for ``workload``; raise SettingsError naming every problem at
    once. For MIGRATIONS alone the keys are neither read nor required (nor generated in development):
    its settings carry none."""
    source = dict(os.environ if environ is None else environ)
    # The reader sees ``source`` itself: the development keys added below are read as if set.
    reader = _Reader(source, workload)
    values: dict[str, Any] = {}
    # Where the state lives, before the keys: development keeps its generated ones there.
    for first in ("env", "state_dir"):
        values[first] = reader.read(_variable(first), values)
    production = values["env"] is Environment.PRODUCTION
    if (
        Workload.SERVICE in workload
        and not production
        and not source.get("IDV_MASTER_KEYS")
        and not source.get("IDV_BLIND_INDEX_KEY")
    ):
        source.update(development_secrets(values["state_dir"]))
    for name, declaration in FIELDS.items():
        if name in values:
            continue
        if isinstance(declaration, Composite):
            parts = {part: reader.read(variable, values) for part, variable in declaration.parts.items()}
            values[name] = declaration.build(**parts)
        else:
            values[name] = reader.read(declaration, values)
    settings = Settings(**values)
    problems = reader.problems + _inconsistencies(settings, workload)
    if production:
        problems += production_problems(settings, workload, reader.values)
    if problems:
        raise SettingsError("idv cannot start:\n  - " + "\n  - ".join(problems))
    return settings


def _variable(field_name: str) -> Variable[Any]:
    declaration = FIELDS[field_name]
    assert isinstance(declaration, Variable)
    return declaration


def production_problems(settings: Settings, workload: Workload, values: Mapping[str, Any]) -> list[str]:
    """Every production rule declared on a variable that ``values`` (by variable name) breaches."""
    return [
        rule.message.format(name=variable.name, value=values[variable.name])
        for variable in VARIABLES.values()
        for rule in variable.production
        if rule.refuses(values[variable.name], settings, workload)
    ]


SESSION_CACHE_TTL_CAP = timedelta(seconds=60)


def _inconsistencies(settings: Settings, workload: Workload) -> list[str]:
    """Rules between variables, whatever the environment."""
    problems = []
    keyed = Workload.SERVICE in workload
    if settings.master_keys and settings.active_master_key_id not in {k.key_id for k in settings.master_keys}:
        problems.append(f"IDV_ACTIVE_MASTER_KEY {settings.active_master_key_id!r} is not in IDV_MASTER_KEYS")
    if settings.blind_index_key_previous is not None and settings.blind_index_key_previous == settings.blind_index_key:
        problems.append("IDV_BLIND_INDEX_KEY_PREVIOUS is IDV_BLIND_INDEX_KEY: a rotation needs a new key")
    if settings.courier_sms == "http" and not settings.sms_gateway_url:
        problems.append("IDV_COURIER_SMS=http needs IDV_SMS_GATEWAY_URL")
    if settings.session_cache_ttl > SESSION_CACHE_TTL_CAP:
        # Without notifications (a listener away), a revoked session is answered this long.
        problems.append("IDV_SESSION_CACHE_TTL must be at most 60s")
    # Only a process that sends the outbox needs the credentials; the API queues messages only.
    if Workload.DELIVERY in workload and settings.courier_email == "smtp" and not settings.smtp_url:
        problems.append("IDV_COURIER_EMAIL=smtp needs IDV_SMTP_URL to deliver e-mail (`idv worker`)")
    if settings.real_name_provider == "http":
        if not keyed and not (settings.real_name_url and settings.real_name_key_id):
            problems.append("IDV_REAL_NAME_PROVIDER=http needs IDV_REAL_NAME_URL and _KEY_ID")
        if keyed and not (settings.real_name_url and settings.real_name_key_id and settings.real_name_secret):
            problems.append("IDV_REAL_NAME_PROVIDER=http needs IDV_REAL_NAME_URL, _KEY_ID and _SECRET")
    if settings.face_pad == "http":
        if not (settings.face_pad_url and settings.face_pad_key_id and settings.face_pad_name):
            problems.append("IDV_FACE_PAD=http needs IDV_FACE_PAD_URL, _KEY_ID and _NAME")
        if keyed and not settings.face_pad_secret:
            problems.append("IDV_FACE_PAD=http needs IDV_FACE_PAD_SECRET")
    if settings.operator_session_absolute_timeout > settings.session_absolute_timeout or (
        settings.operator_session_idle_timeout > settings.session_idle_timeout
    ):
        problems.append("operator sessions must not outlive users' (IDV_OPERATOR_SESSION_* timeouts)")
    try:
        settings.age_profile  # noqa: B018 - validates the name
    except ValueError as exc:
        problems.append(f"IDV_AGE_PROFILE: {exc}")
    if settings.upload_max_decoded_bytes > settings.decode_memory_budget_mib * 1024 * 1024:
        problems.append("IDV_UPLOAD_MAX_DECODED_BYTES must not exceed IDV_DECODE_MEMORY_BUDGET_MIB (in bytes)")
    if settings.face_reject_threshold > settings.face_accept_threshold:
        problems.append("IDV_FACE_REJECT_THRESHOLD must not exceed IDV_FACE_ACCEPT_THRESHOLD")
    if settings.face_capture_min_ms >= settings.face_capture_max_ms:
        problems.append("IDV_FACE_CAPTURE_MIN_MS must be under IDV_FACE_CAPTURE_MAX_MS")
    return problems


# --- The README's table -----------------------------------------------------------------------------


def markdown_table() -> str:
    """The README's table of every variable (`idv settings --markdown`), grouped by capability."""
    lines = ["| capability | variable | default | meaning | production |", "| --- | --- | --- | --- | --- |"]
    for variable in sorted(VARIABLES.values(), key=lambda v: _GROUP_ORDER[v.group]):
        if variable.default:
            default = f"`{variable.default}`"
        else:
            default = variable.default_doc or ("required" if variable.required else "unset")
        rules = (["required"] if variable.required else []) + [rule.says for rule in variable.production]
        cells = (variable.group, f"`{variable.name}`", default, variable.doc, "; ".join(rules))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


# Groups in the order their first field is declared (a group's fields are written together).
_GROUP_ORDER = {group: order for order, group in enumerate(dict.fromkeys(v.group for v in VARIABLES.values()))}
