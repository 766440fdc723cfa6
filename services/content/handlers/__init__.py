"""Content's use cases: reactions to events, commands, queries, the weekly pulse."""

from services.content.store.buckets import ContentStore
from shared.handlers import Deps as SharedDeps

Deps = SharedDeps[ContentStore]
