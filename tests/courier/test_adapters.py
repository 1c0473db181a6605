"""The courier's real adapters against real peers on loopback: an SMTP server and an HTTP
SMS gateway, both started by the test."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from litestar import Request, post
from litestar.params import JSONBody

from service.courier.adapters import DeliveryFailed, HttpSmsGateway, SmtpEmailSender
from service.database.embedded import free_port
from tests.peers import serving


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_smtp_adapter_delivers_with_authentication(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    # STARTTLS is required by the adapter for smtp://; this test server speaks plain SMTP on
    # loopback, so the URL opts out explicitly.
    sender = SmtpEmailSender(f"smtp://mailer:s3cret@127.0.0.1:{port}?starttls=false", "idv <no-reply@idv.test>")
    await sender.send_email("wang@example.org", "Your verification code", "Your code is 123456.")
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["wang@example.org"]
    message = message_from_bytes(envelope.content)  # type: ignore[arg-type]
    assert message["Subject"] == "Your verification code"
    assert "123456" in message.get_payload()


async def test_smtp_adapter_reports_refusal_without_content(smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    sender = SmtpEmailSender(f"smtp://mailer:wrong@127.0.0.1:{port}?starttls=false", "idv <no-reply@idv.test>")
    with pytest.raises(DeliveryFailed) as caught:
        await sender.send_email("wang@example.org", "Your verification code", "Your code is 123456.")
    assert "123456" not in str(caught.value)
    assert "wang@example.org" not in str(caught.value)


async def test_smtp_adapter_fails_when_nobody_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmtpEmailSender(f"smtp://127.0.0.1:{port}?starttls=false", "idv <no-reply@idv.test>")
    with pytest.raises(DeliveryFailed):
        await sender.send_email("a@example.org", "s", "b")


class Gateway:
    def __init__(self) -> None:
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.fail = False


@pytest.fixture
async def sms_gateway() -> AsyncIterator[tuple[Gateway, str]]:
    gateway = Gateway()

    @post("/v1/messages", status_code=202)
    async def receive(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]) -> dict[str, str]:
        if gateway.fail:
            from litestar.exceptions import HTTPException

            raise HTTPException(status_code=503)
        gateway.received.append((request.headers.get("authorization"), data))
        return {"id": "msg-1"}

    async with serving(receive) as base:
        yield gateway, f"{base}/v1/messages"


async def test_sms_gateway_adapter_posts_json_with_the_token(sms_gateway: tuple[Gateway, str]) -> None:
    gateway, url = sms_gateway
    await HttpSmsGateway(url, "gw-token").send_sms("+8613987654321", "[idv] code 654321")
    assert gateway.received == [("Bearer gw-token", {"to": "+8613987654321", "message": "[idv] code 654321"})]


async def test_sms_gateway_errors_become_retryable_failures(sms_gateway: tuple[Gateway, str]) -> None:
    gateway, url = sms_gateway
    gateway.fail = True
    with pytest.raises(DeliveryFailed, match="503"):
        await HttpSmsGateway(url, "gw-token").send_sms("+8613987654321", "[idv] code 654321")


async def test_a_failed_delivery_stays_queued_and_succeeds_on_retry(
    sms_gateway: tuple[Gateway, str], client: Any, runtime: Any, db: Any
) -> None:
    from service.courier.outbox import Courier
    from tests.helpers import register

    gateway, url = sms_gateway
    await register(client, email=None)
    courier = Courier(runtime.database, runtime.vault, runtime.courier.email, HttpSmsGateway(url, "t"), "idv")
    message_id = await db.fetchval("SELECT id FROM courier_messages")

    gateway.fail = True
    with pytest.raises(DeliveryFailed):
        await courier.deliver(message_id)
    row = await db.fetchrow("SELECT status, attempts, last_error, variables IS NOT NULL AS kept FROM courier_messages")
    assert (row["status"], row["attempts"], row["kept"]) == ("queued", 1, True)
    assert row["last_error"] == "sms gateway answered 503"

    gateway.fail = False
    assert await courier.deliver(message_id)
    assert gateway.received[0][1]["to"] == "+8613812345678"
    assert await db.fetchval("SELECT status FROM courier_messages") == "sent"
    assert not await courier.deliver(message_id), "a sent message is not sent twice"
