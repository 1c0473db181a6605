"""Schemathesis over the committed OpenAPI document, against a real service (not part of CI).

    .venv/bin/python bench/api_fuzz.py [--max-examples 10] [--seconds 600]

Installs schemathesis into its own virtual environment (``.venv-fuzz``, so its dependencies
never meet the service's), starts ``idv serve --with-worker`` on a free port with a private
embedded PostgreSQL under a temporary state directory, registers a user for a bearer token, and
runs schemathesis with bounded examples per operation. It prints the requests sent, the server
errors (5xx) and the responses that break the documented contract, and keeps the reports in
``.idv-fuzz/``. Signing out is left out of the run: it would end the token the rest depends on.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from service.database.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]
FUZZ_VENV = ROOT / ".venv-fuzz"
REPORTS = ROOT / ".idv-fuzz"
SCHEMATHESIS = "schemathesis==4.32.5"
# Every check but positive_data_acceptance: the schema cannot say which well-formed data the
# domain refuses (a weak password, an unpublished policy version), so that one would only
# measure the generator.
EXCLUDED_CHECKS = ("positive_data_acceptance",)


def ensure_schemathesis() -> Path:
    binary = FUZZ_VENV / "bin" / "schemathesis"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FUZZ_VENV)], check=True)
        subprocess.run([str(FUZZ_VENV / "bin" / "python"), "-m", "pip", "install", "-q", SCHEMATHESIS], check=True)
    return binary


def start_service(state_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IDV_STATE_DIR": str(state_dir),
        "IDV_COOKIE_SECURE": "false",
        # Cheap hashing and no rate limits: the fuzzer measures the contract, not the limits.
        "IDV_ARGON2_MEMORY_KIB": "1024",
        "IDV_ARGON2_TIME_COST": "1",
        "IDV_RATE_REGISTRATIONS_PER_HOUR": "1000000",
        "IDV_RATE_SIGN_INS_PER_MINUTE": "1000000",
        "IDV_RATE_CODES_PER_MINUTE": "1000000",
        "IDV_RATE_UPLOADS_PER_MINUTE": "1000000",
    }
    env.pop("DATABASE_URL", None)
    log = (REPORTS / "service.log").open("wb")
    command = [str(ROOT / ".venv" / "bin" / "idv"), "serve", "--with-worker", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_ready(base: str, service: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise SystemExit(f"the service exited ({service.returncode}); see {REPORTS / 'service.log'}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the service did not become ready in 180 s")


def register(base: str) -> str:
    policies = {p["kind"]: p["version"] for p in httpx.get(f"{base}/v1/policies").json()}
    body = {
        "display_name": "Fuzz Tester",
        "email": "fuzz@example.com",
        "password": "violet-harbour-tractor-91",
        "birth_date": "1990-11-27",
        "accepted_terms_version": policies["terms_of_service"],
        "accepted_privacy_version": policies["privacy_policy"],
    }
    response = httpx.post(f"{base}/v1/registrations", json=body)
    response.raise_for_status()
    token: str = response.json()["session"]["token"]
    return token


def summarize(ndjson: Path) -> dict[str, Any]:
    """Count requests and failures from schemathesis' event stream."""
    requests = 0
    statuses: collections.Counter[int] = collections.Counter()
    failures: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        for interaction in _find(event, "interactions"):
            for item in interaction if isinstance(interaction, list) else interaction.values():
                response = (item or {}).get("response") if isinstance(item, dict) else None
                if response is not None:
                    requests += 1
                    statuses[int(response.get("status_code", 0))] += 1
        for checks in _find(event, "checks"):  # {case id: [{name, status, ...}]}
            for item in (c for case in (checks.values() if isinstance(checks, dict) else [checks]) for c in case):
                if isinstance(item, dict) and item.get("status") == "failure":
                    name = str(item.get("name"))
                    failures[name] += 1
                    label = str(item.get("failure_info", {}).get("failure", {}).get("title") or item.get("name"))
                    examples.setdefault(name, label)
    return {"requests": requests, "statuses": statuses, "failures": failures, "examples": examples}


def _find(node: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            else:
                found += _find(v, key)
    elif isinstance(node, list):
        for v in node:
            found += _find(v, key)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=600, help="time budget for the schemathesis run")
    args = parser.parse_args()
    REPORTS.mkdir(exist_ok=True)
    schemathesis = ensure_schemathesis()
    state_dir = Path(tempfile.mkdtemp(prefix="idv-fuzz-"))
    state_dir.chmod(0o755)  # the embedded server's unprivileged user must reach it when run as root
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = start_service(state_dir, port)
    try:
        wait_ready(base, service)
        token = register(base)
        ndjson = REPORTS / "events.ndjson"
        command = [
            str(schemathesis),
            "run",
            str(ROOT / "openapi" / "openapi.json"),
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--exclude-checks",
            ",".join(EXCLUDED_CHECKS),
            "--max-examples",
            str(args.max_examples),
            "--max-time",
            str(args.seconds),
            "--workers",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "17",
            "--exclude-path",
            "/v1/sessions/current",
            "--report",
            "ndjson,junit",
            "--report-dir",
            str(REPORTS),
            "--report-ndjson-path",
            str(ndjson),
            "--continue-on-failure",
            "--no-shrink",
        ]
        run = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True)
        (REPORTS / "schemathesis.txt").write_text(run.stdout + run.stderr)
        summary = summarize(ndjson)
        server_errors = sum(n for status, n in summary["statuses"].items() if status >= 500)
        violations = {k: v for k, v in summary["failures"].items() if k != "not_a_server_error"}
        print(f"requests sent: {summary['requests']}")
        print(f"responses by status: {dict(sorted(summary['statuses'].items()))}")
        print(f"server errors (5xx): {server_errors}")
        print(f"contract violations by check: {violations or 'none'}")
        for name, example in summary["examples"].items():
            print(f"  {name}: {example}")
        print(f"schemathesis exit code {run.returncode}; its output is in {REPORTS / 'schemathesis.txt'}")
        return 0 if server_errors == 0 else 1
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=60)
        except subprocess.TimeoutExpired:
            service.kill()
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
