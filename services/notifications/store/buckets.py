"""The contacts and ledger buckets, and reading a member's inbox stream."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from array import array
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from nats.js import JetStreamContext
from pydantic import TypeAdapter

from services.notifications.domain.audience import Audience
from services.notifications.domain.bulletins import Bulletin
from services.notifications.domain.endpoints import Endpoint, MemberEndpoints
from services.notifications.domain.erasure import FORMER_MEMBER, Erased
from services.notifications.domain.model import (
    PART_KEYS,
    Contact,
    Delivery,
    PartRecord,
    Status,
    budget_key,
    day_key,
)
from services.notifications.domain.preferences import Preferences
from services.notifications.domain.waiting import DigestEntry, Held
from shared.contracts.notifications import InboxItem
from shared.ids import mentions_id
from shared.messaging.provisioning import Bucket, Buckets
from shared.naming import Service, Streams, inbox_subject, outbox_subject
from shared.own_writes import OwnWrites, Stored
from shared.readmodel import BucketFollower, Projection, Table, pack, unpack
from shared.sealing import Keyring
from shared.storage import (
    KvStore,
    erase_dead_letters,
    erase_messages,
    position,
    rewrite_dead_letters,
    rewrite_messages,
    scan,
)

BUDGET_KEPT = 3 * 24 * 3600.0
"""Seconds a member's count of interruptions for one day is kept."""
BULLETINS_KEPT = 9 * 24 * 3600.0
"""Seconds a bulletin is kept: longer than the longest wait for a digest (a week)."""
BUCKETS = Buckets(Service.NOTIFICATIONS, {
    "contacts": Bucket("Names and addresses of members homed here (personal data)", secure=True,
                       sealed=True),
    "endpoints": Bucket("Members' own channels: addresses, webhook URLs and secrets (personal "
                        "data)", secure=True, sealed=True),
    "keys": Bucket("This region's own secrets (signing links, mail ids)", secure=True,
                   sealed=True),
    "ledger": Bucket("One entry per (cause event, member, channel): the routing decision, "
                     "what told them of a topic, what each channel delivered"),
    "audience": Bucket("Members homed here: timezone, followed tags, communities", secure=True),
    "preferences": Bucket("Members' notification preferences (defaults until they change "
                          "them)", secure=True),
    "held": Bucket("Pushes waiting for a member's quiet hours to end: <member>.<notification>",
                   secure=True),
    "digest": Bucket("Items of one member waiting for their next digest (what reached their "
                     "inbox over the day's budget): <member>.<notification>", secure=True),
    "bulletins": Bucket("Posts to whole audiences, one per post, for every digest it goes "
                        "into: <post's key>", secure=True, ttl=BULLETINS_KEPT),
    "digest-sent": Bucket("When each member's last digest was due: <member>", secure=True),
    "budget": Bucket("Interruptions per member and local day: <member>.<yyyy-mm-dd>",
                     ttl=BUDGET_KEPT),
    "inbox-state": Bucket("Read or archived, per inbox item: <member>.<notification>",
                          secure=True),
    "homes": Bucket("Where each member who moved between regions is homed now: <member> -> "
                    "region (ids only)"),
    "erased": Bucket("Members erased here, by a keyed hash of their id, and when: nothing is "
                     "delivered to them again"),
})  # fmt: skip


MEMBER_ENDPOINTS = TypeAdapter(MemberEndpoints)
DEFAULT_PREFERENCES = Preferences()
LEDGER_ENTRIES = TypeAdapter(list[Delivery])


class AudienceIndex(Table[Audience]):
    """Members homed here by community and by followed tag."""

    def __init__(self) -> None:
        super().__init__(Audience, "audience-1")
        self.by_community: dict[str, set[str]] = {}
        self.by_tag: dict[str, set[str]] = {}

    def changed(self, key: str, before: Audience | None, after: Audience | None) -> None:
        for index, field in ((self.by_community, "communities"), (self.by_tag, "interests")):
            for name in getattr(before, field, ()):
                index.get(name, set()).discard(key)
            for name in getattr(after, field, ()):
                index.setdefault(name, set()).add(key)


class BulletinIndex(Table[Bulletin]):
    """Bulletins waiting for digests, by community, followed tag and mentioned member."""

    def __init__(self) -> None:
        super().__init__(Bulletin, "bulletins-1")
        self.by_community: dict[str, set[str]] = {}
        self.by_tag: dict[str, set[str]] = {}
        self.by_mention: dict[str, set[str]] = {}

    def changed(self, key: str, before: Bulletin | None, after: Bulletin | None) -> None:
        for held, add in ((before, False), (after, True)):
            if held is None:
                continue
            for index, names in (
                (self.by_community, (held.community_id,)),
                (self.by_tag, held.tags),
                (self.by_mention, held.mentions),
            ):
                for name in names:
                    keys = index.setdefault(name, set())
                    (keys.add if add else keys.discard)(key)  # fmt: skip

    def heard_of_by(self, person: Audience) -> list[Bulletin]:
        """Bulletins the member may hear of (their communities, tags, mentions)."""
        keys: set[str] = set(self.by_mention.get(person.member_id, ()))
        for community in person.communities:
            keys |= self.by_community.get(community, set())
        for tag in person.interests:
            keys |= self.by_tag.get(tag, set())
        return [self.items[key] for key in keys if key in self.items]


class LedgerFacts:
    """What delivery decisions read of the ledger, in memory: each (cause, member) routing
    decision and 'told' entry (an :class:`Action`), which (cause, member, channel) were
    delivered, and the interruptions per member and day that the parts of large fan-outs
    counted. The ledger stays the authority: a decision is created only if none is stored
    (see :mod:`~services.notifications.handlers.delivery`).

    A :class:`~services.notifications.domain.model.PartRecord` (a key under
    :data:`~services.notifications.domain.model.PART_KEYS`) is read as the records it stands
    for: its members' decisions and 'told' entries, their deliveries once it says they were
    delivered, and its counts, added once per part (``parts``: the parts counted, noted at
    once by the service routing one, so that the same record coming back from the bucket,
    or again with ``delivered_at`` set, counts nothing more)."""

    VERSION = "ledger-facts-2"

    def __init__(self) -> None:
        self._decode = TypeAdapter(Delivery).validate_json
        self._decode_part = TypeAdapter(PartRecord).validate_json
        self.decided: dict[str, Delivery] = {}
        self.delivered: set[str] = set()
        self.counted: dict[str, int] = {}
        """Interruptions per :func:`~services.notifications.domain.model.day_key` that
        parts counted (the budget bucket holds those counted one member at a time)."""
        self.parts: set[str] = set()

    def apply(self, key: str, value: bytes | None) -> None:
        if key.startswith(PART_KEYS):
            if value is not None:
                self.note_part(key, self._decode_part(value))
            return
        self.note(key, self._decode(value) if value is not None else None)

    def note(self, key: str, record: Delivery | None) -> None:
        self.decided.pop(key, None)
        self.delivered.discard(key)
        if record is None:
            return
        if record.decision is not None:
            self.decided[key] = record
        elif record.status is Status.DELIVERED:
            self.delivered.add(key)

    def note_part(self, key: str, record: PartRecord) -> None:
        """The part's entries in memory, once; then, once it says so, its deliveries (the
        keys of deliveries, never of decisions)."""
        if key not in self.parts:
            self.parts.add(key)
            for route, index in zip(record.routes, record.decided, strict=True):
                self.note(route, record.decisions[index])
            for told, entry in record.told_entries():
                self.note(told, entry)
            self.count(record.counted, 1)
        if record.delivered_at:
            self.delivered.update(record.sent)

    def count(self, days: Iterable[str], by: int) -> None:
        for day in days:
            self.counted[day] = self.counted.get(day, 0) + by

    def snapshot(self) -> bytes:
        return pack({"delivered": sorted(self.delivered),
                     "keys": list(self.decided),
                     "decided": LEDGER_ENTRIES.dump_json(list(self.decided.values())),
                     "parts": sorted(self.parts),
                     "days": list(self.counted),
                     "counts": array("l", self.counted.values())})  # fmt: skip

    def restore(self, data: bytes) -> None:
        columns = unpack(data)
        self.delivered = set(columns["delivered"])
        records = LEDGER_ENTRIES.validate_json(columns["decided"])
        self.decided = dict(zip(columns["keys"], records, strict=True))
        self.parts = set(columns["parts"])
        self.counted = dict(zip(columns["days"], columns["counts"], strict=True))


class Reach(Table[MemberEndpoints]):
    """Each member's endpoints without their addresses and secrets: which there are and
    whether they are on, for deciding where a notification goes (the outbox worker reads the
    whole endpoint when it sends)."""

    def __init__(self) -> None:
        super().__init__(MemberEndpoints, "reach-1")

    def apply(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.items.pop(key, None)
            return
        held = EndpointsStore.read(value)
        self.items[key] = replace(held, endpoints=tuple(
            replace(e, address="", secrets=()) for e in held.endpoints))  # fmt: skip


class SignInIndex:
    """Which member each person that sign-in names is (their HR person id, in the contact
    membership sent), for the member API. Ids only; follows the contacts bucket."""

    VERSION = "sign-in-1"

    def __init__(self) -> None:
        self._decode = TypeAdapter(Contact).validate_json
        self.members: dict[str, str] = {}
        self.people: dict[str, str] = {}

    def apply(self, key: str, value: bytes | None) -> None:
        person_id = self.people.pop(key, None)
        if person_id is not None:
            self.members.pop(person_id, None)
        if value is not None:
            self._add(self._decode(value).person_id or key, key)

    def _add(self, person_id: str, member_id: str) -> None:
        self.members[person_id], self.people[member_id] = member_id, person_id

    def member_of(self, person_id: str) -> str | None:
        return self.members.get(person_id)

    def snapshot(self) -> bytes:
        return pack({"p": list(self.members), "m": list(self.members.values())})

    def restore(self, data: bytes) -> None:
        columns = unpack(data)
        self.members, self.people = {}, {}
        for person_id, member_id in zip(columns["p"], columns["m"], strict=True):
            self._add(person_id, member_id)


class EndpointsStore(KvStore[MemberEndpoints]):
    """Members' endpoints. Entries written before an endpoint's on/off state was one field
    (``off``) said it with ``enabled`` and ``disabled_reason``: they are read as that state,
    so an endpoint turned off then stays off."""

    def decode(self, data: bytes) -> MemberEndpoints:
        return self.read(data)

    @staticmethod
    def read(data: bytes) -> MemberEndpoints:
        document = json.loads(data)
        for endpoint in document.get("endpoints", ()):
            _read_earlier_switch(endpoint)
        return MEMBER_ENDPOINTS.validate_python(document)


def _read_earlier_switch(endpoint: dict[str, Any]) -> None:
    enabled, reason = endpoint.pop("enabled", True), endpoint.pop("disabled_reason", None)
    if "off" not in endpoint and (enabled is False or reason):
        endpoint["off"] = {"by": "guild", "reason": reason} if reason else {"by": "member"}


BULLETIN = TypeAdapter(Bulletin)


def _without_member(member_id: str) -> Callable[[bytes], bytes | None]:
    """A bulletin's bytes without the member's id (mentioned, asking); None: it has none."""

    def rewrite(data: bytes) -> bytes | None:
        held = BULLETIN.validate_json(data)
        kept = held.forgetting(member_id)
        return None if kept == held else BULLETIN.dump_json(kept)

    return rewrite


@dataclass
class NotificationsStore:
    contacts: KvStore[Contact]
    ledger: KvStore[Delivery]
    parts: KvStore[PartRecord]
    """The ledger's part records (:data:`~services.notifications.domain.model.PART_KEYS`)."""
    endpoints: KvStore[MemberEndpoints]
    keys: KvStore[str]
    audience: KvStore[Audience]
    preferences: KvStore[Preferences]
    held: KvStore[Held]
    digest: KvStore[DigestEntry]
    bulletins: KvStore[Bulletin]
    digest_sent: KvStore[datetime]
    budget: KvStore[int]
    inbox_state: KvStore[str]
    erased: KvStore[datetime]
    region: str
    people: AudienceIndex
    sign_ins: SignInIndex
    choices: Table[Preferences]
    """Every member's preferences as stored (see :meth:`preferences_of`)."""
    waiting: BulletinIndex
    bulletin_writes: OwnWrites
    """The bulletins' read model as its follower and this service's own writes change it:
    a bulletin rewritten (an erasure) is in memory at once, and the follower's older copies
    of it (the purge marker before the new bytes) do not take it out meanwhile."""
    last_digests: Table[datetime]
    facts: LedgerFacts
    spent: Table[int]
    """Interruptions per member and local day (the budget bucket)."""
    reach: Reach
    gone: Table[datetime]
    """Members erased here (the erased bucket; :meth:`mark_erased` updates it at once)."""
    homes: KvStore[str]
    moved: Table[str]
    """Members who moved between regions, and their home now (:meth:`note_home`)."""
    followers: list[BucketFollower]
    js: JetStreamContext | None = None
    erasure_secret: bytes | None = None
    """Keys the erased markers (see :meth:`erased_key`); loaded at start."""
    digests_looked_at: dict[str, tuple[Preferences, datetime, datetime]] = dataclasses.field(
        default_factory=dict
    )
    """Per member, the digest slot (due, next) last looked at with nothing to send, and with
    which preferences: not looked at again until the next (in memory only)."""
    zoned: dict[str, tuple[Preferences, str, Preferences]] = dataclasses.field(default_factory=dict)
    """Per member who chose their own preferences: those as stored, their profile's timezone
    and the two made one (:meth:`preferences_of`), while neither changes."""
    zoned_defaults: dict[str, Preferences] = dataclasses.field(default_factory=dict)
    """The defaults in each timezone, one object per zone shared by every member who keeps
    them (their decisions are then made once per event: see the delivery's ``Moment``)."""
    erased_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    """Per member, their :meth:`erased_key` (in memory only; dropped when they are erased)."""

    @classmethod
    def for_region(cls, region: str, keyring: Keyring | None = None) -> NotificationsStore:
        """The region's stores; the sealed ones (contacts, endpoints, keys) seal with
        ``keyring``, without which they refuse to bind."""

        def store(purpose: str, value_type: type) -> KvStore:  # type: ignore[type-arg]
            return BUCKETS.store(purpose, value_type, region, keyring)

        people, sign_ins = AudienceIndex(), SignInIndex()
        choices, waiting = Table(Preferences, "preferences-1"), BulletinIndex()
        last_digests = Table(datetime, "digest-sent-1")
        facts, spent, reach = LedgerFacts(), Table(int, "budget-1"), Reach()
        ledger, budget = store("ledger", Delivery), store("budget", int)
        parts = store("ledger", PartRecord)
        endpoints = EndpointsStore(
            BUCKETS.store("endpoints", MemberEndpoints, region).bucket,
            MemberEndpoints,
            secure=BUCKETS.declared["endpoints"].secure,
            sealed=BUCKETS.declared["endpoints"].sealed,
            keyring=keyring,
        )
        audience, contacts = store("audience", Audience), store("contacts", Contact)
        preferences, bulletins = store("preferences", Preferences), store("bulletins", Bulletin)
        digest_sent, erased = store("digest-sent", datetime), store("erased", datetime)
        gone = Table(datetime, "erased-1")
        homes, moved = store("homes", str), Table(str, "homes-1")
        bulletin_writes = OwnWrites(waiting)

        def follower(kv: KvStore, projection: Projection, name: str) -> BucketFollower:  # type: ignore[type-arg]
            return BucketFollower(kv.bucket, projection, region=region,
                                  service=Service.NOTIFICATIONS, name=name,
                                  opened=kv.opened if kv.sealed else None)  # fmt: skip

        return cls(
            contacts=contacts,
            ledger=ledger,
            parts=parts,
            endpoints=endpoints,
            keys=store("keys", str),
            audience=audience,
            preferences=preferences,
            held=store("held", Held),
            digest=store("digest", DigestEntry),
            bulletins=bulletins,
            digest_sent=digest_sent,
            budget=budget,
            inbox_state=store("inbox-state", str),
            erased=erased,
            region=region,
            people=people,
            sign_ins=sign_ins,
            choices=choices,
            waiting=waiting,
            bulletin_writes=bulletin_writes,
            last_digests=last_digests,
            facts=facts,
            spent=spent,
            reach=reach,
            gone=gone,
            homes=homes,
            moved=moved,
            followers=[
                follower(ledger, facts, "ledger-facts"),
                follower(budget, spent, "budget"),
                follower(endpoints, reach, "reach"),
                follower(audience, people, "audience"),
                follower(contacts, sign_ins, "sign-ins"),
                follower(preferences, choices, "preferences"),
                follower(bulletins, bulletin_writes, "bulletins"),
                follower(digest_sent, last_digests, "digest-sent"),
                follower(erased, gone, "erased"),
                follower(homes, moved, "homes"),
            ],
        )

    def all(self) -> list[KvStore]:  # type: ignore[type-arg]
        return [
            self.contacts, self.ledger, self.parts, self.endpoints, self.keys, self.audience,
            self.preferences, self.held, self.digest, self.bulletins, self.digest_sent,
            self.budget, self.inbox_state, self.erased, self.homes,
        ]  # fmt: skip

    def interruptions(self, member_id: str, day: str, counted: str | None = None) -> int:
        """How many times the member was interrupted on their local ``day`` (from memory):
        what the budget bucket counted one member at a time, and what parts of large
        fan-outs counted (their records in the ledger, by ``counted``: the member's
        :func:`~services.notifications.domain.model.day_key`, if the caller has it)."""
        own = self.spent.get(budget_key(member_id, day)) or 0
        return own + self.facts.counted.get(counted or day_key(member_id, day), 0)

    def preferences_of(self, member_id: str) -> Preferences:
        """What the member chose, or the defaults; in their profile's timezone unless they
        chose another. From memory (the preferences bucket's read model, which this
        service's own writes update at once: :meth:`save_preferences`)."""
        prefs = self.choices.get(member_id) or DEFAULT_PREFERENCES
        if prefs.timezone:
            return prefs
        person = self.people.get(member_id)
        zone = person.timezone if person else "UTC"
        if prefs is DEFAULT_PREFERENCES:
            zoned = self.zoned_defaults.get(zone)
            if zoned is None:
                zoned = self.zoned_defaults[zone] = replace(prefs, timezone=zone)
            return zoned
        held = self.zoned.get(member_id)
        if held is not None and held[0] is prefs and held[1] == zone:
            return held[2]  # a fan-out asks for each member's many times: made once
        zoned = replace(prefs, timezone=zone)
        self.zoned[member_id] = (prefs, zone, zoned)
        return zoned

    async def save_preferences(self, member_id: str, prefs: Preferences) -> None:
        await self.preferences.put(member_id, prefs)
        self.choices.apply(member_id, self.preferences.encode(prefs))

    async def change_preferences(
        self, member_id: str, change: Callable[[Preferences | None], Preferences]
    ) -> None:
        changed = await self.preferences.change(member_id, change)
        if changed is not None:
            self.choices.apply(member_id, self.preferences.encode(changed))

    async def keep_bulletin(self, key: str, bulletin: Bulletin) -> None:
        """Keep ``bulletin`` for the digests, once: the one kept first for an event stays
        (a redelivery routes it at another moment)."""
        if self.waiting.get(key) is None:
            data = self.bulletins.encode(bulletin)
            await self._write_bulletin(key, data, lambda: self.bulletins.create_raw(key, data))

    async def forget_bulletin(self, key: str) -> None:
        await self._write_bulletin(key, None, lambda: self.bulletins.delete(key))

    def _write_bulletin(
        self, key: str, data: bytes | None, write: Callable[[], Awaitable[int | None]]
    ) -> Awaitable[int | None]:
        """``data`` (None: gone) into the bulletins' read model now, then ``write()`` made;
        if it fails or is refused, the model set back to what the bucket holds."""

        async def stored() -> Stored:
            found = await self.bulletins.get(key)
            return (self.bulletins.encode(found.value), found.revision) if found else (None, None)

        return self.bulletin_writes.write(key, data, write, stored)

    async def note_digest_sent(self, member_id: str, due: datetime) -> None:
        await self.digest_sent.put(member_id, due)
        self.last_digests.apply(member_id, self.digest_sent.encode(due))

    def erased_key(self, member_id: str) -> str:
        """The marker's key for a member: a keyed hash of their id (the region's own secret),
        so that the marker, kept for good, holds no id of anyone erased: nobody can tell from
        it whom it is about, while a delivery naming them finds it."""
        known = self.erased_keys.get(member_id)
        if known is not None:  # a fan-out asks for each member's more than once
            return known
        assert self.erasure_secret is not None, "the erasure secret is not loaded"
        key = hmac.new(self.erasure_secret, member_id.encode(), hashlib.sha256).hexdigest()
        self.erased_keys[member_id] = key
        return key

    def home_of(self, member_id: str, said: str) -> str:
        """The member's home region: where an event ``said`` they are homed, unless they moved
        since (from memory)."""
        return self.moved.items.get(member_id, said)

    async def note_home(self, member_id: str, region: str) -> None:
        """The member (who moved) is homed in ``region`` now: in memory at once, then stored."""
        self.moved.items[member_id] = region
        await self.homes.put(member_id, region)

    def is_erased(self, member_id: str) -> bool:
        """Whether the member was erased here (from memory)."""
        return self.erased_key(member_id) in self.gone.items

    async def mark_erased(self, member_id: str, at: datetime) -> None:
        """Note that the member is erased, in memory first (so that no delivery decided
        from here on goes to them), then in the bucket (so that every replica and a restart
        know it). Called before :meth:`forget`: see
        :mod:`~services.notifications.handlers.delivery` for why this order matters."""
        key = self.erased_key(member_id)
        self.gone.items.setdefault(key, at)
        await self.erased.put(key, at)

    async def forget(self, member_id: str, *, shown_as: str = FORMER_MEMBER) -> None:
        """Securely erase everything kept about the member (their inbox and outbox included),
        and rewrite what other members were told about them to say ``shown_as`` (see
        :meth:`rewrite_mentions`). Idempotent."""
        assert self.js is not None, "dead letters are not bound"
        self.erased_keys.pop(member_id, None)
        self.zoned.pop(member_id, None)
        await erase_dead_letters(
            self.js, self.region, Service.NOTIFICATIONS, mentions_id(member_id)
        )
        contact = await self.contact(member_id)
        if contact is not None:  # first, while their contact is there to say what to rewrite
            erased = Erased.of(contact.display_name, contact.email, shown_as=shown_as)
            await self.rewrite_mentions(erased)
        for kv in (self.contacts, self.endpoints, self.preferences, self.audience,
                   self.digest_sent):  # fmt: skip
            await kv.erase(member_id)
        await self._rewrite_bulletins(_without_member(member_id))
        await self.erase_deliveries(member_id)

    async def erase_deliveries(self, member_id: str) -> None:
        """Securely erase what was delivered to the member or waits for them: their inbox
        (items and their read state), outbox, held pushes, digest items and budget counts.
        Idempotent."""
        for kv in (self.held, self.digest, self.inbox_state, self.budget):
            await kv.erase_prefix(f"{member_id}.")
        await self.erase_inbox(member_id)
        assert self.js is not None, "outbox is not bound"
        outbox = Streams(self.region).outbox
        await erase_messages(self.js, outbox, outbox_subject(self.region, member_id),
                             work_queue=True)  # fmt: skip

    async def rewrite_mentions(self, erased: Erased) -> int:
        """Every record that quotes the erased member (other members' inbox items, pushes
        held for quiet hours or waiting in the outbox, digest items) rewritten to speak of a
        former member; the old bytes securely deleted. Returns how many records."""
        assert self.js is not None, "inbox is not bound"
        streams, everyone = Streams(self.region), f"{self.region}.>"
        rewritten = await rewrite_messages(
            self.js, streams.inbox, f"inbox.{everyone}", erased.rewritten_json
        )
        rewritten += await rewrite_messages(self.js, streams.outbox, f"outbox.{everyone}",
                                            erased.rewritten_json, work_queue=True)  # fmt: skip
        for kv in (self.held, self.digest, self.ledger):
            rewritten += await kv.rewrite_all(erased.rewritten_json)
        rewritten += await self._rewrite_bulletins(erased.rewritten_json)
        rewritten += await rewrite_dead_letters(self.js, self.region, Service.NOTIFICATIONS,
                                                erased.rewritten_json)  # fmt: skip
        return rewritten

    async def _rewrite_bulletins(self, rewrite: Callable[[bytes], bytes | None]) -> int:
        """Every bulletin ``rewrite`` changes, in memory at once and then erased and written
        again (:meth:`_replace_bulletin`): a digest built meanwhile lists it, rewritten.
        Returns how many."""
        changed = 0
        async for key, held in self.bulletins.items():
            rewritten = rewrite(self.bulletins.encode(held.value))
            if rewritten is None:
                continue
            await self._write_bulletin(
                key, rewritten, lambda k=key, r=rewritten: self._replace_bulletin(k, r)
            )
            changed += 1
        return changed

    async def _replace_bulletin(self, key: str, data: bytes) -> int:
        """Erase the bulletin (every revision), then store ``data`` as it: the purge marker
        makes a restarting read model replace its snapshot (which may hold the old bytes), as
        a rewrite in place would not."""
        await self.bulletins.erase(key)
        return await self.bulletins.put_raw(key, data)

    async def bind_inbox(self, js: JetStreamContext) -> None:
        self.js = js

    async def erase_inbox(self, member_id: str) -> int:
        assert self.js is not None, "inbox is not bound"
        stream, subject = Streams(self.region).inbox, inbox_subject(self.region, member_id)
        return await erase_messages(self.js, stream, subject)

    async def member_endpoints(self, member_id: str) -> MemberEndpoints:
        found = await self.endpoints.get(member_id)
        return found.value if found else MemberEndpoints(member_id)

    async def endpoint(self, member_id: str, endpoint_id: str) -> Endpoint | None:
        return (await self.member_endpoints(member_id)).get(endpoint_id)

    async def save_endpoint(self, member_id: str, endpoint: Endpoint) -> None:
        await self.change_endpoints(member_id, lambda held: held.with_endpoint(endpoint))

    async def change_endpoint(
        self, member_id: str, endpoint_id: str, change: Callable[[Endpoint], Endpoint]
    ) -> Endpoint | None:
        """Change one endpoint as it is now; the endpoint changed, or None if there is none
        (it was removed meanwhile)."""

        def changed(held: MemberEndpoints) -> MemberEndpoints:
            endpoint = held.get(endpoint_id)
            return held.with_endpoint(change(endpoint)) if endpoint else held

        return (await self.change_endpoints(member_id, changed)).get(endpoint_id)

    async def change_endpoints(
        self, member_id: str, change: Callable[[MemberEndpoints], MemberEndpoints]
    ) -> MemberEndpoints:
        """Apply ``change`` to the member's endpoints, again if someone changed them meanwhile
        (the self-service API and the delivery worker both write them)."""
        changed = await self.endpoints.change(
            member_id, lambda held: change(held or MemberEndpoints(member_id))
        )
        assert changed is not None
        self.reach.apply(member_id, self.endpoints.encode(changed))
        return changed

    async def contact(self, member_id: str) -> Contact | None:
        found = await self.contacts.get(member_id)
        return found.value if found else None

    async def inbox_items(self, member_id: str) -> list[tuple[int, InboxItem]]:
        """Every item in the member's inbox with its position (where it was first stored; an
        item rewritten after an erasure keeps its place), oldest first."""
        assert self.js is not None, "inbox reader is not bound"
        stream, subject = Streams(self.region).inbox, inbox_subject(self.region, member_id)
        found = [
            (position(sequence, headers), InboxItem.model_validate_json(data))
            async for sequence, _, headers, data in scan(self.js, stream, subject)
        ]
        return sorted(found, key=lambda held: held[0])
