"""Member webhooks: a generic one signed per Standard Webhooks, Slack, and Teams Workflows.

Each renders the message as its receiver expects and posts it through the guarded client
(:mod:`.egress`); what the answer means is decided once, in :mod:`.http`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.notifications.channels.egress import Egress
from services.notifications.channels.http import post
from services.notifications.domain.endpoints import Endpoint, EndpointKind, Message, Outcome

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body`` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class JsonWebhook(ABC):
    """Posts a JSON rendering of the message to the endpoint's URL."""

    kind: EndpointKind

    def __init__(self, egress: Egress, clock: Clock = _now) -> None:
        self.egress, self.clock = egress, clock

    @abstractmethod
    def payload(self, message: Message) -> bytes:
        """The body as this kind of receiver expects it."""

    def headers(self, message: Message, endpoint: Endpoint, body: bytes) -> dict[str, str]:
        return {"content-type": "application/json"}

    async def check(self, address: str) -> None:
        self.egress.check(address)

    async def send(self, message: Message, endpoint: Endpoint) -> Outcome:
        body = self.payload(message)
        headers = self.headers(message, endpoint, body)
        return await post(
            self.egress, endpoint.address, content=body, headers=headers, now=self.clock()
        )


class WebhookChannel(JsonWebhook):
    """A generic webhook: a JSON event, signed with every current secret of the endpoint."""

    kind = EndpointKind.WEBHOOK

    def payload(self, message: Message) -> bytes:
        return _json(
            {
                "type": f"guild.notification.{message.kind}",
                "timestamp": message.created_at.isoformat(),
                "data": {
                    "notification_id": message.notification_id,
                    "kind": message.kind,
                    "title": message.title,
                    "body": message.body,
                    "reasons": list(message.reasons),
                    "links": [{"label": label, "url": url} for label, url in message.links],
                },
            }
        )

    def headers(self, message: Message, endpoint: Endpoint, body: bytes) -> dict[str, str]:
        timestamp = int(datetime.now(UTC).timestamp())  # of this attempt, in real time
        signatures = " ".join(
            sign(secret, message.notification_id, timestamp, body)
            for secret in endpoint.signing_secrets(self.clock())
        )
        return {
            "content-type": "application/json",
            "webhook-id": message.notification_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }


def _why(message: Message) -> str:
    return "Why you get this: " + "; ".join(message.reasons) if message.reasons else ""


def slack_escaped(text: str) -> str:
    """Text Slack shows as written: ``&``, ``<`` and ``>`` are its control characters (a
    ``<!channel>`` pings everyone, a ``<url|label>`` is a link with any label)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackChannel(JsonWebhook):
    """A Slack incoming webhook: Block Kit, with a plain-text fallback. Every text is
    escaped (people wrote the titles, bodies, names and community names); only Guild's own
    links are mrkdwn."""

    kind = EndpointKind.SLACK

    def payload(self, message: Message) -> bytes:
        e = slack_escaped
        links = " | ".join(f"<{e(url)}|{e(label)}>" for label, url in message.links)
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{e(message.title)}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": e(message.body[:2900])}},
        ]
        context = [t for t in (e(_why(message)), links) if t]
        if context:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in context]}
            )
        return _json({"text": e(f"{message.title}\n{message.body}"), "blocks": blocks})


def _plain(text: str, **style: object) -> dict[str, Any]:
    """A RichTextBlock of one TextRun: Adaptive Cards read a TextBlock's text as markdown
    (``[label](url)`` is a link with any label), never a TextRun's."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


class TeamsChannel(JsonWebhook):
    """A Teams Workflows webhook: a message with one Adaptive Card (version 1.2, which
    webhooks render). What people wrote is plain text in it; Guild's links are its actions.
    Workflows answer 202: the card is accepted, not yet shown."""

    kind = EndpointKind.TEAMS

    def payload(self, message: Message) -> bytes:
        body = [_plain(message.title, weight="Bolder"), _plain(message.body)]
        if message.reasons:
            body.append(_plain(_why(message), isSubtle=True, size="Small"))
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.2",
            "body": body,
            "actions": [
                {"type": "Action.OpenUrl", "title": label, "url": url}
                for label, url in message.links
            ],
        }
        attachment = {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": card,
        }
        return _json({"type": "message", "attachments": [attachment]})
