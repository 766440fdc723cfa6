"""Queries, answered over request-reply."""

from __future__ import annotations

from services.notifications.handlers import Deps
from shared.contracts.notifications import GetInbox, InboxPage


async def get_inbox(query: GetInbox, deps: Deps) -> InboxPage:
    """A member's inbox, newest first."""
    items = await deps.store.inbox(query.member_id, query.limit)
    return InboxPage(member_id=query.member_id, items=items)
