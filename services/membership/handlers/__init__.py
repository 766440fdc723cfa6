"""Membership's use cases: reactions to events, commands and queries."""

from services.membership.store.buckets import MembershipStore
from shared.handlers import Deps as SharedDeps

Deps = SharedDeps[MembershipStore]
