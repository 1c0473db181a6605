"""The `idv` command."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from service.settings import Settings, SettingsError, Workload, load_settings

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def workload_of(argv: Sequence[str]) -> Workload:
    """What `idv ARGV` is started to do, hence which settings it needs (scripts/check-k8s asks this
    of each container's args)."""
    args = build_parser().parse_args(argv)
    if args.command == "migrate":
        return Workload.MIGRATIONS
    if args.command == "audit" and args.audit_command in ("archive", "verify-archive"):
        # The owner's URL only (the service role may not archive); verify-archive reads a record at most.
        return Workload.MIGRATIONS
    if args.command == "worker" or (args.command == "serve" and args.with_worker):
        return Workload.SERVICE | Workload.DELIVERY
    return Workload.SERVICE


def _settings(workload: Workload = Workload.SERVICE) -> Settings:
    try:
        return load_settings(workload=workload)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def _exit_on_signal(signum: int, _frame: object) -> None:
    # SIGTERM is how an orchestrator asks for a stop: once uvicorn has drained, the stop succeeded.
    raise SystemExit(0 if signum == signal.SIGTERM else 128 + signum)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_asgi
    from service.database.local import database_urls
    from service.http.rate_limits import unshared_limits_problem
    from service.http.server import listening_sockets, server_config
    from service.observability.logging import configure_logging
    from service.observability.tracing import start_tracing

    settings = _settings(Workload.SERVICE | Workload.DELIVERY if args.with_worker else Workload.SERVICE)
    configure_logging(settings.log_level)
    problem = unshared_limits_problem(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit lets
    # the embedded database below stop cleanly instead of dying with the process.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    host, port = args.host or settings.host, settings.port if args.port is None else args.port
    try:
        sockets = listening_sockets(host, port)
    except OSError as exc:
        print(f"cannot listen on {host} port {port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    with database_urls(settings) as urls:
        config = server_config(
            create_asgi(
                settings,
                dsn=urls.service,
                migrations_dsn=urls.migrations,
                with_worker=args.with_worker,
                tracing=start_tracing(),
            ),
            host=host,
            port=port,
            graceful_seconds=args.graceful_seconds,
        )
        uvicorn.Server(config).run(sockets=sockets)
    return 0


async def _apply_migrations(owner_dsn: str) -> int:
    import asyncpg

    from service.database import migrations

    conn = await asyncpg.connect(owner_dsn)
    try:
        return len(await migrations.migrate(conn, migrations.discover()))
    finally:
        await conn.close()


def migrate(_: argparse.Namespace) -> int:
    """The owner's connection and the migrations, nothing else: no keys, no providers, no runtime,
    so the migration Job holds no secret but the owner's URL."""
    from service.database.local import database_urls
    from service.observability.logging import configure_logging

    settings = _settings(Workload.MIGRATIONS)
    configure_logging(settings.log_level)
    if settings.migrations_database_url:
        applied = asyncio.run(_apply_migrations(settings.migrations_database_url))
    else:
        with database_urls(settings) as urls:
            applied = asyncio.run(_apply_migrations(urls.migrations))
    print(f"migrations applied ({applied} new)")
    return 0


async def _run_worker(settings: Settings, dsn: str, migrations_dsn: str) -> None:
    from service.jobs.worker import run_worker
    from service.observability.tracing import start_tracing

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, dsn, migrations_dsn, stop, tracing=start_tracing())


def worker(_: argparse.Namespace) -> int:
    import uvloop

    from service.database.local import database_urls
    from service.observability.logging import configure_logging

    settings = _settings(Workload.SERVICE | Workload.DELIVERY)
    configure_logging(settings.log_level)
    with database_urls(settings) as urls:
        uvloop.run(_run_worker(settings, urls.service, urls.migrations))
    return 0


def openapi(args: argparse.Namespace) -> int:
    from service.app import create_litestar
    from service.http.openapi import render_document

    settings = _settings()
    text = render_document(create_litestar(settings, dsn="postgresql://unused"))
    path = Path(args.output)
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run `idv openapi`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def calibrate_hashers(args: argparse.Namespace) -> int:
    from service.passwords.hasher import calibrate

    result = calibrate(args.target_ms, args.memory_kib, args.parallelism, rounds=args.rounds)
    params = result.params
    print(f"# argon2id on this host: {result.median_ms:.1f} ms per hash (median of {args.rounds})")
    print(f"IDV_ARGON2_MEMORY_KIB={params.memory_kib}")
    print(f"IDV_ARGON2_TIME_COST={params.time_cost}")
    print(f"IDV_ARGON2_PARALLELISM={params.parallelism}")
    if params.memory_kib < 19 * 1024 or params.time_cost < 2:
        print("# note: below OWASP's m=19 MiB, t=2; production refuses memory below 19 MiB")
    return 0


async def _rewrap(settings: Settings, dsn: str, migrations_dsn: str) -> int:
    from service.runtime import Runtime

    total = 0
    async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=2) as runtime:
        while True:
            async with runtime.database.transaction() as conn:
                moved = await runtime.vault.rewrap(conn)
            total += moved
            if not moved:
                return total


def rewrap(_: argparse.Namespace) -> int:
    from service.database.local import database_urls

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        total = asyncio.run(_rewrap(settings, urls.service, urls.migrations))
    print(f"re-wrapped {total} data keys under master key {settings.active_master_key_id}")
    return 0


async def _vault_status(settings: Settings, dsn: str, migrations_dsn: str) -> list[str]:
    from service.runtime import Runtime
    from service.vault import reindex, rotation

    def when(value: datetime | None) -> str:
        return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"

    async with (
        Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=2) as runtime,
        runtime.database.transaction() as conn,
    ):
        await rotation.record(conn, runtime.vault)
        keys = await rotation.status(conn, runtime.vault, settings.backup_retention)
        blind = await reindex.status(conn, runtime.vault.blind_index)
    now = datetime.now(UTC)
    lines = [f"{'master key':16} {'data keys':>9} {'active since':16} {'emptied':16} may be removed"]
    for key in keys:
        if key.active:
            verdict = "no: the active key"
        elif not key.in_ring:
            verdict = "removed already" + (f" ({key.data_keys} data keys cannot be opened)" if key.data_keys else "")
        elif key.retirable(now):
            verdict = "yes"
        elif key.retire_after is not None:
            verdict = f"after {when(key.retire_after)} (IDV_BACKUP_RETENTION)"
        else:
            verdict = "no: still wraps data keys (re-wrapped hourly by vault.rotate_master_keys)"
        lines.append(
            f"{key.key_id:16} {key.data_keys:>9} {when(key.active_since):16} {when(key.emptied_at):16} {verdict}"
        )
    age = rotation.active_key_age(keys, now)
    if age is not None and age > settings.master_key_max_age:
        lines.append(f"the active key is {age.days} days old, past IDV_MASTER_KEY_MAX_AGE: rotate it (README)")
    if not blind.rotating:
        lines.append("blind-index key: one key, no rotation under way")
        return lines
    for step in blind.passes:
        state = f"done {when(step.finished_at)}" if step.finished_at else f"under way since {when(step.started_at)}"
        lines.append(f"blind-index re-index, {step.target}: {state}")
    if blind.left_behind:
        lines.append(
            f"{blind.left_behind} left under the previous key only (identity bars of erased people, owners "
            "whose master key was removed): removing it makes them unfindable"
        )
    verdict = "may be removed" if blind.done else "is still needed (vault.reindex runs every 10 minutes)"
    lines.append(f"IDV_BLIND_INDEX_KEY_PREVIOUS {verdict}")
    return lines


def vault_status(_: argparse.Namespace) -> int:
    from service.database.local import database_urls

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        for line in asyncio.run(_vault_status(settings, urls.service, urls.migrations)):
            print(line)
    return 0


def create_operator(args: argparse.Namespace) -> int:
    from service.database.local import database_urls
    from service.errors import DomainError
    from service.operators.commands import create_from_command_line
    from service.operators.roles import Role

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        try:
            created = asyncio.run(
                create_from_command_line(
                    settings, urls.service, urls.migrations, args.email, [Role(r) for r in args.role]
                )
            )
        except DomainError as exc:
            print(f"not created: {exc.title}", file=sys.stderr)
            return 1
    print(f"operator {created.operator_id} created")
    print(f"enrolment code (shown once, valid until {created.enrolment_expires_at:%Y-%m-%d %H:%M} UTC):")
    print(f"  {created.enrolment_code}")
    print("they enrol with POST /v1/operator/enrolment, then /v1/operator/enrolment/confirm")
    return 0


def publish_policy(args: argparse.Namespace) -> int:
    from service.database.local import database_urls
    from service.errors import DomainError
    from service.policies.commands import publish_file

    settings = _settings()
    path = Path(args.file)
    if "@" not in path.name or not path.name.endswith(".md"):
        print("name the file <kind>@<version>.md, e.g. privacy_policy@2027-01-01.md", file=sys.stderr)
        return 2
    with database_urls(settings, create=False) as urls:
        try:
            source = path.read_text(encoding="utf-8")
            document = asyncio.run(publish_file(settings, urls.service, urls.migrations, path.name, source))
        except DomainError as exc:
            reasons = "; ".join(e.message for e in exc.errors) or exc.detail or ""
            print(f"not published: {exc.title}. {reasons}".strip(), file=sys.stderr)
            return 1
    kind = "major" if document.major else "minor"
    print(f"published {document.kind}@{document.version} ({kind}, effective {document.effective_at})")
    print(f"sha256 {document.sha256}")
    return 0


def verify_audit(_: argparse.Namespace) -> int:
    from service.audit.commands import describe, verify_database
    from service.database.local import database_urls

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        report = asyncio.run(verify_database(urls.service))
    print(describe(report))
    return 0 if report.intact else 1


@contextmanager
def _owner_url(settings: Settings) -> Iterator[str]:
    """The tables' owner's URL: IDV_MIGRATIONS_DATABASE_URL alone (a CronJob given nothing else), or
    as `idv migrate` finds it otherwise (DATABASE_URL, the embedded server)."""
    from service.database.local import database_urls

    if settings.migrations_database_url:
        yield settings.migrations_database_url
        return
    with database_urls(settings, create=False) as urls:
        yield urls.migrations


def archive_audit(args: argparse.Namespace) -> int:
    from service.audit.archive import ArchiveRefused, first_online_month, month_of
    from service.audit.commands import archive_database, describe_archived

    # The owner's URL and nothing else: no keys, no providers (as `idv migrate`).
    settings = _settings(Workload.MIGRATIONS)
    today = datetime.now(UTC).date()
    try:
        # --due: every whole month older than the IDV_AUDIT_ONLINE_MONTHS the database keeps.
        before = first_online_month(today, settings.audit_online_months) if args.due else month_of(args.before)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    Path(args.out).mkdir(parents=True, exist_ok=True)
    with _owner_url(settings) as owner_url:
        try:
            archived = asyncio.run(
                archive_database(
                    owner_url, Path(args.out), before, online_months=settings.audit_online_months, today=today
                )
            )
        except ArchiveRefused as exc:
            print(f"not archived: {exc}", file=sys.stderr)
            return 1
    print(describe_archived(archived))
    return 0


def verify_audit_archive(args: argparse.Namespace) -> int:
    from service.audit.archive import verify_archive_file
    from service.audit.commands import archive_files, archive_record, describe_archive_check

    path = Path(args.file)
    checkpoint: dict[int, tuple[int, bytes]] = {}
    try:
        for text in args.checkpoint or ():
            chain, seq, digest = text.split(":")
            checkpoint[int(chain)] = (int(seq), bytes.fromhex(digest))
    except ValueError:
        print("give each --checkpoint as CHAIN:SEQ:HASH (hex), e.g. 3:1200:ab12...", file=sys.stderr)
        return 2
    # A directory: its month files in order, each held to start where the one before ended.
    paths = archive_files(path) if path.is_dir() else [path]
    if not paths:
        print(f"{path}: no archive files (idv-audit-YYYY-MM.jsonl.gz) in it")
        return 0
    with ExitStack() as stack:
        url = stack.enter_context(_owner_url(_settings(Workload.MIGRATIONS))) if args.database else None
        for each in paths:
            record = None
            if url is not None:
                try:
                    record = asyncio.run(archive_record(url, each))
                except ValueError as exc:
                    print(f"{each}: {exc}", file=sys.stderr)
                    return 1
                if record is None:
                    print(f"{each}: the database holds no archive record of this month", file=sys.stderr)
                    return 1
            check = verify_archive_file(each, checkpoint=checkpoint, record=record)
            print(describe_archive_check(each, check))
            if not check.intact:
                return 1
            checkpoint = check.ends
    return 0


async def _replay_erasures(settings: Settings, dsn: str, migrations_dsn: str, ledger_url: str) -> int:
    import asyncpg

    import service.capabilities  # noqa: F401  # registers what an erasure acts on
    from service.lifecycle.replay import read_ledger, replay
    from service.runtime import Runtime

    source = await asyncpg.connect(ledger_url)
    try:
        entries = await read_ledger(source)
    finally:
        await source.close()
    async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=2) as runtime:
        return await replay(runtime, entries)


def replay_erasures(args: argparse.Namespace) -> int:
    from service.database.local import database_urls

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        applied = asyncio.run(_replay_erasures(settings, urls.service, urls.migrations, args.ledger_url))
    print(f"re-applied {applied} erasures")
    return 0


async def _retention_report(settings: Settings, dsn: str) -> list[str]:
    import asyncpg

    import service.capabilities  # noqa: F401  # registers what the legal hold keeps
    from service.lifecycle.retention import own_clocks, report

    conn = await asyncpg.connect(dsn)
    try:
        lines = await report(conn, settings.retention) + await own_clocks(conn, settings)
    finally:
        await conn.close()
    return [
        f"{line.category:22} keep {line.period}  purge now: {line.due_now:>8}  by {line.ended_by}: {line.what}"
        for line in lines
    ]


def retention_report(_: argparse.Namespace) -> int:
    from service.database.local import database_urls

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        for line in asyncio.run(_retention_report(settings, urls.service)):
            print(line)
    print("set lifecycle.retention's periods with IDV_RETENTION; the others with the setting each line names")
    return 0


async def _jobs_list(settings: Settings, dsn: str, migrations_dsn: str) -> list[str]:
    from service.jobs.catalog import scheduled_jobs
    from service.jobs.runs import last_runs, next_due
    from service.runtime import Runtime

    def when(value: datetime | None) -> str:
        return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"

    async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=2) as runtime:
        async with runtime.database.connection() as conn:
            runs, due = await last_runs(conn), await next_due(conn)
        jobs = scheduled_jobs(runtime)
    lines = [
        f"{'job':26} {'schedule':14} {'last started (UTC)':20} {'outcome':10} {'by':9} {'next due (UTC)':20} error"
    ]
    for job in jobs:
        run = runs.get(job.name)
        if run is None:
            lines.append(f"{job.name:26} {job.cron:14} {'never':20} {'-':10} {'-':9} {when(due.get(job.name)):20} -")
            continue
        lines.append(
            f"{job.name:26} {job.cron:14} {when(run.started_at):20} {run.outcome:10} {run.trigger:9} "
            f"{when(due.get(job.name)):20} {run.error or '-'}"
        )
    return lines


def jobs_list(_: argparse.Namespace) -> int:
    from service.database.local import database_urls

    settings = _settings()
    with database_urls(settings, create=False) as urls:
        for line in asyncio.run(_jobs_list(settings, urls.service, urls.migrations)):
            print(line)
    return 0


async def _jobs_run(settings: Settings, dsn: str, migrations_dsn: str, name: str) -> str | None:
    """None when the job ran; otherwise why not."""
    from service.jobs.catalog import scheduled_jobs
    from service.jobs.runs import Trigger
    from service.runtime import Runtime

    async with Runtime.open(settings, dsn, migrations_dsn=migrations_dsn, pool_size=3) as runtime:
        jobs = {job.name: job for job in scheduled_jobs(runtime, Trigger.COMMAND)}
        if name not in jobs:
            return f"no scheduled job {name!r}; there are: {', '.join(sorted(jobs))}"
        try:
            await jobs[name].run()
        except Exception as exc:
            return f"{name} failed: {type(exc).__name__} (recorded; see `idv jobs list` and the log)"
    return None


def jobs_run(args: argparse.Namespace) -> int:
    from service.database.local import database_urls
    from service.observability.logging import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    with database_urls(settings, create=False) as urls:
        problem = asyncio.run(_jobs_run(settings, urls.service, urls.migrations, args.name))
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    print(f"{args.name} ran")
    return 0


def face_try(args: argparse.Namespace) -> int:
    """Development only: the service's face checks and decision on real photos, every number printed."""
    import os
    import random
    from pathlib import Path

    from service.face.trial import TrialPhotos, TrialRefused, run_trial
    from verification.face.liveness import ChallengeAction

    # Read before the settings, so that an incomplete production environment is refused all the same.
    if (os.environ.get("IDV_ENV") or "").strip() == "production":
        print("idv dev face-try is for development only; IDV_ENV=production refuses it", file=sys.stderr)
        return 2
    settings = _settings()
    moves = {
        action: Path(path)
        for action, path in (
            (ChallengeAction.TURN_LEFT, args.left),
            (ChallengeAction.TURN_RIGHT, args.right),
            (ChallengeAction.MOVE_CLOSER, args.closer),
        )
        if path
    }
    try:
        actions = [ChallengeAction(name) for name in args.actions.split(",")] if args.actions else None
    except ValueError:
        print(f"--actions takes {', '.join(a.value for a in ChallengeAction)}, comma-separated", file=sys.stderr)
        return 2
    photos = TrialPhotos(Path(args.document), Path(args.straight), moves)
    rng = random.Random(args.seed) if args.seed is not None else random.SystemRandom()
    try:
        _, _, lines = asyncio.run(run_trial(settings, photos, actions, rng))
    except TrialRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def settings_list(args: argparse.Namespace) -> int:
    """Every variable the settings read (no environment is read): the README's table with --markdown."""
    from service.settings import VARIABLES, markdown_table

    if args.markdown:
        print(markdown_table(), end="")
        return 0
    for variable in VARIABLES.values():
        default = variable.default if variable.default else (variable.default_doc or "unset")
        print(f"{variable.name} [{variable.group}] default {default}: {variable.doc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="idv", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the HTTP service")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--with-worker", action="store_true", help="also run background jobs")
    p.add_argument("--graceful-seconds", type=int, default=25, help="drain time on SIGTERM")
    p.set_defaults(func=serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=migrate)

    retention = commands.add_parser("retention", help="the retention schedule")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    retention_commands.add_parser("report", help="each category's period and what would be purged now").set_defaults(
        func=retention_report
    )

    erasures = commands.add_parser("erasures", help="the erasure ledger")
    erasure_commands = erasures.add_subparsers(dest="erasure_command", required=True)
    p = erasure_commands.add_parser(
        "replay", help="re-apply the live erasure ledger to DATABASE_URL (a database restored from a backup)"
    )
    p.add_argument("--ledger-url", required=True, help="the live database, whose erasure_ledger is read")
    p.set_defaults(func=replay_erasures)
    commands.add_parser("worker", help="run background jobs").set_defaults(func=worker)

    jobs = commands.add_parser("jobs", help="the scheduled jobs")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    job_commands.add_parser("list", help="each scheduled job, its schedule, last run and outcome").set_defaults(
        func=jobs_list
    )
    p = job_commands.add_parser("run", help="run one scheduled job now, as the schedule runs it")
    p.add_argument("name", help="e.g. lifecycle.erase_due (see `idv jobs list`)")
    p.set_defaults(func=jobs_run)

    p = commands.add_parser("settings", help="every environment variable, its default and what production requires")
    p.add_argument("--markdown", action="store_true", help="as the README's table")
    p.set_defaults(func=settings_list)

    p = commands.add_parser("openapi", help="write the OpenAPI document")
    p.add_argument("--output", default=str(DEFAULT_OPENAPI_PATH))
    p.add_argument("--check", action="store_true", help="fail if the file is stale")
    p.set_defaults(func=openapi)

    hashers = commands.add_parser("hashers", help="password hasher tools")
    hasher_commands = hashers.add_subparsers(dest="hasher_command", required=True)
    p = hasher_commands.add_parser("calibrate", help="argon2id parameters for a target time")
    p.add_argument("--target-ms", type=float, required=True)
    p.add_argument("--memory-kib", type=int, default=19 * 1024)
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.set_defaults(func=calibrate_hashers)

    vault = commands.add_parser("vault", help="personal-data vault tools")
    vault_commands = vault.add_subparsers(dest="vault_command", required=True)
    vault_commands.add_parser("rewrap", help="re-wrap every data key under the active master key").set_defaults(
        func=rewrap
    )
    vault_commands.add_parser(
        "status", help="per master key: data keys it wraps, and whether it may be removed"
    ).set_defaults(func=vault_status)

    operators = commands.add_parser("operators", help="KYC operator accounts")
    operator_commands = operators.add_subparsers(dest="operator_command", required=True)
    p = operator_commands.add_parser("create", help="create an operator and print their enrolment code")
    p.add_argument("--email", required=True)
    p.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["reviewer", "senior_reviewer", "privacy_officer", "admin"],
        help="repeat for several roles",
    )
    p.set_defaults(func=create_operator)

    policies = commands.add_parser("policies", help="policy documents")
    policy_commands = policies.add_subparsers(dest="policy_command", required=True)
    p = policy_commands.add_parser("publish", help="publish a new version from <kind>@<version>.md")
    p.add_argument("file")
    p.set_defaults(func=publish_policy)

    audit = commands.add_parser("audit", help="audit trail tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the hash chains; exit 1 at a broken link").set_defaults(
        func=verify_audit
    )
    p = audit_commands.add_parser(
        "archive", help="verify, write to a file and remove whole months older than IDV_AUDIT_ONLINE_MONTHS"
    )
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--before", help="archive months before this one (YYYY-MM, UTC)")
    when.add_argument(
        "--due",
        action="store_true",
        help="archive every whole month older than IDV_AUDIT_ONLINE_MONTHS (nothing when rerun: for a monthly job)",
    )
    p.add_argument("--out", required=True, help="the directory the month files go to")
    p.set_defaults(func=archive_audit)
    p = audit_commands.add_parser(
        "verify-archive", help="check an archived month's file; exit 1 if it was changed or does not join"
    )
    p.add_argument("file", help="a month's file, or a directory: its month files in order, each joining the last")
    p.add_argument(
        "--checkpoint",
        action="append",
        metavar="CHAIN:SEQ:HASH",
        help="a chain's head before the month (the previous month's end); repeat per chain",
    )
    p.add_argument("--database", action="store_true", help="also hold the file to its archive record")
    p.set_defaults(func=verify_audit_archive)

    dev = commands.add_parser("dev", help="development-only tools (refused when IDV_ENV=production)")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    p = dev_commands.add_parser(
        "face-try", help="face verification's checks and decision on real photos, with every number (no database)"
    )
    p.add_argument("--document", required=True, help="the identity document's portrait (a photo of it)")
    p.add_argument("--straight", required=True, help="a real photo of the person looking at the camera")
    p.add_argument("--left", help="a real photo of the person turned to their own left")
    p.add_argument("--right", help="a real photo of the person turned to their own right")
    p.add_argument("--closer", help="a real photo of the person closer to the camera")
    p.add_argument("--actions", help="the challenge, e.g. turn_right,move_closer (default: drawn as the service does)")
    p.add_argument("--seed", type=int, help="draw the challenge from this seed (repeatable runs)")
    p.set_defaults(func=face_try)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from service.database.local import NoDevelopmentDatabase

    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except NoDevelopmentDatabase as exc:
        print(exc, file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
