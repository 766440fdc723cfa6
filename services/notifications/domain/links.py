"""The links put in messages: to the post a message is about, in the company's portal (from
its URL template); and signed links a member can follow without signing in: turn a reason
off, unsubscribe one endpoint from one kind of message (RFC 8058 one-click). A signed link
carries the member and what to turn off, and an HMAC of both with the region's secret, so
nobody can make one for someone else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from string import Formatter
from urllib.parse import quote, urlsplit

from services.notifications.domain.model import Post

DEFAULT_PORTAL_URL = "http://portal.localhost/communities/{community_id}/posts/{post_id}"
"""Where the demo says a post is: set ``GUILD_NOTIFICATIONS_PORTAL_URL`` to the portal's."""
PORTAL_PLACEHOLDERS = frozenset({"post_id", "community_id"})


def check_portal_url(template: str) -> str:
    """``template`` if it makes an http(s) link to a post from ``{post_id}`` (and, if it
    wants it, ``{community_id}``); else ValueError saying what is wrong."""
    try:
        fields = [field for _, field, _, _ in Formatter().parse(template) if field is not None]
    except ValueError as error:
        raise ValueError(f"the portal URL template cannot be read: {error}") from None
    unknown = set(fields) - PORTAL_PLACEHOLDERS
    if unknown:
        raise ValueError(f"the portal URL template may only use {{post_id}} and "
                         f"{{community_id}}, not {sorted(unknown)}")  # fmt: skip
    if "post_id" not in fields:
        raise ValueError("the portal URL template must say where the post goes: {post_id}")
    parts = urlsplit(template.format(post_id="p", community_id="c"))
    if parts.scheme not in ("http", "https"):
        raise ValueError("the portal URL template must be an http or https URL")
    if not parts.hostname:
        raise ValueError("the portal URL template must name the portal's host")
    return template


class BadLink(Exception):
    """The link was altered, cut short, or signed with another secret."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, member_id: str, scope: str) -> str:
    """A token for ``member_id`` turning off ``scope`` ('reason:<key>' or
    'channel:<kind>/<endpoint id>')."""
    body = _b64(json.dumps([member_id, scope], separators=(",", ":")).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:18]
    return f"{body}.{_b64(mac)}"


def verify(secret: bytes, token: str) -> tuple[str, str]:
    """(member id, scope) of a token made by :func:`sign` with the same secret."""
    body, _, mac = token.partition(".")
    expected = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:18]
    try:
        valid = hmac.compare_digest(_unb64(mac), expected)
        member_id, scope = json.loads(_unb64(body)) if valid else ("", "")
    except (ValueError, TypeError) as error:
        raise BadLink("this link is not valid (altered or cut short)") from error
    if not valid or not isinstance(member_id, str) or not isinstance(scope, str):
        raise BadLink("this link is not valid (altered or cut short)")
    return member_id, scope


REASON, CHANNEL = "reason", "channel"


class Links:
    """The links put in messages: posts in the portal; signed links under the region's
    public API address."""

    def __init__(
        self, base_url: str, secret: bytes = b"", portal_url: str = DEFAULT_PORTAL_URL
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        """Set at start-up from the region's key bucket."""
        self.portal_url = check_portal_url(portal_url)

    def post(self, post: Post) -> str:
        return self.portal_url.format(post_id=quote(post.post_id, safe=""),
                                      community_id=quote(post.community_id, safe=""))  # fmt: skip

    def turn_off(self, member_id: str, reason_key: str) -> str:
        return self._link(member_id, f"{REASON}:{reason_key}")

    def unsubscribe(self, member_id: str, kind: str, endpoint_id: str) -> str:
        return self._link(member_id, f"{CHANNEL}:{kind}/{endpoint_id}")

    def _link(self, member_id: str, scope: str) -> str:
        return f"{self.base_url}/v1/unsubscribe/{sign(self.secret, member_id, scope)}"

    def read(self, token: str) -> tuple[str, str, str]:
        """(member id, what, value) of a link's token: what is :data:`REASON` (value: a
        reason key) or :data:`CHANNEL` (value: '<kind>/<endpoint id>')."""
        member_id, scope = verify(self.secret, token)
        what, _, value = scope.partition(":")
        if what not in (REASON, CHANNEL) or not value:
            raise BadLink("this link is not valid (unknown kind of link)")
        return member_id, what, value
