"""Every public event contract of Guild, one module per owning service.

Importing this package registers all contracts in :data:`REGISTRY` (type name -> class).
"""

from shared.contracts import content, ingest, matching, membership, notifications
from shared.contracts.base import REGISTRY, Contract, Payload, Request

__all__ = [
    "REGISTRY",
    "Contract",
    "Payload",
    "Request",
    "content",
    "ingest",
    "matching",
    "membership",
    "notifications",
]
