"""The identities of a region, issued from the authority kept in a data directory.

``<data dir>/identities/`` holds the operator and account keys (:class:`Authority`) and one
credentials file per identity and region (``<identity>-<region>.creds``), each readable by
its owner only. The services' permissions come from the services themselves
(``python -m services.<name> grants``: what each declares it consumes, stores, publishes and
answers); the publishing systems' from the ingest contracts; the operator's CLI has its own.
Issuing again (each ``guild up``) replaces every file with a fresh key, so a permission that
changed with the code is in force at the next start.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from shared import access
from shared.access import Grants
from shared.credentials import Authority, CredentialsError, write_private
from shared.naming import Service

SERVICES = tuple(Service)
Env = dict[str, str] | None


class Identities:
    """The authority of one data directory and the credentials it issued."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.authority = Authority.load_or_create(folder)

    def path(self, identity: str, region: str) -> Path:
        return self.folder / f"{identity}-{region}.creds"

    @staticmethod
    def path_in(data_dir: Path, identity: str, region: str) -> Path:
        """Where ``guild up`` on ``data_dir`` keeps ``identity``'s credential for ``region``."""
        return data_dir / "identities" / f"{identity}-{region}.creds"

    def issue(self, grants: Grants) -> Path:
        """Write a fresh credential for ``grants``; its path."""
        path = self.path(grants.identity, grants.region)
        return write_private(path, self.authority.issue(grants))

    async def grants_of(self, name: str, region: str) -> Grants:
        """The grants of one identity: a service (asked), a publishing system, the operator
        or the admin; those of a region's other identities' durables denied."""
        if name == access.ADMIN:
            return access.admin()
        services = await asyncio.gather(*(service_grants(s, region) for s in SERVICES))
        others = [access.operator(region), *access.publishers(region)]
        for grants in access.region_grants(services, others):
            if grants.identity == name:
                return grants
        known = [s.value for s in SERVICES] + ["operator", *access.PUBLISHERS, access.ADMIN]
        raise CredentialsError(f"no identity {name!r}: one of {', '.join(known)}")

    async def issue_region(self, region: str, env: Env = None) -> dict[str, Path]:
        """Credentials for every identity of ``region``: the four services, the publishing
        systems and the operator's CLI."""
        services = await asyncio.gather(*(service_grants(s, region, env) for s in SERVICES))
        others = [access.operator(region), *access.publishers(region)]
        return {g.identity: self.issue(g) for g in access.region_grants(services, others)}


async def service_grants(service: Service, region: str, env: Env = None) -> Grants:
    """What ``service`` declares it needs in ``region``, asked of the service itself."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"services.{service.value}", "grants",
        env={**(env if env is not None else os.environ), "GUILD_REGION": region},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise CredentialsError(f"{service.value} could not say what it needs: {last}")
    return Grants.from_json(json.loads(out))
