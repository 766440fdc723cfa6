"""The long tail of channels through Apprise URLs (``pip install 'guild[apprise]'``).

Apprise makes its own connections, so the connect-time address check of :mod:`.egress`
cannot wrap them. What Guild checks instead, before every send: the URL's scheme is one the
operator allowed (``GUILD_NOTIFICATIONS_APPRISE_SCHEMES``; none by default, which turns the
channel off), and its host, if it has one, resolves only to public addresses. A name that
changes its answer between that check and Apprise's own lookup is not caught: operators who
need that guarantee allow only schemes whose hosts are fixed services.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from services.notifications.channels.egress import Refused, Resolver, public_addresses
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Message,
    Outcome,
    Result,
)


def available() -> bool:
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True


class AppriseChannel:
    kind = EndpointKind.APPRISE

    def __init__(
        self, schemes: frozenset[str], resolver: Resolver, *, allow_loopback: bool = False
    ) -> None:
        self.schemes, self.resolver, self.allow_loopback = schemes, resolver, allow_loopback

    async def check(self, url: str) -> None:
        """Raises :class:`Refused` unless ``url`` may be used."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in self.schemes:
            allowed = ", ".join(sorted(self.schemes)) or "none"
            raise Refused(f"Apprise scheme {parts.scheme!r} is not allowed here ({allowed})")
        if not parts.hostname:
            return
        try:
            await public_addresses(parts.hostname, parts.port or 443, resolver=self.resolver,
                                   allow_loopback=self.allow_loopback)  # fmt: skip
        except OSError as error:
            raise Refused(f"cannot resolve {parts.hostname}: {error}") from None

    async def send(self, message: Message, endpoint: Endpoint) -> Outcome:
        try:
            await self.check(endpoint.address)
        except Refused as refused:
            return Outcome(Result.FAILED, f"refused: {refused.reason}")
        import apprise

        sender = apprise.Apprise()
        if not sender.add(endpoint.address):
            return Outcome(Result.FAILED, "Apprise does not understand this URL")
        sent = await asyncio.to_thread(
            sender.notify, body=_text(message), title=message.title, body_format="text"
        )
        if sent:
            return Outcome(Result.DELIVERED, "sent through Apprise")
        return Outcome(Result.RETRY, "Apprise could not send it (its log says why)")


def _text(message: Message) -> str:
    """Plain text (Apprise escapes it for targets that read markup), with the links."""
    lines = [message.body]
    if message.reasons:
        lines += ["", "Why you get this: " + "; ".join(message.reasons)]
    lines += [f"{label}: {url}" for label, url in message.links]
    return "\n".join(lines)
