"""An event about a member that happened before their erasure, but reaches a service after
it (a retry delayed past the erasure, a redelivery), must not bring back what was erased."""

from __future__ import annotations

import json
import uuid

from nats.js.errors import KeyNotFoundError

from shared.contracts.membership import MemberRegisteredV1
from shared.naming import Service, Streams, bucket_name
from tests.helpers import events_of_type, eventually, publish_event, settled
from tests.slice import hire_data


async def test_a_registration_delayed_past_the_erasure_does_not_bring_the_member_back(
    services, world, nc, region
):
    await world.hire(hire_data("zed", "Zed Zulu", "eu", "Europe/Berlin", {"go": "advanced"}))
    (zed,) = await world.wait_for_members("zed")
    events = Streams(region).events
    (registered,) = await eventually(
        lambda: events_of_type(nc, events, "guild.membership.member_registered.v1"),
        what="zed's registration",
    )
    js = nc.jetstream()
    content = await js.key_value(bucket_name(Service.CONTENT, "members", region))
    matching = await js.key_value(bucket_name(Service.MATCHING, "members", region))

    records = ((content, zed), (matching, f"{zed}.p"))  # content's record, matching's profile

    async def held() -> list[bool]:
        found = []
        for bucket, key in records:
            try:
                found.append((await bucket.get(key)).value is not None)
            except KeyNotFoundError:
                found.append(False)
        return found

    async def known_to_both() -> bool:
        return all(await held())

    await eventually(known_to_both, what="content and matching to know zed")
    await world.erase("zed")
    await settled(nc, region)
    assert not any(await held())

    stale = {**registered, "id": str(uuid.uuid4())}  # the same registration, at its own time
    await publish_event(nc, MemberRegisteredV1.subject_in(region), stale)
    await settled(nc, region)
    assert not any(await held()), json.dumps(stale["data"])
