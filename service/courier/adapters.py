"""Where messages leave the service: SMTP, an SMS gateway over HTTPS, or (development only)
a JSON-lines file a developer or a test can read."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx


class DeliveryFailed(Exception):
    """A message could not be handed over; the job runner retries it. Never carries content."""


class EmailSender(Protocol):
    async def send_email(self, recipient: str, subject: str, body: str) -> None: ...


class SmsSender(Protocol):
    async def send_sms(self, recipient: str, body: str) -> None: ...


class SmtpEmailSender:
    """``smtps://user:password@host:465`` (implicit TLS) or ``smtp://...:587`` (STARTTLS).
    ``?starttls=false`` speaks plain SMTP, for a relay on loopback (production allows nothing else)."""

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("IDV_SMTP_URL must look like smtps://user:password@host:port")
        self.hostname = parts.hostname
        self.implicit_tls = parts.scheme == "smtps"
        self.start_tls = not self.implicit_tls and "starttls=false" not in parts.query
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    async def send_email(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                start_tls=self.start_tls,
                timeout=20,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp: {type(exc).__name__}") from None


class HttpSmsGateway:
    """POSTs ``{"to": "+86...", "message": "..."}`` as JSON with a bearer token; any 2xx is
    accepted. Gateways with other shapes get their own adapter next to this one."""

    def __init__(self, url: str, token: str | None, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.token = token
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0))

    async def send_sms(self, recipient: str, body: str) -> None:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = await self.client.post(self.url, json={"to": recipient, "message": body}, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"sms gateway: {type(exc).__name__}") from None
        if not response.is_success:
            raise DeliveryFailed(f"sms gateway answered {response.status_code}")


class NotDelivering:
    """In a process started without the channel's credentials (the API: only workers deliver, and
    only they are given them): sending fails, and the job is retried where it can succeed."""

    def __init__(self, missing: str) -> None:
        self.missing = missing

    async def send_email(self, recipient: str, subject: str, body: str) -> None:
        raise DeliveryFailed(f"this process has no {self.missing}: `idv worker` delivers")

    async def send_sms(self, recipient: str, body: str) -> None:
        raise DeliveryFailed(f"this process has no {self.missing}: `idv worker` delivers")


class FileOutbox:
    """Development only (production refuses it): appends each message as a JSON line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def _append(self, entry: dict[str, str]) -> None:
        entry["sent_at"] = datetime.now(UTC).isoformat()
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        async with self._lock:
            await asyncio.to_thread(self._write, line)

    def _write(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(line)

    async def send_email(self, recipient: str, subject: str, body: str) -> None:
        await self._append({"channel": "email", "to": recipient, "subject": subject, "body": body})

    async def send_sms(self, recipient: str, body: str) -> None:
        await self._append({"channel": "sms", "to": recipient, "body": body})
