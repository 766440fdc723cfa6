"""Content's use cases: reactions to events, commands and queries."""

from services.content.store.buckets import ContentStore
from shared.handlers import Deps as SharedDeps

Deps = SharedDeps[ContentStore]
