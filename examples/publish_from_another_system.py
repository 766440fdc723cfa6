"""How another internal system publishes into Guild, with nothing but nats-py.

It plays the HR directory (a person was hired) and the intranet portal (that person asks a
question). Run it against a Guild started with ``./guild up``:

    .venv/bin/python examples/publish_from_another_system.py
    # elsewhere: pip install 'nats-py[nkeys]' && python publish_from_another_system.py

NATS_URL and GUILD_REGION choose the server and region (default: guild up's). Each system
connects with its own credential: ``guild up`` issues them into ``.guild/identities/``
(``hr-directory-<region>.creds``, ``portal-<region>.creds``); elsewhere an operator issues one
with ``guild identity issue hr-directory --region eu --out hr.creds``. HR_CREDENTIALS and
PORTAL_CREDENTIALS name other files.
"""

import asyncio
import json
import os
import uuid
from datetime import UTC, datetime

import nats
import nats.js

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
REGION = os.environ.get("GUILD_REGION", "local")
IDENTITIES = os.path.join(os.environ.get("GUILD_DATA_DIR", ".guild"), "identities")


async def connect_as(system: str, variable: str) -> nats.NATS:
    """Connect as ``system``: its credential, and its own inbox prefix (replies to it, such
    as PubAcks, arrive there; nobody else may read them)."""
    credentials = os.environ.get(variable) or os.path.join(IDENTITIES, f"{system}-{REGION}.creds")
    inbox = f"_INBOX_{system.replace('-', '_')}_{REGION}"
    return await nats.connect(NATS_URL, user_credentials=credentials, inbox_prefix=inbox)


def cloudevent(event_type: str, source: str, data: dict) -> dict:
    """CloudEvents 1.0, structured mode: the whole event is the JSON body."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),  # unique per source; reuse it if you re-send the same event
        "source": source,
        "type": event_type,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


async def publish(js: nats.js.JetStreamContext, subject: str, event: dict) -> None:
    # Nats-Msg-Id = the event id: if this publish is retried, JetStream stores it once.
    ack = await js.publish(
        subject, json.dumps(event).encode(), headers={"Nats-Msg-Id": event["id"]}
    )
    print(f"stored {event['type']} as {ack.stream} #{ack.seq}")


async def main() -> None:
    hr = await connect_as("hr-directory", "HR_CREDENTIALS")
    portal = await connect_as("portal", "PORTAL_CREDENTIALS")
    person_id = f"ext-{uuid.uuid4().hex[:8]}"

    await publish(
        hr.jetstream(),
        f"ingest.{REGION}.hr-directory.hr.person_hired.v1",
        cloudevent(
            "guild.ingest.hr.person_hired.v1",
            "/hr-directory",
            {
                "person_id": person_id,
                "display_name": "Alex Example",
                "email": "alex.example@example.com",
                "region": "eu",
                "timezone": "Europe/Amsterdam",
                "skills": [{"name": "terraform", "level": "advanced"}],
            },
        ),
    )

    # Commands and queries are request-reply: the reply says ok, or what is wrong and why.
    # Guild names members by an id of its own; find_member gives it for an HR person id.
    for _ in range(50):  # the hire is processed asynchronously; wait until it is registered
        reply = json.loads(
            (
                await portal.request(
                    f"qry.{REGION}.membership.find_member",
                    json.dumps({"person_id": person_id}).encode(),
                    timeout=5,
                )
            ).data
        )
        if reply["ok"]:
            break
        await asyncio.sleep(0.1)
    print("member registered:", reply["ok"])
    member_id = reply["result"]["member_id"]

    await publish(
        portal.jetstream(),
        f"ingest.{REGION}.portal.content.question_asked.v1",
        cloudevent(
            "guild.ingest.content.question_asked.v1",
            "/portal",
            {
                "question_ref": f"portal-{uuid.uuid4().hex[:8]}",  # your own id for the question
                "community_id": os.environ.get("COMMUNITY_ID", "k8s-ops"),
                "asker_id": member_id,
                "title": "Which Terraform state backend do other teams use for Kubernetes?",
                "text": "We are moving clusters between accounts and need locking that works.",
                "tags": ["kubernetes", "terraform"],
            },
        ),
    )
    await hr.drain()
    await portal.drain()


if __name__ == "__main__":
    asyncio.run(main())
