"""Several regions on loopback: one nats-server per region, each its own JetStream domain,
joined as leaf nodes to a hub that runs no JetStream (as ``deploy/nats/`` joins them).

Every server runs in operator mode with the same authority, so one credential is good in its
region and the regions' JetStream APIs reach each other through the hub (``$JS.<region>.API``):
each region's ``EVENTS`` stream sources the others' public events through it. The link itself
carries only that (:func:`shared.access.leaf`): personal data, inboxes, ingest and requests
stay in their region. A region cut off from the hub keeps working alone and its streams catch
up when the link returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from guild_cli.nats_server import LOOPBACK, EmbeddedNats, LeafRemote
from guild_cli.receivers import free_port
from shared import access
from shared.credentials import Authority, write_private
from shared.naming import check_region


class LoopbackRegions:
    """The hub and one server per region, in ``folder``; started in that order."""

    def __init__(
        self,
        folder: Path,
        regions: Sequence[str],
        authority: Authority,
        *,
        die_with_parent: bool = False,
    ) -> None:
        self.folder, self.authority = folder, authority
        self.regions = [check_region(r) for r in regions]
        self.leaf_port = free_port()
        self.hub = EmbeddedNats(
            folder / "hub",
            server_name="guild-hub",
            jetstream=False,
            leaf_port=self.leaf_port,
            die_with_parent=die_with_parent,
            authority=authority,
        )
        folder.mkdir(parents=True, exist_ok=True)
        link = write_private(folder / "leaf.creds", authority.issue(access.leaf()))
        remote = LeafRemote(f"nats-leaf://{LOOPBACK}:{self.leaf_port}", link, authority.account_key)
        self.servers = {
            region: EmbeddedNats(
                folder / region,
                server_name=f"guild-{region}",
                domain=region,
                leaf_remote=remote,
                die_with_parent=die_with_parent,
                authority=authority,
            )
            for region in self.regions
        }

    def start(self) -> LoopbackRegions:
        self.hub.start()
        for server in self.servers.values():
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.hub.stop()

    def url(self, region: str) -> str:
        return self.servers[region].url

    def admin_credentials(self, region: str) -> Path:
        found = self.servers[region].admin_credentials
        assert found is not None, "the servers run with an authority"
        return found

    def __enter__(self) -> LoopbackRegions:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
