"""The base of every event contract and the registry of all of them."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.naming import Scope, event_subject

_VERSIONED_TYPE = re.compile(r"^guild\.[a-z0-9_.]+\.v[0-9]+$")

REGISTRY: dict[str, type[Contract]] = {}
"""Every event contract, by its type name."""


class Contract(BaseModel):
    """A public event contract: frozen, every field described, versioned in its type name.

    Within a version, changes are additive only; consumers ignore fields they do not know.
    A breaking change is a new class with the next version, published side by side.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    """The CloudEvents ``type``, e.g. ``guild.membership.member_joined.v1``."""
    SCOPE: ClassVar[Scope]
    """Where events of this type may travel, which decides their subject and stream."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("TYPE")
        if event_type is None:
            return  # an intermediate base class
        if not _VERSIONED_TYPE.match(event_type):
            raise TypeError(f"{cls.__name__}.TYPE {event_type!r} must look like guild.<...>.v<N>")
        if event_type in REGISTRY:
            raise TypeError(f"{event_type} is defined twice: {REGISTRY[event_type]} and {cls}")
        REGISTRY[event_type] = cls

    @classmethod
    def subject_in(cls, region: str, key: str | None = None) -> str:
        """The subject this event is published on in ``region``."""
        return event_subject(region, cls.SCOPE, cls.TYPE, key)


class Payload(BaseModel):
    """A value inside a contract (not an event on its own)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Request(BaseModel):
    """Base of commands and queries: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Chosen by the client. A command repeated with the same request_id (within "
        "24 hours) returns the first reply and changes nothing; with a different payload it is "
        "refused as a conflict.",
    )
