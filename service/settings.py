"""One typed settings object, read from ``IDV_*`` environment variables and ``DATABASE_URL``.

Every variable is listed in ``VARIABLES`` with its default, so the README and the
production checks read from one place.
"""

from __future__ import annotations

import base64
import enum
import json
import math
import os
import re
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from service.http.forwarding import parse_networks
from verification.ages import AgeProfile, profile_named


class SettingsError(Exception):
    """The environment does not describe a service that may start; the message says why."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Workload(enum.Flag):
    """What a process is started to do. Production asks each for the secrets it uses and no more;
    configuration that is not secret is checked whatever the workload (the manifests share it)."""

    # `idv migrate`: the tables' owner's URL and the migrations; no keys, no providers.
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


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env: Environment
    database_url: str | None
    migrations_database_url: str | None
    state_dir: Path
    embedded_pg_port: int | None
    host: str
    port: int
    master_keys: tuple[MasterKey, ...]
    active_master_key_id: str
    blind_index_key: bytes
    max_body_bytes: int
    log_level: str
    courier_email: str
    courier_sms: str
    smtp_url: str | None
    smtp_sender: str
    sms_gateway_url: str | None
    sms_gateway_token: str | None
    redis_url: str | None
    db_pool_size: int
    migrate_on_start: bool
    schema_wait: timedelta
    rate_limits_per_replica: bool
    allowed_origins: tuple[str, ...]
    forwarded_allow_ips: str
    forwarded_hops: int
    cookie_secure: bool
    # Set for apps on sibling subdomains: the cookie then goes to the whole parent domain.
    cookie_domain: str | None
    worker_health_port: int
    policy_refresh_interval: timedelta
    session_idle_timeout: timedelta
    session_absolute_timeout: timedelta
    argon2: Argon2Parameters
    hash_concurrency: int
    cpu_workers: int
    upload_max_decoded_bytes: int
    decode_memory_budget_mib: int
    default_phone_region: str
    rate_limit_registrations_per_hour: int
    rate_limit_sign_ins_per_minute: int
    rate_limit_codes_per_minute: int
    public_name: str
    operator_session_idle_timeout: timedelta
    operator_session_absolute_timeout: timedelta
    operator_enrolment_lifetime: timedelta
    case_max_resubmissions: int
    case_appeal_window: timedelta
    four_eyes_decisions: frozenset[str]
    real_name_provider: str
    real_name_url: str | None
    real_name_key_id: str | None
    real_name_secret: bytes | None
    real_name_timeout: float
    identity_accounts_limit: int
    real_name_mismatches_before_suspension: int
    face_accept_threshold: float
    face_reject_threshold: float
    face_challenge_lifetime: timedelta
    face_image_retention: timedelta
    face_challenges_per_day: int
    face_failures_in_a_row: int
    face_verify_without_review: str
    face_capture_min_ms: int
    face_capture_max_ms: int
    face_min_frames: int
    face_pad: str
    face_pad_name: str | None
    face_pad_url: str | None
    face_pad_key_id: str | None
    face_pad_secret: bytes | None
    face_pad_timeout: float
    face_certified_pad_suffices: bool
    age_profile_name: str
    digital_consent_age: int
    time_zone: str
    guardian_consent_window: timedelta
    cancellation_cooling_off: timedelta
    export_lifetime: timedelta
    rights_request_due: timedelta
    termination_bar: timedelta
    # Retention periods by category (service/lifecycle/retention.py); unnamed ones keep their default.
    retention: dict[str, timedelta]
    # How long backups are kept (the CloudNativePG ObjectStore retentionPolicy): a master key no
    # data key is wrapped under any more may be retired once this has passed (service/vault/rotation.py).
    backup_retention: timedelta = timedelta(days=30)
    master_key_max_age: timedelta = timedelta(days=90)
    # During a blind-index rotation: the key indexes were made under before (service/vault/reindex.py).
    blind_index_key_previous: bytes | None = None

    @property
    def age_profile(self) -> AgeProfile:
        return profile_named(self.age_profile_name, self.digital_consent_age)

    def today(self) -> date:
        """The date where the service's people are (ages change at their midnight, not UTC's)."""
        return datetime.now(ZoneInfo(self.time_zone)).date()

    @property
    def outbox_path(self) -> Path:
        return self.state_dir / "outbox.jsonl"


# name -> (default, description). Secrets have no default.
VARIABLES: dict[str, tuple[str | None, str]] = {
    "IDV_ENV": ("development", "development, test or production"),
    "DATABASE_URL": (None, "PostgreSQL URL; unset starts an embedded server (not in production)"),
    "IDV_MIGRATIONS_DATABASE_URL": (
        None,
        "PostgreSQL URL of the tables' owner, for migrations; DATABASE_URL is then the service's role",
    ),
    "IDV_STATE_DIR": (
        None,
        "local state: embedded PostgreSQL, development keys, outbox; default .idv in the checkout idv is "
        "installed from (editable install), whatever the current folder, else ./.idv",
    ),
    "IDV_PG_PORT": (None, "port of the embedded PostgreSQL; unset picks a free one"),
    "IDV_HOST": (
        "127.0.0.1",
        "address `idv serve` and the worker's probes bind; `::` is IPv6 and IPv4 at once (IPv4 alone where "
        "there is no IPv6); several separated by commas",
    ),
    "IDV_PORT": ("8080", "port `idv serve` binds"),
    "IDV_MASTER_KEYS": (None, "key ring `id:base64key,...` (32-byte keys); required in production"),
    "IDV_ACTIVE_MASTER_KEY": (None, "id of the key that wraps new data keys; default the first"),
    "IDV_BLIND_INDEX_KEY": (None, "base64 32-byte key for look-up hashes; required in production"),
    "IDV_MAX_BODY_BYTES": ("1048576", "largest request body accepted"),
    "IDV_LOG_LEVEL": ("INFO", "log level"),
    "IDV_COURIER_EMAIL": ("file", "file (development only) or smtp"),
    "IDV_COURIER_SMS": ("file", "file (development only) or http"),
    "IDV_SMTP_URL": (None, "smtp[s]://user:password@host:port for the smtp courier; only processes that deliver"),
    "IDV_SMTP_SENDER": ("idv <no-reply@localhost>", "From: address of e-mail"),
    "IDV_SMS_GATEWAY_URL": (None, "HTTPS endpoint of the SMS gateway for the http courier"),
    "IDV_SMS_GATEWAY_TOKEN": (None, "bearer token for the SMS gateway; only processes that deliver (production)"),
    "IDV_REDIS_URL": (None, "Redis for rate-limit counters shared by replicas"),
    "IDV_MIGRATE_ON_START": ("true", "apply pending migrations at start; false: wait for `idv migrate` instead"),
    "IDV_SCHEMA_WAIT": ("15m", "with IDV_MIGRATE_ON_START=false, how long to wait for the migrations"),
    "IDV_DB_POOL_SIZE": ("10", "most pooled PostgreSQL connections per process (see the connection budget)"),
    "IDV_RATE_LIMITS_PER_REPLICA": ("false", "production: true if rate limits counted per replica are intended"),
    "IDV_ALLOWED_ORIGINS": ("", "comma-separated browser origins allowed to use the session cookie"),
    "IDV_FORWARDED_ALLOW_IPS": (
        "127.0.0.1",
        "the gateway's addresses: only their X-Forwarded-For is read ('*': any peer)",
    ),
    "IDV_FORWARDED_HOPS": (
        "1",
        "how many proxies of ours append to X-Forwarded-For (the client is that many from the right)",
    ),
    "IDV_COOKIE_SECURE": ("true", "mark the session cookie Secure"),
    "IDV_COOKIE_DOMAIN": (
        None,
        "parent domain the session cookie is sent to (e.g. example.com, for apps on its subdomains); "
        "unset: only this host (__Host- cookie)",
    ),
    "IDV_WORKER_HEALTH_PORT": ("8081", "port of `idv worker`'s /health/live, /health/ready and /metrics (0: none)"),
    "IDV_POLICY_REFRESH_INTERVAL": (
        "60s",
        "how often each process re-reads published policies besides being told at once (LISTEN/NOTIFY)",
    ),
    "IDV_SESSION_IDLE_TIMEOUT": ("24h", "a session unused this long ends"),
    "IDV_SESSION_ABSOLUTE_TIMEOUT": ("14d", "a session ends this long after sign-in"),
    "IDV_ARGON2_MEMORY_KIB": ("19456", "argon2id memory cost"),
    "IDV_ARGON2_TIME_COST": ("2", "argon2id iterations"),
    "IDV_ARGON2_PARALLELISM": ("1", "argon2id lanes"),
    "IDV_HASH_CONCURRENCY": (None, "password hashes computed at once; default IDV_CPU_WORKERS"),
    "IDV_CPU_WORKERS": (
        None,
        "threads for CPU-heavy work (face models, image screening); default the cores this process may use, "
        "capped by a container's CPU limit",
    ),
    "IDV_UPLOAD_MAX_DECODED_BYTES": (
        str(256 * 1024 * 1024),
        "memory decoding one uploaded image may take at its peak, estimated from its header (size, channels, bit "
        "depth); larger images are refused before they are decoded",
    ),
    "IDV_DECODE_MEMORY_BUDGET_MIB": (
        "256",
        "memory all image decodes running at once may take; an upload that does not fit soon is answered 503",
    ),
    "IDV_DEFAULT_PHONE_REGION": ("CN", "region assumed for phone numbers without +country code"),
    "IDV_RATE_REGISTRATIONS_PER_HOUR": (
        "20",
        "registrations per client address per hour (0: no limit here, e.g. the gateway limits)",
    ),
    "IDV_RATE_SIGN_INS_PER_MINUTE": ("30", "sign-in requests per client address per minute"),
    "IDV_RATE_CODES_PER_MINUTE": ("10", "one-time-code requests per client address per minute"),
    "IDV_PUBLIC_NAME": ("idv", "issuer shown in authenticator apps and messages"),
    "IDV_OPERATOR_SESSION_IDLE_TIMEOUT": ("15m", "an operator session unused this long ends"),
    "IDV_OPERATOR_SESSION_ABSOLUTE_TIMEOUT": ("8h", "an operator session ends this long after sign-in"),
    "IDV_OPERATOR_ENROLMENT_LIFETIME": ("72h", "how long an operator's enrolment code works"),
    "IDV_CASE_MAX_RESUBMISSIONS": ("3", "times a user may resubmit evidence in one case"),
    "IDV_CASE_APPEAL_WINDOW": ("30d", "how long after a rejection the user may appeal"),
    "IDV_FOUR_EYES_DECISIONS": (
        "overturn,child_data",
        "decisions a second operator must confirm: approve, reject, request_resubmission, uphold, "
        "overturn, and child_data (every decision on a child's case)",
    ),
    "IDV_REAL_NAME_PROVIDER": ("sandbox", "sandbox (development only) or http"),
    "IDV_REAL_NAME_URL": (None, "HTTPS endpoint of the real-name registry for the http provider"),
    "IDV_REAL_NAME_KEY_ID": (None, "key id sent with each signed request"),
    "IDV_REAL_NAME_SECRET": (None, "base64 HMAC-SHA256 key that signs requests to the registry"),
    "IDV_REAL_NAME_TIMEOUT_SECONDS": ("5", "how long one registry request may take"),
    "IDV_IDENTITY_ACCOUNTS_LIMIT": ("1", "accounts one verified identity number may back"),
    "IDV_FACE_ACCEPT_THRESHOLD": ("0.50", "cosine similarity from which a live face matches the document (SFace)"),
    "IDV_FACE_REJECT_THRESHOLD": (
        "0.363",
        "cosine similarity below which it does not; in between, an operator decides",
    ),
    "IDV_FACE_CHALLENGE_LIFETIME": ("5m", "how long a liveness challenge may be answered"),
    "IDV_FACE_IMAGE_RETENTION": ("0", "how long images of automated face decisions are kept (0: not at all)"),
    "IDV_FACE_CHALLENGES_PER_DAY": (
        "5",
        "face challenges one account may ask for in 24 hours; past them, document review by an operator",
    ),
    "IDV_FACE_FAILURES_IN_A_ROW": (
        "3",
        "failed face answers in a row after which the account is sent to document review instead",
    ),
    "IDV_FACE_VERIFY_WITHOUT_REVIEW": (
        "margin",
        "when a face verification may be verified without an operator looking: margin (a certified PAD "
        "passed, or every built-in check passed with margin), certified_pad (only a certified PAD), never",
    ),
    "IDV_FACE_CAPTURE_MIN_MS": (
        "1000",
        "a face answer's frames captured (by the client's clock) within less than this many ms go to review",
    ),
    "IDV_FACE_CAPTURE_MAX_MS": (
        "120000",
        "a face answer's frames captured (by the client's clock) over more than this many ms go to review",
    ),
    "IDV_FACE_MIN_FRAMES_PER_ACTION": (
        "1",
        "a face answer with fewer frames than this for any action goes to review (raise it to what your "
        "client's continuous capture sends)",
    ),
    "IDV_FACE_PAD": (
        "builtin",
        "presentation-attack detection: builtin (the active challenge alone, not certified), http (a certified "
        "vendor, with the challenge's checks too), sandbox (development only)",
    ),
    "IDV_FACE_PAD_NAME": (None, "the certified PAD vendor's product and version, recorded with its decisions (http)"),
    "IDV_FACE_PAD_URL": (None, "HTTPS endpoint of the certified PAD vendor (http)"),
    "IDV_FACE_PAD_KEY_ID": (None, "key id sent with each signed request to the PAD vendor"),
    "IDV_FACE_PAD_SECRET": (None, "base64 HMAC-SHA256 key that signs requests to the PAD vendor"),
    "IDV_FACE_PAD_TIMEOUT_SECONDS": ("10", "how long one PAD vendor request may take; past it, an operator decides"),
    "IDV_FACE_CERTIFIED_PAD_SUFFICES": (
        "false",
        "true: a certified PAD's pass verifies (with a face match) even where a built-in check failed or had no "
        "margin; false: such answers go to an operator",
    ),
    "IDV_AGE_PROFILE": ("pipl", "who is a minor or a child: pipl (18/14), gdpr (digital consent age), coppa (13)"),
    "IDV_DIGITAL_CONSENT_AGE": ("16", "for the gdpr profile: the member state's age of digital consent (13-16)"),
    "IDV_TIME_ZONE": ("Asia/Shanghai", "the zone whose date decides ages and birthdays"),
    "IDV_GUARDIAN_CONSENT_WINDOW": ("7d", "how long a minor's registration waits for a guardian before deletion"),
    "IDV_CANCELLATION_COOLING_OFF": (
        "15d",
        "how long a cancelled account may still be kept before erasure (0 allowed)",
    ),
    "IDV_EXPORT_LIFETIME": ("7d", "how long a data export stays downloadable"),
    "IDV_RETENTION": (
        "",
        "retention periods as category=duration,... (sessions, one_time_codes, outbox_messages, "
        "sign_in_throttle, closed_case_evidence, legal_hold, audit_origins, terminated_accounts, "
        "guardian_invitations), "
        "e.g. legal_hold=5y; see `idv retention report`",
    ),
    "IDV_TERMINATION_BAR": ("1095d", "how long an identity stays barred after termination for false information"),
    "IDV_RIGHTS_REQUEST_DUE": ("15d", "when a rights request must be answered, from the (signed-in) request"),
    "IDV_REAL_NAME_MISMATCHES_BEFORE_SUSPENSION": (
        "3",
        "registry mismatches after which the account is suspended for false information (appealable)",
    ),
    "IDV_BACKUP_RETENTION": (
        "30d",
        "how long database backups are kept (match the backup retentionPolicy); a master key wrapping no data "
        "key may be removed once this has passed",
    ),
    "IDV_MASTER_KEY_MAX_AGE": ("90d", "age of the active master key after which it should be rotated (alerted)"),
    "IDV_BLIND_INDEX_KEY_PREVIOUS": (
        None,
        "during a blind-index rotation, the key IDV_BLIND_INDEX_KEY replaced: look-ups try it second until "
        "vault.reindex has re-made every index (`idv vault status`), then remove it",
    ),
}

FACE_VERIFY_WITHOUT_REVIEW = frozenset({"margin", "certified_pad", "never"})
FOUR_EYES_CHOICES = frozenset({"approve", "reject", "request_resubmission", "uphold", "overturn", "child_data"})

# A registrable-looking name of two labels or more: no scheme, port, path or wildcard.
_COOKIE_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_DURATION = re.compile(r"^(\d+)([smhdy]?)$")
# A year is 365 days, as the retention defaults count three years (1095d); a period that must never
# fall short of calendar years (a leap day inside) is written in days, e.g. 1096d.
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
DEVELOPMENT_ONLY_COURIERS = {"file"}
# The categories of service/lifecycle/retention.py (named here so settings need not import it).
RETENTION_CATEGORIES = frozenset(
    {
        "sessions",
        "one_time_codes",
        "outbox_messages",
        "sign_in_throttle",
        "closed_case_evidence",
        "legal_hold",
        "audit_origins",
        "terminated_accounts",
        "guardian_invitations",
    }
)


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


def load_settings(environ: Mapping[str, str] | None = None, workload: Workload = Workload.SERVICE) -> Settings:
    """Read and check the environment for ``workload``; raise SettingsError naming every problem at
    once. For MIGRATIONS alone the keys are neither read nor required (nor generated in development):
    its settings carry none."""
    source = dict(os.environ if environ is None else environ)
    keyed = Workload.SERVICE in workload
    delivers = Workload.DELIVERY in workload
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = source.get(name)
        if value is None or value == "":
            return VARIABLES[name][0]
        return value

    def integer(name: str, low: int, high: int) -> int:
        raw = get(name)
        try:
            value = int(raw or "")
        except ValueError:
            problems.append(f"{name} must be a whole number, got {raw!r}")
            return low
        if not low <= value <= high:
            problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def fraction(name: str) -> float:
        raw = get(name)
        try:
            value = float(raw or "")
        except ValueError:
            problems.append(f"{name} must be a number, got {raw!r}")
            return 0.0
        if not -1.0 <= value <= 1.0:
            problems.append(f"{name} must be between -1 and 1, got {value}")
        return value

    def previous_blind_index_key() -> bytes | None:
        text = source.get("IDV_BLIND_INDEX_KEY_PREVIOUS", "")
        if not text:
            return None
        try:
            key = _decode_key(text, "IDV_BLIND_INDEX_KEY_PREVIOUS")
        except ValueError as exc:
            problems.append(str(exc))
            return None
        if key == blind_index_key:
            problems.append("IDV_BLIND_INDEX_KEY_PREVIOUS is IDV_BLIND_INDEX_KEY: a rotation needs a new key")
        return key

    def retention() -> dict[str, timedelta]:
        periods = {}
        for item in (get("IDV_RETENTION") or "").split(","):
            if not item.strip():
                continue
            name, _, value = item.partition("=")
            if name.strip() not in RETENTION_CATEGORIES:
                problems.append(f"IDV_RETENTION: unknown category {name.strip()!r}")
                continue
            try:
                periods[name.strip()] = parse_duration(value)
            except ValueError as exc:
                problems.append(f"IDV_RETENTION: {exc}")
        return periods

    def cookie_domain() -> str | None:
        raw = (get("IDV_COOKIE_DOMAIN") or "").strip().lower().removeprefix(".")
        if not raw:
            return None
        if not _COOKIE_DOMAIN.fullmatch(raw):
            problems.append(f"IDV_COOKIE_DOMAIN must be a domain name such as example.com, got {raw!r}")
            return None
        return raw

    def duration(name: str) -> timedelta:
        try:
            return parse_duration(get(name) or "")
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return timedelta(0)

    try:
        env = Environment(get("IDV_ENV") or "development")
    except ValueError:
        problems.append(f"IDV_ENV must be one of {', '.join(e.value for e in Environment)}")
        env = Environment.DEVELOPMENT
    production = env is Environment.PRODUCTION
    state_dir = Path(get("IDV_STATE_DIR") or default_state_dir()).absolute()

    if keyed and not production and not source.get("IDV_MASTER_KEYS") and not source.get("IDV_BLIND_INDEX_KEY"):
        source.update(development_secrets(state_dir))

    master_keys: tuple[MasterKey, ...] = ()
    active = ""
    blind_index_key = b""
    if keyed:
        try:
            master_keys = parse_master_keys(source.get("IDV_MASTER_KEYS", ""))
        except ValueError as exc:
            problems.append(str(exc))
        if not master_keys:
            problems.append("IDV_MASTER_KEYS is required (e.g. `k1:<base64 of 32 random bytes>`)")
        active = get("IDV_ACTIVE_MASTER_KEY") or (master_keys[0].key_id if master_keys else "")
        if master_keys and active not in {k.key_id for k in master_keys}:
            problems.append(f"IDV_ACTIVE_MASTER_KEY {active!r} is not in IDV_MASTER_KEYS")
        try:
            blind_index_key = _decode_key(source.get("IDV_BLIND_INDEX_KEY", ""), "IDV_BLIND_INDEX_KEY")
        except ValueError as exc:
            problems.append(str(exc))

    courier_email = get("IDV_COURIER_EMAIL") or ""
    courier_sms = get("IDV_COURIER_SMS") or ""
    if courier_email not in {"file", "smtp"}:
        problems.append("IDV_COURIER_EMAIL must be file or smtp")
    if courier_sms not in {"file", "http"}:
        problems.append("IDV_COURIER_SMS must be file or http")
    if courier_sms == "http" and not get("IDV_SMS_GATEWAY_URL"):
        problems.append("IDV_COURIER_SMS=http needs IDV_SMS_GATEWAY_URL")
    # Only a process that sends the outbox needs the credentials; the API queues messages only.
    if delivers and courier_email == "smtp" and not get("IDV_SMTP_URL"):
        problems.append("IDV_COURIER_EMAIL=smtp needs IDV_SMTP_URL to deliver e-mail (`idv worker`)")
    if delivers and production and courier_sms == "http" and not get("IDV_SMS_GATEWAY_TOKEN"):
        problems.append("IDV_COURIER_SMS=http needs IDV_SMS_GATEWAY_TOKEN to deliver SMS in production (`idv worker`)")

    database_url = get("DATABASE_URL")
    if production:
        if keyed and database_url is None:
            problems.append("production needs DATABASE_URL (the embedded PostgreSQL is for development)")
        if not keyed and database_url is None and not get("IDV_MIGRATIONS_DATABASE_URL"):
            problems.append("production needs IDV_MIGRATIONS_DATABASE_URL, the tables' owner, to migrate")
        for name, adapter in (("IDV_COURIER_EMAIL", courier_email), ("IDV_COURIER_SMS", courier_sms)):
            if adapter in DEVELOPMENT_ONLY_COURIERS:
                problems.append(f"{name}={adapter} is a development adapter; production refuses it")

    four_eyes = frozenset(d.strip() for d in (get("IDV_FOUR_EYES_DECISIONS") or "").split(",") if d.strip())
    if unknown := sorted(four_eyes - FOUR_EYES_CHOICES):
        problems.append(f"IDV_FOUR_EYES_DECISIONS: unknown decisions {', '.join(unknown)}")
    if "approve" in four_eyes and "overturn" not in four_eyes:
        problems.append("IDV_FOUR_EYES_DECISIONS: overturning an appeal approves, so list overturn with approve")
    if production and "child_data" not in four_eyes:
        problems.append("production refuses IDV_FOUR_EYES_DECISIONS without child_data")

    real_name_provider = get("IDV_REAL_NAME_PROVIDER") or "sandbox"
    real_name_secret: bytes | None = None
    if real_name_provider not in {"sandbox", "http"}:
        problems.append("IDV_REAL_NAME_PROVIDER must be sandbox or http")
    if real_name_provider == "http" and not keyed:
        if not get("IDV_REAL_NAME_URL") or not get("IDV_REAL_NAME_KEY_ID"):
            problems.append("IDV_REAL_NAME_PROVIDER=http needs IDV_REAL_NAME_URL and _KEY_ID")
    elif real_name_provider == "http":
        if not get("IDV_REAL_NAME_URL") or not get("IDV_REAL_NAME_KEY_ID") or not get("IDV_REAL_NAME_SECRET"):
            problems.append("IDV_REAL_NAME_PROVIDER=http needs IDV_REAL_NAME_URL, _KEY_ID and _SECRET")
        else:
            try:
                real_name_secret = base64.b64decode(get("IDV_REAL_NAME_SECRET") or "", validate=True)
            except ValueError:
                problems.append("IDV_REAL_NAME_SECRET is not base64")
    if production and real_name_provider == "sandbox":
        problems.append("IDV_REAL_NAME_PROVIDER=sandbox is a development adapter; production refuses it")

    face_pad = get("IDV_FACE_PAD") or "builtin"
    face_pad_secret: bytes | None = None
    if face_pad not in {"builtin", "http", "sandbox"}:
        problems.append("IDV_FACE_PAD must be builtin, http or sandbox")
    if face_pad == "http" and not (get("IDV_FACE_PAD_URL") and get("IDV_FACE_PAD_KEY_ID") and get("IDV_FACE_PAD_NAME")):
        problems.append("IDV_FACE_PAD=http needs IDV_FACE_PAD_URL, _KEY_ID and _NAME")
    if face_pad == "http" and keyed:
        try:
            face_pad_secret = base64.b64decode(get("IDV_FACE_PAD_SECRET") or "", validate=True)
        except ValueError:
            problems.append("IDV_FACE_PAD_SECRET is not base64")
        if not face_pad_secret:
            problems.append("IDV_FACE_PAD=http needs IDV_FACE_PAD_SECRET")
    if production and face_pad == "sandbox":
        problems.append("IDV_FACE_PAD=sandbox is a development adapter; production refuses it")

    pg_port_raw = get("IDV_PG_PORT")
    cpu_workers = integer("IDV_CPU_WORKERS", 1, 1024) if get("IDV_CPU_WORKERS") else available_cpus()
    settings = Settings(
        env=env,
        database_url=database_url,
        migrations_database_url=get("IDV_MIGRATIONS_DATABASE_URL"),
        state_dir=state_dir,
        embedded_pg_port=integer("IDV_PG_PORT", 1, 65535) if pg_port_raw else None,
        host=get("IDV_HOST") or "127.0.0.1",
        port=integer("IDV_PORT", 0, 65535),
        master_keys=master_keys,
        active_master_key_id=active,
        blind_index_key=blind_index_key,
        max_body_bytes=integer("IDV_MAX_BODY_BYTES", 1024, 64 * 1024 * 1024),
        log_level=(get("IDV_LOG_LEVEL") or "INFO").upper(),
        courier_email=courier_email,
        courier_sms=courier_sms,
        smtp_url=get("IDV_SMTP_URL"),
        smtp_sender=get("IDV_SMTP_SENDER") or "",
        sms_gateway_url=get("IDV_SMS_GATEWAY_URL"),
        sms_gateway_token=get("IDV_SMS_GATEWAY_TOKEN"),
        redis_url=get("IDV_REDIS_URL"),
        db_pool_size=integer("IDV_DB_POOL_SIZE", 2, 200),
        migrate_on_start=(get("IDV_MIGRATE_ON_START") or "true").lower() not in {"0", "false", "no"},
        schema_wait=duration("IDV_SCHEMA_WAIT"),
        rate_limits_per_replica=(get("IDV_RATE_LIMITS_PER_REPLICA") or "false").lower() in {"1", "true", "yes"},
        allowed_origins=tuple(o.strip() for o in (get("IDV_ALLOWED_ORIGINS") or "").split(",") if o.strip()),
        forwarded_allow_ips=get("IDV_FORWARDED_ALLOW_IPS") or "127.0.0.1",
        forwarded_hops=integer("IDV_FORWARDED_HOPS", 0, 8),
        cookie_secure=(get("IDV_COOKIE_SECURE") or "true").lower() not in {"0", "false", "no"},
        cookie_domain=cookie_domain(),
        worker_health_port=integer("IDV_WORKER_HEALTH_PORT", 0, 65535),
        policy_refresh_interval=duration("IDV_POLICY_REFRESH_INTERVAL"),
        session_idle_timeout=duration("IDV_SESSION_IDLE_TIMEOUT"),
        session_absolute_timeout=duration("IDV_SESSION_ABSOLUTE_TIMEOUT"),
        argon2=Argon2Parameters(
            memory_kib=integer("IDV_ARGON2_MEMORY_KIB", 8, 4 * 1024 * 1024),
            time_cost=integer("IDV_ARGON2_TIME_COST", 1, 100),
            parallelism=integer("IDV_ARGON2_PARALLELISM", 1, 64),
        ),
        hash_concurrency=integer("IDV_HASH_CONCURRENCY", 1, 1024) if get("IDV_HASH_CONCURRENCY") else cpu_workers,
        cpu_workers=cpu_workers,
        upload_max_decoded_bytes=integer("IDV_UPLOAD_MAX_DECODED_BYTES", 1024 * 1024, 64 * 1024**3),
        decode_memory_budget_mib=integer("IDV_DECODE_MEMORY_BUDGET_MIB", 1, 64 * 1024),
        default_phone_region=(get("IDV_DEFAULT_PHONE_REGION") or "CN").upper(),
        rate_limit_registrations_per_hour=integer("IDV_RATE_REGISTRATIONS_PER_HOUR", 0, 10**7),
        rate_limit_sign_ins_per_minute=integer("IDV_RATE_SIGN_INS_PER_MINUTE", 0, 10**7),
        rate_limit_codes_per_minute=integer("IDV_RATE_CODES_PER_MINUTE", 0, 10**7),
        public_name=get("IDV_PUBLIC_NAME") or "idv",
        operator_session_idle_timeout=duration("IDV_OPERATOR_SESSION_IDLE_TIMEOUT"),
        operator_session_absolute_timeout=duration("IDV_OPERATOR_SESSION_ABSOLUTE_TIMEOUT"),
        operator_enrolment_lifetime=duration("IDV_OPERATOR_ENROLMENT_LIFETIME"),
        case_max_resubmissions=integer("IDV_CASE_MAX_RESUBMISSIONS", 0, 100),
        case_appeal_window=duration("IDV_CASE_APPEAL_WINDOW"),
        four_eyes_decisions=four_eyes,
        real_name_provider=real_name_provider,
        real_name_url=get("IDV_REAL_NAME_URL"),
        real_name_key_id=get("IDV_REAL_NAME_KEY_ID"),
        real_name_secret=real_name_secret,
        real_name_timeout=float(integer("IDV_REAL_NAME_TIMEOUT_SECONDS", 1, 60)),
        identity_accounts_limit=integer("IDV_IDENTITY_ACCOUNTS_LIMIT", 1, 100),
        real_name_mismatches_before_suspension=integer("IDV_REAL_NAME_MISMATCHES_BEFORE_SUSPENSION", 1, 20),
        face_accept_threshold=fraction("IDV_FACE_ACCEPT_THRESHOLD"),
        face_reject_threshold=fraction("IDV_FACE_REJECT_THRESHOLD"),
        face_challenge_lifetime=duration("IDV_FACE_CHALLENGE_LIFETIME"),
        face_image_retention=duration("IDV_FACE_IMAGE_RETENTION"),
        face_challenges_per_day=integer("IDV_FACE_CHALLENGES_PER_DAY", 1, 1000),
        face_failures_in_a_row=integer("IDV_FACE_FAILURES_IN_A_ROW", 1, 100),
        face_verify_without_review=get("IDV_FACE_VERIFY_WITHOUT_REVIEW") or "margin",
        face_capture_min_ms=integer("IDV_FACE_CAPTURE_MIN_MS", 0, 600_000),
        face_capture_max_ms=integer("IDV_FACE_CAPTURE_MAX_MS", 1, 3_600_000),
        face_min_frames=integer("IDV_FACE_MIN_FRAMES_PER_ACTION", 1, 6),
        face_pad=face_pad,
        face_pad_name=get("IDV_FACE_PAD_NAME"),
        face_pad_url=get("IDV_FACE_PAD_URL"),
        face_pad_key_id=get("IDV_FACE_PAD_KEY_ID"),
        face_pad_secret=face_pad_secret,
        face_pad_timeout=float(integer("IDV_FACE_PAD_TIMEOUT_SECONDS", 1, 60)),
        face_certified_pad_suffices=(get("IDV_FACE_CERTIFIED_PAD_SUFFICES") or "false").lower() in {"1", "true", "yes"},
        age_profile_name=get("IDV_AGE_PROFILE") or "pipl",
        digital_consent_age=integer("IDV_DIGITAL_CONSENT_AGE", 13, 16),
        time_zone=get("IDV_TIME_ZONE") or "Asia/Shanghai",
        guardian_consent_window=duration("IDV_GUARDIAN_CONSENT_WINDOW"),
        cancellation_cooling_off=duration("IDV_CANCELLATION_COOLING_OFF"),
        export_lifetime=duration("IDV_EXPORT_LIFETIME"),
        rights_request_due=duration("IDV_RIGHTS_REQUEST_DUE"),
        termination_bar=duration("IDV_TERMINATION_BAR"),
        retention=retention(),
        backup_retention=duration("IDV_BACKUP_RETENTION"),
        master_key_max_age=duration("IDV_MASTER_KEY_MAX_AGE"),
        blind_index_key_previous=previous_blind_index_key(),
    )
    if production and settings.smtp_url and _plaintext_smtp_off_host(settings.smtp_url):
        problems.append("production refuses IDV_SMTP_URL without TLS except to a relay on loopback")
    if production and settings.argon2.memory_kib < 19 * 1024:
        problems.append("production refuses argon2id memory below 19 MiB (IDV_ARGON2_MEMORY_KIB)")
    if settings.operator_session_absolute_timeout > settings.session_absolute_timeout or (
        settings.operator_session_idle_timeout > settings.session_idle_timeout
    ):
        problems.append("operator sessions must not outlive users' (IDV_OPERATOR_SESSION_* timeouts)")
    if settings.policy_refresh_interval < timedelta(seconds=1):
        problems.append("IDV_POLICY_REFRESH_INTERVAL must be at least 1s")
    if production and not settings.cookie_secure:
        problems.append("production refuses IDV_COOKIE_SECURE=false")
    try:
        settings.age_profile  # noqa: B018 - validates the name
    except ValueError as exc:
        problems.append(f"IDV_AGE_PROFILE: {exc}")
    try:
        ZoneInfo(settings.time_zone)
    except (ValueError, ZoneInfoNotFoundError):
        problems.append(f"IDV_TIME_ZONE: unknown zone {settings.time_zone!r}")
    if settings.upload_max_decoded_bytes > settings.decode_memory_budget_mib * 1024 * 1024:
        problems.append("IDV_UPLOAD_MAX_DECODED_BYTES must not exceed IDV_DECODE_MEMORY_BUDGET_MIB (in bytes)")
    if settings.face_verify_without_review not in FACE_VERIFY_WITHOUT_REVIEW:
        problems.append("IDV_FACE_VERIFY_WITHOUT_REVIEW must be margin, certified_pad or never")
    if settings.face_reject_threshold > settings.face_accept_threshold:
        problems.append("IDV_FACE_REJECT_THRESHOLD must not exceed IDV_FACE_ACCEPT_THRESHOLD")
    if settings.face_capture_min_ms >= settings.face_capture_max_ms:
        problems.append("IDV_FACE_CAPTURE_MIN_MS must be under IDV_FACE_CAPTURE_MAX_MS")
    try:
        parse_networks(settings.forwarded_allow_ips)
    except ValueError:
        problems.append(f"IDV_FORWARDED_ALLOW_IPS: not addresses or networks: {settings.forwarded_allow_ips!r}")
    if problems:
        raise SettingsError("idv cannot start:\n  - " + "\n  - ".join(problems))
    return settings
