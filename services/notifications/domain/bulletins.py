"""A post to a whole audience (a question to its community, the followers of its tags and
the people it mentions), kept once for every digest it goes into.

The members who hear of a post and what each is told follow from the post and from who they
are (their communities, the tags they follow: :class:`~services.notifications.domain
.audience.Audience`), so nothing of it is kept per member: each member's notification is
made from the :class:`Bulletin` when the event is routed, and again when their digest is
built, with their preferences of then (:func:`notification_for`)."""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime

from services.notifications.domain.audience import Audience
from services.notifications.domain.model import (
    Notification,
    Post,
    Reason,
    Recipient,
    question_topic,
)

EXCERPT = 280
"""Characters of the question's text quoted in a message about it."""


@dataclass(frozen=True)
class Bulletin:
    """A question posted to a community, once, as every member hears of it."""

    cause_id: str
    cause_type: str
    at: datetime
    """When it was routed: the digest slot it goes into follows from it."""
    question_id: str
    community_id: str
    community_name: str
    private: bool
    """Only the community's members hear of it."""
    asker_id: str
    asker: str
    """The asker as members are shown them (rewritten if they are erased)."""
    title: str
    tags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    """Member ids the question mentions (as ``@member_id``)."""
    text: str = ""
    """The question's text as messages quote it (:func:`quoted`)."""

    @property
    def topic(self) -> str:
        return question_topic(self.question_id)

    @property
    def post(self) -> Post:
        return Post.question(self.question_id, self.community_id)

    def forgetting(self, member_id: str) -> Bulletin:
        """Without the member's id (they were erased): no longer mentioned nor the asker."""
        return Bulletin(
            **{
                **self.__dict__,
                "mentions": tuple(m for m in self.mentions if m != member_id),
                "asker_id": "" if self.asker_id == member_id else self.asker_id,
            }
        )


def reasons_for(bulletin: Bulletin, person: Audience | None) -> tuple[Reason, ...]:
    """Why the member hears of it (none: they do not), the most specific first."""
    if person is None or person.member_id == bulletin.asker_id:
        return ()
    in_community = bulletin.community_id in person.communities
    if bulletin.private and not in_community:
        return ()  # private content reaches the community's members only
    reasons = []
    if person.member_id in bulletin.mentions:
        reasons.append(Reason("mention", f"{bulletin.asker_id} mentioned you"))
    reasons += [Reason(f"tag:{t}", f"you follow {t}") for t in bulletin.tags
                if t in person.interests]  # fmt: skip
    if in_community:
        reasons.append(Reason(f"community:{bulletin.community_id}",
                              f"you are a member of {bulletin.community_name}"))  # fmt: skip
    return tuple(reasons)


def notification_for(
    bulletin: Bulletin, person: Audience | None, region: str, excerpt: str = ""
) -> Notification | None:
    """The member's notification of the question (None: they do not hear of it); ``excerpt``
    of its text for the body (a digest lists the title only)."""
    found = notifications_for(bulletin, [person], region, excerpt)
    return found[0] if found else None


@dataclass(frozen=True)
class _Wording:
    """What every member's notification of one bulletin says, worded once."""

    mention_title: str
    new_question: tuple[str, str]
    headline: str
    body: str
    posts: tuple[Post, ...]
    topic: str

    @classmethod
    def of(cls, bulletin: Bulletin, excerpt: str) -> _Wording:
        community = bulletin.community_name
        return cls(
            mention_title=f"{bulletin.asker} mentioned you in {community}: {bulletin.title}",
            new_question=("new_question", f"New question in {community}: {bulletin.title}"),
            headline=f"A question in {community}",
            body=f"{bulletin.asker} asked: {bulletin.title}\n\n{excerpt}",
            posts=(bulletin.post,),
            topic=bulletin.topic,
        )


def notifications_for(
    bulletin: Bulletin, people: Iterable[Audience | None], region: str, excerpt: str = ""
) -> list[Notification]:
    """:func:`notification_for` each of ``people`` who hears of it (the wording made once)."""
    wording, found = _Wording.of(bulletin, excerpt), []
    for person in people:
        reasons = reasons_for(bulletin, person)
        if person is None or not reasons:
            continue
        mention = reasons[0].key == "mention"
        found.append(Notification(
            recipient=Recipient(person.member_id, region),
            kind="mention" if mention else wording.new_question[0],
            title=wording.mention_title if mention else wording.new_question[1],
            general=wording.new_question if mention else None,
            headline=wording.headline,
            body=wording.body,
            reasons=reasons,
            community_id=bulletin.community_id,
            posts=wording.posts,
            topic=wording.topic,
            for_me=any(not r.key.startswith("community:") for r in reasons),
        ))  # fmt: skip
    return found


def quoted(text: str) -> str:
    """The question's text as a message quotes it."""
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "..."


def audience_of(
    bulletin: Bulletin,
    by_community: dict[str, set[str]],
    by_tag: dict[str, set[str]],
    known: Container[str],
) -> set[str]:
    """Who may hear of it: its community's members, its tags' followers, the members it
    mentions (of those ``known`` here); :func:`reasons_for` says who does."""
    candidates = set(by_community.get(bulletin.community_id, ()))
    for tag in bulletin.tags:
        candidates |= by_tag.get(tag, set())
    candidates |= {member for member in bulletin.mentions if member in known}
    candidates.discard(bulletin.asker_id)
    return candidates


@dataclass(frozen=True)
class Part:
    """Some of a bulletin's audience, routed on its own: a large fan-out is split into parts
    that each finish well within the time a consumer waits for an ack, and a crash repeats
    only the part it interrupted."""

    cause_id: str
    cause_type: str
    bulletin: str
    """The bulletin's key."""
    number: int
    """From 1 (0 is what the event's own handler routes: the people it mentions)."""
    members: tuple[str, ...]


def parts_of(bulletin: Bulletin, key: str, members: list[str], size: int) -> list[Part]:
    """``members`` in parts of at most ``size``, numbered from 1."""
    return [
        Part(bulletin.cause_id, bulletin.cause_type, key, number, tuple(members[at : at + size]))
        for number, at in enumerate(range(0, len(members), size), start=1)
    ]
