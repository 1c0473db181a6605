"""Prometheus metrics. Labels are route templates and status codes, never raw paths."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter("idv_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_DURATION = Histogram(
    "idv_http_request_duration_seconds",
    "Time to answer HTTP requests",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PASSWORD_HASH_SECONDS = Histogram("idv_password_hash_seconds", "Time spent in argon2id, per operation", ["operation"])
JOBS_DONE = Counter("idv_jobs_total", "Background jobs run", ["job", "outcome"])
JOB_RUNNER_UP = Gauge("idv_job_runner_up", "1 while this process's job runner is connected and taking jobs")
JOB_RUNNER_RESTARTS = Counter(
    "idv_job_runner_restarts_total", "Times this process's job runner lost the database and reconnected"
)
OVERDUE_CASES = Gauge("idv_cases_overdue", "Open cases past their due date, per case type", ["case_type"])
UNACKNOWLEDGED_NOTICES = Gauge(
    "idv_recipient_notices_unacknowledged", "Notices to recipients not yet acknowledged, per event", ["event"]
)

ERASURES_STUCK = Gauge(
    "idv_erasures_stuck",
    "Cancellations past their cooling-off not carried out: set aside (by the account's state) or failing (error)",
    ["reason"],
)

MASTER_KEY_DATA_KEYS = Gauge("idv_master_key_data_keys", "Live data keys wrapped by each master key", ["key_id"])
MASTER_KEY_RETIRABLE = Gauge(
    "idv_master_key_retirable",
    "1 when a master key wraps no data key and backups from when it did are past IDV_BACKUP_RETENTION",
    ["key_id"],
)
MASTER_KEY_ACTIVE_AGE = Gauge("idv_master_key_active_age_seconds", "How long the active master key has been active")
MASTER_KEY_ROTATION_DUE = Gauge(
    "idv_master_key_rotation_due", "1 when the active master key is older than IDV_MASTER_KEY_MAX_AGE"
)

BLIND_INDEX_REINDEXED = Gauge(
    "idv_blind_index_reindexed",
    "During a blind-index rotation: 1 once every stored index is re-made under the new key "
    "(IDV_BLIND_INDEX_KEY_PREVIOUS may then be removed), else 0",
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request. Label children are cached: looking them up takes a lock
    and a dictionary walk that the hottest routes (whoami) should not pay every time."""
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_DURATION.labels(method, route),
        )
    children[0].inc()
    children[1].observe(seconds)
