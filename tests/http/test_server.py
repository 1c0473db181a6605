"""Where `idv serve` listens: IDV_HOST=`::` reaches IPv4 and IPv6 clients alike, or IPv4 alone
where there is no IPv6."""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.database.embedded import free_port
from service.http import server
from service.http.server import listening_sockets
from tests.conftest import environment_for_tests

ROOT = Path(__file__).resolve().parents[2]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def connects(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


def test_all_addresses_listen_on_ipv4_and_ipv6_at_once() -> None:
    [sock] = listening_sockets("::", 0)
    with sock:
        sock.listen()
        port = sock.getsockname()[1]
        assert connects("127.0.0.1", port)
        if ipv6_loopback():
            assert connects("::1", port)


def test_several_addresses_share_one_port() -> None:
    hosts = "127.0.0.1,::1" if ipv6_loopback() else "127.0.0.1"
    sockets = listening_sockets(hosts, 0)
    try:
        assert len({s.getsockname()[1] for s in sockets}) == 1
        assert len(sockets) == len(hosts.split(","))
    finally:
        for sock in sockets:
            sock.close()


def test_without_ipv6_all_addresses_fall_back_to_ipv4(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bind = server._bind

    def no_ipv6(address: str, port: int, *, dual_stack: bool) -> socket.socket:
        if ":" in address:
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        return bind(address, port, dual_stack=dual_stack)

    monkeypatch.setattr(server, "_bind", no_ipv6)
    with caplog.at_level(logging.WARNING, logger="service.http.server"):
        [sock] = listening_sockets("::", 0)
    with sock:
        assert sock.family == socket.AF_INET and sock.getsockname()[0] == server.ALL_IPV4
    assert "no IPv6 here: listening on IPv4 only" in caplog.text


def test_an_address_in_use_is_an_error_not_a_fallback() -> None:
    [first] = listening_sockets("::", 0)
    with first:
        first.listen()
        with pytest.raises(OSError, match="in use") as caught:
            listening_sockets("::", first.getsockname()[1])
    assert caught.value.errno == errno.EADDRINUSE


@pytest.mark.slow
def test_idv_serve_on_all_addresses_answers_over_ipv4_and_ipv6(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IDV_")},
        **environment_for_tests(tmp_path),
        "DATABASE_URL": database_url,
        "IDV_HOST": "::",
        "IDV_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        bases = [f"http://127.0.0.1:{port}"]
        if ipv6_loopback():
            bases.append(f"http://[::1]:{port}")
        else:
            print("no IPv6 loopback on this machine: only the IPv4 part is checked")
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{bases[0]}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "idv serve never answered"
                time.sleep(0.2)
        for base in bases:
            assert httpx.get(f"{base}/health/live", timeout=5).status_code == 200, base
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
