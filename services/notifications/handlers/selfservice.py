"""A member's own settings: channels, preferences, inbox, and the links in messages. The
same handlers answer the HTTP API (the member from their token) and NATS request-reply
(for internal systems)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter

from services.notifications.channels import EndpointChannel
from services.notifications.channels.egress import Refused
from services.notifications.domain.endpoints import (
    Endpoint,
    EndpointKind,
    Message,
    new_signing_secret,
)
from services.notifications.domain.links import REASON, BadLink
from services.notifications.domain.model import delivery_key
from services.notifications.domain.preferences import Preferences
from services.notifications.handlers import Deps
from shared.contracts import notifications as n
from shared.messaging.rpc import ErrorDetail, Rejected, not_found

PREFERENCES = TypeAdapter(Preferences)


def _offered(deps: Deps) -> dict[EndpointKind, EndpointChannel]:
    return dict(deps.outbox.channels) if deps.outbox else {}


def _masked(endpoint: Endpoint) -> str:
    address = endpoint.address
    if endpoint.kind is EndpointKind.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    scheme, _, rest = address.partition("://")
    return f"{scheme}://{rest.split('/')[0]}/..."


def view(endpoint: Endpoint) -> n.EndpointView:
    return n.EndpointView(
        endpoint_id=endpoint.endpoint_id,
        kind=endpoint.kind.value,
        label=endpoint.label,
        address=_masked(endpoint),
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        verified_at=endpoint.verified_at,
    )


async def list_endpoints(query: n.ListEndpoints, deps: Deps) -> n.EndpointList:
    """The member's channels (addresses masked) and the kinds this region offers."""
    held = await deps.store.member_endpoints(query.member_id)
    return n.EndpointList(
        member_id=query.member_id,
        endpoints=[view(e) for e in held.endpoints],
        offered=[kind.value for kind in _offered(deps)],
    )


async def add_endpoint(command: n.AddEndpoint, deps: Deps) -> n.EndpointAdded:
    """Add a channel once its address passes the checks; a webhook gets its secret."""
    kind = EndpointKind(command.kind)
    channel = _offered(deps).get(kind)
    if channel is None:
        raise Rejected("invalid_request", f"{kind.value} is not offered in this region",
                       [ErrorDetail(field="kind", problem="not offered here")])  # fmt: skip
    try:
        await channel.check(command.address)
    except Refused as refused:
        problem = [ErrorDetail(field="address", problem=refused.reason)]
        why = f"this address cannot be used: {refused.reason}"
        raise Rejected("invalid_request", why, problem) from None
    now = deps.clock()
    signing = (new_signing_secret(now),) if kind is EndpointKind.WEBHOOK else ()
    endpoint = Endpoint(endpoint_id=secrets.token_hex(8), kind=kind,
                        address=command.address.strip(), label=command.label,
                        secrets=signing)  # fmt: skip
    await deps.store.save_endpoint(command.member_id, endpoint)
    return n.EndpointAdded(endpoint=view(endpoint),
                           signing_secret=signing[0].secret if signing else None)  # fmt: skip


async def _endpoint(command: n.EndpointRequest, deps: Deps) -> Endpoint:
    endpoint = await deps.store.endpoint(command.member_id, command.endpoint_id)
    if endpoint is None:
        raise not_found("endpoint", command.endpoint_id)
    return endpoint


async def _changed(
    command: n.EndpointRequest, deps: Deps, change: Callable[[Endpoint], Endpoint]
) -> Endpoint:
    changed = await deps.store.change_endpoint(command.member_id, command.endpoint_id, change)
    if changed is None:
        raise not_found("endpoint", command.endpoint_id)
    return changed


async def remove_endpoint(command: n.EndpointRequest, deps: Deps) -> None:
    """Remove a channel; what was on its way there is not sent."""
    await _endpoint(command, deps)
    await deps.store.change_endpoints(command.member_id,
                                      lambda held: held.without(command.endpoint_id))  # fmt: skip


async def switch_endpoint(command: n.SwitchEndpoint, deps: Deps) -> n.EndpointView:
    """Turn a channel on or off; on again clears a stop Guild made (410, failures)."""
    return view(await _changed(command, deps, lambda held: held.switched(on=command.enabled)))


async def rotate_secret(command: n.EndpointRequest, deps: Deps) -> n.EndpointAdded:
    """A new signing secret for a webhook; the old one still signs for 24 hours."""
    if (await _endpoint(command, deps)).kind is not EndpointKind.WEBHOOK:
        raise Rejected("invalid_request", "only webhooks have a signing secret")
    now = deps.clock()
    rotated = await _changed(command, deps, lambda held: held.rotated(now))
    return n.EndpointAdded(endpoint=view(rotated), signing_secret=rotated.secrets[0].secret)


async def verify_endpoint(command: n.EndpointRequest, deps: Deps) -> n.Verified:
    """Send a test message now (whatever the hour) and say what the receiver answered."""
    endpoint = await _endpoint(command, deps)
    channel = _offered(deps).get(endpoint.kind)
    if channel is None:
        raise Rejected("invalid_request", f"{endpoint.kind.value} is not offered in this region")
    now = deps.clock()
    test_id = delivery_key(f"test:{now.isoformat()}", command.member_id, endpoint.endpoint_id)
    message = Message(test_id, "endpoint_test", "Guild test message",
                      "This channel works: Guild notifications will arrive here.",
                      ("you asked for a test message",), now)  # fmt: skip
    outcome = await channel.send(message, endpoint)
    if outcome.reached:
        await _changed(command, deps, lambda held: replace(held, verified_at=now))
    return n.Verified(delivered=outcome.reached, result=outcome.result.value,
                      reason=outcome.reason)  # fmt: skip


# ------------------------------------------------------------------ preferences


def _doc(prefs: Preferences) -> n.PreferencesDoc:
    data: dict[str, Any] = PREFERENCES.dump_python(prefs, mode="json")
    data["watch"] = dict(data["watch"])
    return n.PreferencesDoc.model_validate(data)


async def get_preferences(query: n.GetPreferences, deps: Deps) -> n.PreferencesDoc:
    """The member's preferences: the defaults until they change them."""
    return _doc(deps.store.choices.get(query.member_id) or Preferences())


async def set_preferences(command: n.SetPreferences, deps: Deps) -> n.PreferencesDoc:
    data = command.preferences.model_dump(mode="json")
    data["watch"] = tuple(data["watch"].items())
    prefs = PREFERENCES.validate_python(data)
    await deps.store.save_preferences(command.member_id, prefs)
    return _doc(prefs)


# ------------------------------------------------------------------ inbox


async def get_inbox(query: n.GetInbox, deps: Deps) -> n.InboxPage:
    """A page of the member's inbox, newest first, with each item's state."""
    items = await deps.store.inbox_items(query.member_id)
    states = {key.partition(".")[2]: held.value async for key, held in
              deps.store.inbox_state.items(f"{query.member_id}.*")}  # fmt: skip
    entries = [
        n.InboxEntry(**item.model_dump(), state=states.get(item.notification_id, "unread"),
                     position=position)
        for position, item in items
    ]  # fmt: skip
    unread = sum(entry.state == "unread" for entry in entries)
    shown = [e for e in reversed(entries) if _in_view(e.state, query.view)
             and (query.before is None or e.position < query.before)]  # fmt: skip
    page = shown[: query.limit]
    more = len(shown) > query.limit
    return n.InboxPage(member_id=query.member_id, items=page, unread=unread,
                       next_before=page[-1].position if more else None)  # fmt: skip


def _in_view(state: str, view: str) -> bool:
    return {"inbox": state != "archived", "unread": state == "unread",
            "archived": state == "archived"}.get(view, True)  # fmt: skip


async def mark_inbox(command: n.MarkInbox, deps: Deps) -> n.Marked:
    held = {item.notification_id for _, item in await deps.store.inbox_items(command.member_id)}
    wanted = list(dict.fromkeys(command.notification_ids))
    changed = 0
    for notification_id in (i for i in wanted if i in held):
        key = f"{command.member_id}.{notification_id}"
        state = await deps.store.inbox_state.get(key)
        if (state.value if state else "unread") != command.state:
            await deps.store.inbox_state.put(key, command.state)
            changed += 1
    return n.Marked(changed=changed, not_found=[i for i in wanted if i not in held])


# ------------------------------------------------------------------ links in messages


async def unsubscribe(command: n.Unsubscribe, deps: Deps) -> n.Unsubscribed:
    """Apply a signed link: a reason off, or one kind of message off on one channel."""
    try:
        member_id, what, value = deps.links.read(command.token)
    except BadLink as bad:
        raise Rejected("invalid_request", str(bad)) from None
    if what == REASON:
        field, words = "reasons_off", f"notifications because {value}"
    else:
        field, words = "channels_off", f"{value.partition('/')[0]} messages on that channel"
    await deps.store.change_preferences(member_id, _turned_off(field, value))
    return n.Unsubscribed(member_id=member_id, turned_off=words)


def _turned_off(field: str, value: str) -> Callable[[Preferences | None], Preferences]:
    def change(held: Preferences | None) -> Preferences:
        prefs = held or Preferences()
        return replace(prefs, **{field: getattr(prefs, field) | {value}})

    return change


COMMANDS = {
    "add_endpoint": (n.AddEndpoint, add_endpoint),
    "remove_endpoint": (n.EndpointRequest, remove_endpoint),
    "switch_endpoint": (n.SwitchEndpoint, switch_endpoint),
    "rotate_secret": (n.EndpointRequest, rotate_secret),
    "verify_endpoint": (n.EndpointRequest, verify_endpoint),
    "set_preferences": (n.SetPreferences, set_preferences),
    "mark_inbox": (n.MarkInbox, mark_inbox),
    "unsubscribe": (n.Unsubscribe, unsubscribe),
}
QUERIES = {
    "inbox": (n.GetInbox, get_inbox),
    "endpoints": (n.ListEndpoints, list_endpoints),
    "preferences": (n.GetPreferences, get_preferences),
}
