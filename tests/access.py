"""Authorization in the suite: every nats-server it starts runs in operator mode, as `guild up`'s.

One :data:`AUTHORITY` for the test session signs every credential, so a credential is good on
any server the suite starts (the session's and a test's own). The suite's own client (the
``nc`` fixture, the world outside Guild in most tests) is the provisioning ``admin``; each
service started in-process connects with a credential issued from its own grants
(:meth:`shared.runtime.ServiceApp.grants`) just before it starts, as in production, after
the admin provisioned what it declares; each seals with :data:`SEALING_KEYS`. A test that
sets ``NATS_URL`` (a server of its own without authorization) runs without credentials, as
before.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client

from shared import access
from shared.access import Grants
from shared.credentials import Authority, connection_options, write_private
from shared.messaging.provisioning import apply
from shared.runtime import ServiceApp
from shared.sealing import KEYS_FILE_VARIABLE, Keyring, keyring_file

AUTHORITY = Authority.create()
FOLDER = Path(tempfile.mkdtemp(prefix="guild-test-identities-"))
ADMIN = write_private(FOLDER / "admin.creds", AUTHORITY.issue(access.admin()))
SEALING_KEYS = keyring_file(FOLDER / "sealing.keys")
"""The suite's sealing keys, which every service it starts (in-process or not) seals with."""
os.environ.setdefault(KEYS_FILE_VARIABLE, str(SEALING_KEYS))
KEYRING = Keyring.read(SEALING_KEYS)
"""The suite's sealing keys, for stores a test builds itself."""
_numbers = itertools.count(1)
enabled = True
"""Whether the suite's servers authorize (False where ``NATS_URL`` names another server)."""


def admin_options(own_server: bool = False) -> dict[str, Any]:
    """nats-py ``connect`` options of the admin: none on the session's server when it does not
    authorize; a test's ``own_server`` always does."""
    return connection_options(ADMIN) if enabled or own_server else {}


async def connect(url: str, *, own_server: bool = False, **options: Any) -> Client:
    """A client of the suite's, as the admin."""
    return await nats.connect(url, **{**admin_options(own_server), **options})


def credentials_for(service: str, region: str) -> Path | None:
    """Where the credential of one service app of ``region`` will be (issued by
    :func:`prepare` from the app's grants); None without authorization."""
    if not enabled:
        return None
    return FOLDER / f"{service}-{region}-{next(_numbers)}.creds"


def issue(grants: Grants, path: Path | None = None) -> Path:
    """A credential for ``grants`` (at ``path``, or a new file)."""
    target = path or FOLDER / f"{grants.identity}-{grants.region}-{next(_numbers)}.creds"
    return write_private(target, AUTHORITY.issue(grants))


async def prepare(app: ServiceApp) -> None:
    """Before ``app`` starts: provision what it declares as the admin (unless its settings
    say an operator provisions) and issue its credential from its grants."""
    credentials = app.settings.nats_credentials
    if credentials is None or credentials.parent != FOLDER:
        return
    if app.settings.provision:
        admin = await connect(app.settings.nats_url)
        try:
            await apply(admin.jetstream(), app.topology)
        finally:
            await admin.close()
        app.settings = app.settings.model_copy(update={"provision": False})
    issue(app.grants(), credentials)


async def service_environments(
    url: str, region: str, *, own_server: bool = False
) -> dict[str, dict[str, str]]:
    """For services run as processes (``python -m services.<name>``) in ``region``: the region
    provisioned as the admin, and each service's environment (its credential, provisioning
    off). Empty environments on the session's server when it does not authorize (the services
    provision themselves); a test's ``own_server`` always does."""
    from tests.slice import all_services  # the four services' wiring, built to ask their grants

    if not (enabled or own_server):
        return {}
    apps = all_services(region, url, nats_credentials=None)
    admin = await connect(url, own_server=True)
    try:
        for app in apps:
            await apply(admin.jetstream(), app.topology)
    finally:
        await admin.close()
    return {
        app.service.value: {
            "GUILD_NATS_CREDENTIALS": str(issue(app.grants())),
            "GUILD_PROVISION": "false",
        }
        for app in apps
    }


def operator_environment(region: str, *, own_server: bool = False) -> dict[str, str]:
    """The environment of a ``guild`` command run by the suite: the operator's credential for
    ``region`` (none on the session's server when it does not authorize)."""
    if not (enabled or own_server):
        return {}
    return {
        "GUILD_NATS_CREDENTIALS": str(issue(access.without_management(access.operator(region))))
    }
