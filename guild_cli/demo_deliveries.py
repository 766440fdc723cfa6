"""Real deliveries in the demo: a local mail sink and a local webhook receiver, a few demo
members using them (set up through notifications' own request-reply API, as any internal
system would), and every delivery printed and saved as a file a person can open (``.eml``
for mail, ``.json`` for webhooks)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guild_cli.client import GuildClient, GuildError
from guild_cli.demo import DemoRegions, wait_for_members
from guild_cli.receivers import HttpReceiver, Mailed, MailSink, Received, Reply
from shared.naming import Service

DEMO_LABEL = "demo"
MAIL = ("e1001", "e3001", "e1003", "e1002")
"""Facilitators who get mail (every newcomer alerts one of them)."""
WEBHOOK = ("e1001", "e2001")
QUIET_HOURS_OFF = {"quiet_hours": None, "daily_budget": 50}
"""The demo runs at any hour: its members turned quiet hours off to see deliveries now."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "message"


class DemoDeliveries:
    def __init__(self, folder: Path, show: Callable[[str], None]) -> None:
        self.folder, self.show = folder, show
        self.mail = MailSink(on_message=self._mailed)
        self.webhook = HttpReceiver(self._hooked)
        self.count = 0

    async def start(self) -> DemoDeliveries:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.mail.start()
        await self.webhook.start()
        return self

    async def stop(self) -> None:
        self.mail.stop()
        await self.webhook.stop()

    def env(self) -> dict[str, str]:
        """Notifications' settings for the demo: mail to the sink, webhooks on loopback."""
        return {
            "GUILD_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "GUILD_NOTIFICATIONS_SMTP_PORT": str(self.mail.port),
            "GUILD_NOTIFICATIONS_SMTP_STARTTLS": "false",
            "GUILD_NOTIFICATIONS_MAIL_FROM": "Guild demo <guild@demo.local>",
            "GUILD_NOTIFICATIONS_ALLOW_LOOPBACK_RECEIVERS": "true",
        }

    async def configure(self, regions: DemoRegions) -> list[str]:
        """Give the demo members their channels (replacing earlier runs'), each through their
        home region's notifications; who got what."""
        done = []
        people = sorted(set(MAIL) | set(WEBHOOK))
        ids = await wait_for_members(regions, people)
        for person_id in people:
            member_id, client = ids[person_id], regions.home(person_id)
            await self._forget_earlier(client, member_id)
            if person_id in MAIL:
                await self._add(client, member_id, "email", f"{person_id}@demo.local")
                done.append(f"{person_id}: mail")
            if person_id in WEBHOOK:
                await self._add(client, member_id, "webhook", f"{self.webhook.url}/{person_id}")
                done.append(f"{person_id}: webhook")
            await self._quiet_hours_off(client, member_id)
        return done

    async def _quiet_hours_off(self, client: GuildClient, member_id: str) -> None:
        who = {"member_id": member_id}
        preferences = await client.query(Service.NOTIFICATIONS, "preferences", who)
        changed = {**who, "preferences": {**preferences, **QUIET_HOURS_OFF}}
        await client.command(Service.NOTIFICATIONS, "set_preferences", changed)

    async def _forget_earlier(self, client: GuildClient, member_id: str) -> None:
        listed = await client.query(Service.NOTIFICATIONS, "endpoints", {"member_id": member_id})
        for endpoint in listed["endpoints"]:
            if endpoint["label"] == DEMO_LABEL:
                await client.command(Service.NOTIFICATIONS, "remove_endpoint", {
                    "member_id": member_id, "endpoint_id": endpoint["endpoint_id"]})  # fmt: skip

    async def _add(self, client: GuildClient, member_id: str, kind: str, address: str) -> None:
        try:
            await client.command(Service.NOTIFICATIONS, "add_endpoint", {
                "member_id": member_id, "kind": kind, "address": address,
                "label": DEMO_LABEL})  # fmt: skip
        except GuildError as error:
            self.show(f"[yellow]could not give {member_id} a {kind} channel: {error}[/]")

    def _save(self, name: str, data: bytes) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:04d}-{name}"
        path.write_bytes(data)
        return path

    def _mailed(self, mailed: Mailed) -> None:
        """Saved as the bytes received, so the file reads as the mail program got it."""
        to, subject = ", ".join(mailed.recipients), str(mailed.message["Subject"])
        path = self._save(f"{_slug(to)}-{_slug(subject)}.eml", mailed.raw)
        self.show(f"[cyan]✉[/] mail to {to}: {subject} [dim](saved {path})[/]")

    def _hooked(self, request: Received) -> Reply:
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            body = json.loads(request.body)
        member = request.path.strip("/") or "webhook"
        title = str(body.get("data", {}).get("title", "?"))
        saved = json.dumps({"headers": request.headers, "body": body}, indent=2)
        path = self._save(f"{_slug(member)}-{_slug(title)}.json", saved.encode())
        webhook_id = request.headers.get("webhook-id")
        self.show(f"[cyan]⇢[/] webhook for {member}: {title} "
                  f"[dim](webhook-id {webhook_id}, saved {path})[/]")  # fmt: skip
        return Reply()
