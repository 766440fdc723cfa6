"""The identities of a region, issued from the authority kept in a data directory.

``<data dir>/identities/`` holds the operator and account keys (:class:`Authority`) and one
credentials file per identity and region (``<identity>-<region>.creds``), each readable by
its owner only. The services' permissions come from the services themselves (what each
declares it consumes, stores, publishes and answers, printed by ``python -m services.<name>
provision`` once it has provisioned, or by ``grants``); the publishing systems' from the
ingest contracts; the operator's CLI has its own.
Issuing again (each ``guild up``) replaces every file with a fresh key, so a permission that
changed with the code is in force at the next start.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from guild_cli.provisioning import ask_service
from shared import access
from shared.access import Grants
from shared.credentials import Authority, CredentialsError, write_private
from shared.naming import Service
from shared.publishers import PUBLISHERS


class Identities:
    """The authority of one data directory and the credentials it issued."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.authority = Authority.load_or_create(folder)

    def path(self, identity: str, region: str) -> Path:
        return self.folder / _file_name(identity, region)

    @staticmethod
    def path_in(data_dir: Path, identity: str, region: str) -> Path:
        """Where ``guild up`` on ``data_dir`` keeps ``identity``'s credential for ``region``."""
        return data_dir / "identities" / _file_name(identity, region)

    def issue(self, grants: Grants) -> Path:
        """Write a fresh credential for ``grants``; its path."""
        path = self.path(grants.identity, grants.region)
        return write_private(path, self.authority.issue(grants))

    async def grants_of(self, name: str, region: str) -> Grants:
        """The grants of one identity: a service (asked), a publishing system, the operator,
        the admin or a region's leaf node link; those of a region's other identities'
        durables denied."""
        if name == access.ADMIN:
            return access.admin()
        if name == "leaf":
            return access.leaf()
        env = {**os.environ, "GUILD_REGION": region}
        services = await asyncio.gather(*(ask_service(s, "grants", env) for s in Service))
        for grants in every_identity(region, services):
            if grants.identity == name:
                return grants
        known = [s.value for s in Service] + ["operator", *PUBLISHERS, access.ADMIN, "leaf"]
        raise CredentialsError(f"no identity {name!r}: one of {', '.join(known)}")

    def issue_region(self, region: str, services: Sequence[Grants]) -> dict[str, Path]:
        """Credentials for every identity of ``region``: the four services (``services``:
        what each said it needs, as it provisioned), the publishing systems and the
        operator's CLI."""
        return {g.identity: self.issue(g) for g in every_identity(region, services)}


def every_identity(region: str, services: Sequence[Grants]) -> list[Grants]:
    """The services' grants and the operator's and publishing systems', each durable kept to
    its owner."""
    return access.region_grants(services, [access.operator(region), *access.publishers(region)])


def _file_name(identity: str, region: str) -> str:
    return f"{identity}-{region}.creds"
