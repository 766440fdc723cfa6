"""``guild``: start Guild on the embedded default, inspect it, publish, replay dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from guild_cli.client import GuildClient, GuildError
from guild_cli.dead_letters import Letter, Selection, letters_json, read_letters, replay
from guild_cli.demo import DemoRegions, member_of, run_once, seed
from guild_cli.demo_deliveries import DemoDeliveries
from guild_cli.identities import Identities
from guild_cli.nats_server import EmbeddedNats, NatsServerError
from guild_cli.provisioning import (
    PEERS_VARIABLE,
    peers_from,
    provision_region,
    provision_streams,
)
from guild_cli.receivers import free_port
from guild_cli.regions import LoopbackRegions
from guild_cli.state import (
    DEFAULT_DATA_DIR,
    DataDirLock,
    RunningGuild,
    data_dir_or_default,
    running_guild,
    state_file,
    write_state,
)
from guild_cli.supervisor import SERVICES, Supervisor
from shared.bounded_json import UnreadableJson, load_json
from shared.contracts.notifications import NotificationDeliveredV1
from shared.credentials import (
    CredentialsError,
    credentials_from_environment,
    decode_jwt,
    read_creds_jwt,
    write_private,
)
from shared.messaging.replay import ReplayMark
from shared.naming import Service, Streams, check_region
from shared.publishers import PUBLISHERS
from shared.sealing import (
    HANDOVER_KEYS_VARIABLE,
    SealingError,
    add_key,
    drop_key,
    keyring_file,
)

app = typer.Typer(
    help="Guild: Communities of Practice on NATS JetStream. Start it, inspect it, operate it.",
    no_args_is_help=True,
    add_completion=False,
)
dlq_app = typer.Typer(help="The dead-letter stream: what could not be processed, and why.")
app.add_typer(dlq_app, name="dlq")
eval_app = typer.Typer(help="Measure Guild's matching on recorded data.")
app.add_typer(eval_app, name="eval")
identity_app = typer.Typer(
    help="NATS identities: credentials for the services, the publishing systems and the CLI."
)
app.add_typer(identity_app, name="identity")
sealing_app = typer.Typer(
    help="The keys that seal secrets and addresses at rest (see docs/security.md)."
)
app.add_typer(sealing_app, name="sealing-key")
console = Console()

DEFAULT_REGION = "local"
DataDir = Annotated[
    Path, typer.Option("--data-dir", envvar="GUILD_DATA_DIR", help="Where state is kept.")
]
Region = Annotated[
    str, typer.Option("--region", envvar="GUILD_REGION", help="The deployment's region.")
]
NatsUrl = Annotated[
    str | None,
    typer.Option("--nats-url", envvar="NATS_URL", help="NATS to talk to (default: guild up's)."),
]
ClientDataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="GUILD_DATA_DIR",
        help="The data directory of the `guild up` to talk to (default .guild).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _version(shown: bool) -> None:
    if shown:
        print(f"guild {version('guild')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Guild: Communities of Practice on NATS JetStream. Start it, inspect it, operate it."""


def _resolve_url(url: str | None, data_dir: Path | None = None) -> str:
    """The NATS to talk to: ``url`` if given, else that of the ``guild up`` running on
    ``data_dir`` (``GUILD_DATA_DIR``, ``.guild``); exits with one line if none runs there."""
    if url:
        return url
    folder = data_dir_or_default(data_dir).resolve()
    running = running_guild(folder)
    if running is None:
        raise _fail(
            f"Guild is not running on {folder} (start it with `guild up`, or give "
            "--data-dir or --nats-url)"
        )
    return running.nats_url


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _fail(message: str, code: int = 1) -> typer.Exit:
    """One line on stderr, whatever the terminal's width; the caller raises the exit."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def _credentials(data_dir: Path | None, region: str) -> Path | None:
    """The CLI's NATS credentials: ``GUILD_NATS_CREDENTIALS`` if set, else the operator's of
    the ``guild up`` on ``data_dir`` (issued at its start), else none."""
    if given := credentials_from_environment():
        return given
    issued = Identities.path_in(data_dir_or_default(data_dir).resolve(), "operator", region)
    return issued if issued.exists() else None


async def _with_client(url: str, region: str, work: Any, credentials: Path | None) -> Any:
    client = await GuildClient.connect(url, region, credentials)
    try:
        return await work(client)
    finally:
        await client.close()


def _run(url: str, region: str, work: Any, data_dir: Path | None = None) -> Any:
    """Run ``work(client)``; any failure is one line on stderr and exit code 1."""
    return _at_the_edge(_with_client(url, region, work, _credentials(data_dir, region)))


def _running_regions(nats_url: str | None, data_dir: Path | None) -> dict[str, str] | None:
    """Each region's NATS of the ``guild up --regions`` on ``data_dir``, unless a URL is given."""
    running = running_guild(data_dir_or_default(data_dir).resolve())
    if nats_url is None and running is not None and running.regions:
        return running.regions
    return None


def _at_the_edge(work: Any) -> Any:
    """Run the coroutine ``work``; any failure is one line on stderr and exit code 1."""
    try:
        return asyncio.run(work)
    except GuildError as error:
        raise _fail(str(error)) from None
    except Exception as error:  # the CLI's edge: one line, never a traceback
        raise _fail(f"{type(error).__name__}: {error}") from None


STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """A stop signal (a closed terminal, Ctrl-C, SIGTERM) arrived before the services ran."""


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def _on_stop_signals(handler: Any) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)


def _say(text: str) -> None:
    """Print, unless the terminal is gone (after SIGHUP): stopping must go on regardless."""
    with contextlib.suppress(OSError):
        console.print(text)


@app.command()
def up(
    demo: Annotated[
        bool, typer.Option(help="Seed demo data and show a new member and question.")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    region: Region = DEFAULT_REGION,
    nats_port: Annotated[int, typer.Option(help="NATS client port (0: any free port).")] = 4222,
    http: Annotated[bool, typer.Option(help="Serve each service's /healthz and /readyz.")] = True,
    regions: Annotated[
        str | None,
        typer.Option(
            help="Several regions, comma-separated (e.g. eu,us,apac): a nats-server per region "
            "(its own JetStream domain) behind a hub, and the four services in each."
        ),
    ] = None,
) -> None:
    """Start NATS (JetStream on local disk) and the four services; Ctrl-C, SIGTERM or closing
    the terminal stops everything, the services first."""
    check_region(region)
    data_dir = data_dir.resolve()
    names = _region_names(regions) if regions else [region]
    lock = DataDirLock(data_dir)
    if not lock.acquire():
        held = lock.holder()
        raise _fail(
            f"Guild is already running on {data_dir} (pid {held.get('pid', '?')}, NATS "
            f"{held.get('nats_url', '?')}); stop it first, or use another --data-dir"
        )
    _on_stop_signals(_interrupt)
    identities = Identities(data_dir / "identities")
    if len(names) > 1:
        _up_regions(names, data_dir, identities, lock, http=http, demo=demo)
    server = EmbeddedNats(
        data_dir / "nats", port=nats_port, die_with_parent=True, authority=identities.authority
    )
    supervisor: Supervisor | None = None
    code = 1
    try:
        if nats_port and not _port_free(nats_port):
            console.print(f"port {nats_port} is taken; NATS will use a free port instead")
            server.port = 0
        with console.status("starting nats-server (JetStream on local disk) ..."):
            server.start()
        lock.record(nats_url=server.url)
        with console.status("provisioning the region and issuing its identities ..."):
            assert server.admin_credentials is not None
            needs = asyncio.run(provision_region(server.url, region, server.admin_credentials))
            credentials = identities.issue_region(region, needs)
        ports = {service: free_port() for service in SERVICES} if http else {}
        supervisor = Supervisor(
            server.url,
            region,
            data_dir,
            http_ports=ports,
            credentials=credentials,
            sealing_keys=keyring_file(data_dir / "sealing.keys"),
        )
        code = asyncio.run(_up([supervisor], data_dir, demo))
    except (NatsServerError, GuildError, CredentialsError) as error:
        _say(f"[red]error:[/] {error}")
    except Interrupted as interrupted:
        _say(f"{interrupted} received while starting")
    finally:
        _on_stop_signals(signal.SIG_IGN)  # the stop below is not to be cut short
        _stop(supervisor, server, data_dir)
        lock.release()
    raise typer.Exit(code)


def _region_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        checked = [check_region(name) for name in names]
    except ValueError as error:
        raise _fail(str(error)) from None
    if len(set(checked)) != len(checked) or not checked:
        raise _fail(f"--regions {text!r}: name each region once")
    return checked


def _up_regions(
    names: list[str], data_dir: Path, identities: Identities, lock: DataDirLock, *,
    http: bool, demo: bool,
) -> NoReturn:  # fmt: skip
    """``guild up --regions``: the hub and a server per region, each region provisioned with
    the others as its peers and its identities issued, then the four services in each."""
    topology = LoopbackRegions(data_dir / "regions", names, identities.authority,
                               die_with_parent=True)  # fmt: skip
    supervisors: list[Supervisor] = []
    code = 1
    try:
        with console.status(
            f"starting a hub and a nats-server per region ({', '.join(names)}) ..."
        ):
            topology.start()
        lock.record(nats_url=topology.url(names[0]))
        with console.status("creating every region's streams ..."):
            for name in names:
                asyncio.run(provision_streams(topology.url(name), name,
                                              topology.admin_credentials(name)))  # fmt: skip
        handover_keys = keyring_file(data_dir / "handover.keys", "h1")  # every region's
        for name in names:
            peers = [peer for peer in names if peer != name]
            with console.status(f"provisioning {name} and issuing its identities ..."):
                admin = topology.admin_credentials(name)
                needs = asyncio.run(provision_region(topology.url(name), name, admin, peers=peers))
            supervisors.append(Supervisor(
                topology.url(name), name, data_dir / name,
                http_ports={s: free_port() for s in SERVICES} if http else {},
                extra_env={PEERS_VARIABLE: json.dumps(peers),
                           HANDOVER_KEYS_VARIABLE: str(handover_keys)},
                credentials=identities.issue_region(name, needs),
                sealing_keys=keyring_file(data_dir / name / "sealing.keys"),
            ))  # fmt: skip
        code = asyncio.run(_up(supervisors, data_dir, demo))
    except (NatsServerError, GuildError, CredentialsError) as error:
        _say(f"[red]error:[/] {error}")
    except Interrupted as interrupted:
        _say(f"{interrupted} received while starting")
    finally:
        _on_stop_signals(signal.SIG_IGN)
        _say("stopping the services, then NATS ...")
        for supervisor in supervisors:
            supervisor.stop_all()
        topology.stop()
        state_file(data_dir).unlink(missing_ok=True)
        lock.release()
        _say(f"stopped; state kept in {data_dir}")
    raise typer.Exit(code)


def _stop(supervisor: Supervisor | None, server: EmbeddedNats, data_dir: Path) -> None:
    """The services first, each waited for (killed after a grace period); NATS last."""
    _say("stopping the services, then NATS ...")
    exits = supervisor.stop_all() if supervisor is not None else {}
    server.stop()
    state_file(data_dir).unlink(missing_ok=True)
    _say(f"stopped: {', '.join(f'{n} (exit {c})' for n, c in exits.items())}, nats")
    _say(f"state kept in {data_dir}; `guild up` again carries on from it")


def _write_state(supervisors: list[Supervisor], data_dir: Path) -> None:
    """What the client commands read: the first region's NATS and every region's."""
    first = supervisors[0]
    services = {f"{s.region}/{n}" if len(supervisors) > 1 else n: pid
                for s in supervisors for n, pid in s.pids().items()}  # fmt: skip
    regions = {s.region: s.nats_url for s in supervisors} if len(supervisors) > 1 else {}
    write_state(
        data_dir, RunningGuild(os.getpid(), first.nats_url, first.region, services, regions)
    )


async def _up(supervisors: list[Supervisor], data_dir: Path, demo: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    clients = [
        await GuildClient.connect(s.nats_url, s.region, s.credentials.get("operator"))
        for s in supervisors
    ]
    first = supervisors[0]
    receivers = DemoDeliveries(first.data_dir / "deliveries", console.print)
    try:
        if demo:
            await receivers.start()
            for supervisor in supervisors:
                supervisor.extra_env |= receivers.env()
        for supervisor in supervisors:
            supervisor.start_all()
        _write_state(supervisors, data_dir)
        with console.status("starting membership, content, matching, notifications ..."):
            for supervisor, each in zip(supervisors, clients, strict=True):
                await _until_ready_or_stopped(supervisor, each, stop)
        if stop.is_set():
            return 0
        for supervisor in supervisors:
            _print_running(supervisor, receivers if demo else None)
        if demo:
            regions = DemoRegions({each.region: each for each in clients})
            with console.status("seeding the demo company (30 people, 4 communities) ..."):
                await seed(regions)
                given = await receivers.configure(regions)
            console.print("[bold]Demo channels:[/] " + ", ".join(given))
            await run_once(regions, console)
        await _tail_until_stopped(clients, supervisors, data_dir, stop)
    except (GuildError, RuntimeError) as error:
        _say(f"[red]error:[/] {error}")
        return 1
    finally:
        for each in clients:
            await each.close()
        await receivers.stop()
    return 0


async def _until_ready_or_stopped(
    supervisor: Supervisor, client: GuildClient, stop: asyncio.Event
) -> None:
    ready = asyncio.create_task(supervisor.wait_ready(client))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({ready, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in (ready, stopped):
        task.cancel()
    if ready.done() and not ready.cancelled():
        ready.result()


def _print_running(supervisor: Supervisor, receivers: DemoDeliveries | None) -> None:
    table = Table(title="Guild is up", show_header=True)
    table.add_column("what")
    table.add_column("where")
    table.add_row("NATS (JetStream)", supervisor.nats_url)
    for child in supervisor.children:
        port = supervisor.http_ports.get(child.service)
        health = f"http://127.0.0.1:{port}/readyz" if port else "-"
        table.add_row(
            child.service.value,
            f"pid {child.process.pid if child.process else '?'}, "
            f"health {health}, log {child.log_path}",
        )
    table.add_row("region", supervisor.region)
    if receivers is not None:
        table.add_row("demo mail sink", f"smtp://127.0.0.1:{receivers.mail.port}")
        table.add_row("demo webhook receiver", receivers.webhook.url)
        table.add_row("deliveries saved in", str(receivers.folder))
    console.print(table)


async def _tail_until_stopped(
    clients: list[GuildClient], supervisors: list[Supervisor], data_dir: Path, stop: asyncio.Event
) -> None:
    async def on_delivered(msg: Any) -> None:
        delivered = NotificationDeliveredV1.model_validate(json.loads(msg.data)["data"])
        console.print(
            f"[green]→[/] {delivered.recipient.member_id} via {delivered.channel}: "
            f"{delivered.title} [dim]({'; '.join(delivered.reasons)})[/]"
        )

    for client in clients:
        subject = NotificationDeliveredV1.subject_in(client.region)
        await client.nc.subscribe(subject, cb=on_delivered)
    _say(
        "Guild is running. New deliveries are shown below. Try, in another terminal: "
        "[bold]./guild status[/], [bold]./guild inbox e1001[/], [bold]./guild demo[/]. "
        "Press Ctrl-C to stop."
    )
    async with httpx.AsyncClient() as probes:
        while not stop.is_set():
            notes = []
            for supervisor in supervisors:
                notes += supervisor.restart_exited() + await supervisor.restart_stuck(probes)
            for note in notes:
                _say(f"[yellow]{note}[/]")
            if notes:
                _write_state(supervisors, data_dir)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


@app.command()
def demo(
    nats_url: NatsUrl = None, region: Region = DEFAULT_REGION, data_dir: ClientDataDir = None
) -> None:
    """Seed the demo company into a running Guild and show a new member and a new question."""

    async def work(regions: DemoRegions) -> None:
        with console.status("seeding the demo company ..."):
            await seed(regions)
        await run_once(regions, console)

    urls = _running_regions(nats_url, data_dir) or {region: _resolve_url(nats_url, data_dir)}
    _at_the_edge(_with_regions(urls, work, data_dir))


async def _with_regions(urls: dict[str, str], work: Any, data_dir: Path | None) -> Any:
    clients = {
        r: await GuildClient.connect(u, r, _credentials(data_dir, r)) for r, u in urls.items()
    }
    try:
        return await work(DemoRegions(clients))
    finally:
        for client in clients.values():
            await client.close()


@app.command()
def status(
    nats_url: NatsUrl = None,
    region: Region = DEFAULT_REGION,
    data_dir: ClientDataDir = None,
    as_json: AsJson = False,
) -> None:
    """Whether each service answers and is consuming (exit code 1 if one does not); with
    ``guild up --regions``, in every region, with the links between them and their lag."""

    async def work(client: GuildClient) -> list[tuple[Service, dict[str, Any] | None]]:
        return [(service, await client.status(service)) for service in SERVICES]

    if (regions := _running_regions(nats_url, data_dir)) is not None:
        _status_of_regions(regions, work, data_dir, as_json)
        return
    results = _run(_resolve_url(nats_url, data_dir), region, work, data_dir)
    if as_json:
        print(json.dumps([_service_state(service, state) for service, state in results]))
    else:
        _print_status(region, results)
    if any(state is None or not state["ready"] for _, state in results):
        raise typer.Exit(1)


def _status_of_regions(
    regions: dict[str, str], work: Any, data_dir: Path | None, as_json: bool
) -> NoReturn:
    """Each region's services, and the links its EVENTS stream sources the others' through:
    how many events it has yet to bring over (lag) and when it last heard from each."""

    async def links(client: GuildClient) -> list[dict[str, Any]]:
        info = await client.nc.jetstream().stream_info(Streams(client.region).events)
        return [
            {"from": source.name, "lag": source.lag, "error": str(source.error or "") or None,
             "last_seen_seconds": round(source.active / 1e9, 3) if source.active else None}
            for source in info.sources or []
        ]  # fmt: skip

    report, healthy = [], True
    for name, url in regions.items():
        results = _run(url, name, work, data_dir)
        sourced = _run(url, name, links, data_dir)
        healthy = healthy and all(state is not None and state["ready"] for _, state in results)
        healthy = healthy and all(link["error"] is None for link in sourced)
        report.append({"region": name, "nats_url": url, "links": sourced,
                       "services": [_service_state(s, state) for s, state in results]})  # fmt: skip
        if not as_json:
            _print_status(name, results)
            table = Table(title=f"links into region {name} (its EVENTS sources)")
            for column in ("from", "lag", "last seen", "error"):
                table.add_column(column)
            for link in sourced:
                seen = link["last_seen_seconds"]
                table.add_row(link["from"], str(link["lag"]),
                              f"{seen:.1f} s ago" if seen is not None else "never",
                              link["error"] or "")  # fmt: skip
            console.print(table)
    if as_json:
        print(json.dumps(report))
    raise typer.Exit(0 if healthy else 1)


def _service_state(service: Service, state: dict[str, Any] | None) -> dict[str, Any]:
    if state is None:
        return {"service": service.value, "answers": False, "ready": False, "consumers": []}
    return {
        "service": service.value,
        "answers": True,
        "ready": bool(state["ready"]),
        "consumers": state["consumers"],
    }


def _print_status(region: str, results: list[tuple[Service, dict[str, Any] | None]]) -> None:
    table = Table(title=f"Guild services in region {region}")
    for column in ("service", "ready", "consumers"):
        table.add_column(column)
    for service, state in results:
        if state is None:
            table.add_row(service.value, "[red]no answer[/]", "")
        else:
            ready = "[green]yes[/]" if state["ready"] else "[yellow]starting[/]"
            table.add_row(service.value, ready, ", ".join(state["consumers"]))
    console.print(table)


@app.command()
def provision(
    nats_url: NatsUrl = None,
    region: Region = DEFAULT_REGION,
    data_dir: ClientDataDir = None,
    peers: Annotated[
        str | None,
        typer.Option(help="Regions this one sources public events from, e.g. us,apac "
                     "(default: GUILD_PEER_REGIONS, as the services read it)."),
    ] = None,
) -> None:  # fmt: skip
    """Create or update the region's streams, then each service's consumers and buckets.

    For deployments where services run with GUILD_PROVISION=false and no admin rights. The
    streams' replicas and retention follow GUILD_STREAM_REPLICAS and GUILD_EVENT_RETENTION_DAYS,
    as the services' buckets and consumers do."""
    url = _resolve_url(nats_url, data_dir)
    try:
        sourced = _region_names(peers) if peers else peers_from(os.environ)
        asyncio.run(provision_region(url, region, _credentials(data_dir, region), peers=sourced))
    except GuildError as error:
        raise _fail(str(error)) from None
    console.print(f"streams of region {region}: {', '.join(Streams(region).all(PUBLISHERS))}")
    if sourced:
        console.print(f"EVENTS_{region.upper()} sources: {', '.join(sourced)}")
    console.print(f"consumers and buckets applied: {', '.join(s.value for s in SERVICES)}")


@app.command()
def inbox(
    member: Annotated[
        str, typer.Argument(help="The member: HR person id (e.g. e1001) or member id.")
    ],
    limit: int = 20,
    nats_url: NatsUrl = None,
    region: Region = DEFAULT_REGION,
    data_dir: ClientDataDir = None,
    as_json: AsJson = False,
) -> None:
    """A member's in-app inbox, newest first."""

    async def work(client: GuildClient) -> Any:
        payload = {"member_id": await _known_member(client, member), "limit": limit}
        return await client.query(Service.NOTIFICATIONS, "inbox", payload)

    page = _run(_resolve_url(nats_url, data_dir), region, work, data_dir)
    if as_json:
        print(json.dumps(page))
        return
    table = Table(title=f"inbox of {member}")
    for column in ("when", "what", "why"):
        table.add_column(column)
    for item in page["items"]:
        table.add_row(
            item["created_at"][:19], f"{item['title']}\n{item['body']}", "; ".join(item["reasons"])
        )
    console.print(table)


async def _known_member(client: GuildClient, member: str) -> str:
    """The member id of ``member``, an HR person id or a member id (an unknown one is said
    so, not shown an empty inbox)."""
    found = await member_of(client, member)
    if found is not None:
        return found
    try:
        await client.query(
            Service.MEMBERSHIP, "get_member", {"viewer_id": member, "member_id": member}
        )
    except GuildError as error:
        if error.code == "not_found":
            raise GuildError(f"member {member!r} is unknown") from None
        raise
    return member


@app.command()
def publish(
    subject: str,
    file: Annotated[Path, typer.Argument(help="A CloudEvent as JSON (structured mode).")],
    nats_url: NatsUrl = None,
    region: Region = DEFAULT_REGION,
    data_dir: ClientDataDir = None,
) -> None:
    """Publish a test event to JetStream; its 'id' becomes the Nats-Msg-Id."""
    if not file.is_file():
        raise _fail(f"no such file: {file}")
    body = file.read_bytes()
    try:
        event_id = str(load_json(body)["id"])
    except (UnreadableJson, KeyError, TypeError):
        raise _fail(f"{file} is not a JSON CloudEvent with an 'id'") from None

    async def work(client: GuildClient) -> int:
        return await client.publish(subject, body, msg_id=event_id)

    sequence = _run(_resolve_url(nats_url, data_dir), region, work, data_dir)
    console.print(f"stored as sequence {sequence}")


@dlq_app.command("list")
def dlq_list(
    limit: int = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    nats_url: NatsUrl = None,
    region: Region = DEFAULT_REGION,
    data_dir: ClientDataDir = None,
) -> None:
    """Dead letters, oldest first, with their reason and whether (and when) they were replayed."""

    async def work(client: GuildClient) -> list[Letter]:
        return (await read_letters(client))[:limit]

    letters = _run(_resolve_url(nats_url, data_dir), region, work, data_dir)
    if as_json:
        typer.echo(letters_json(letters))
        return
    table = Table(title=f"dead letters in region {region}")
    for column in ("seq", "consumer", "event", "deliveries", "reason", "replayed"):
        table.add_column(column)
    for entry in letters:
        letter = entry.letter
        table.add_row(
            str(entry.sequence),
            letter.consumer,
            f"{letter.event_type or '?'}\n{letter.event_id or '?'}",
            str(letter.deliveries),
            letter.reason,
            "\n".join(mark.replayed_at.isoformat(timespec="seconds") for mark in entry.replays),
        )
    console.print(table)


REPLAY_HELP = " ".join(
    (
        "Run dead letters' originals again, byte for byte: the service whose consumer gave",
        "up reads the original where the letter keeps it and runs that consumer's reaction",
        "on it (the CLI publishes no event; a replay that fails again says why).",
        "\n\nReplay is for a failure that was not the message's fault, once it is fixed: a bug",
        "in Guild (deploy the fix first), or something missing then (a community created",
        "since, a service that was down). A payload fault (not a CloudEvent, a schema",
        "violation) fails the same way again: the publisher must send a corrected event, not",
        "a replay.\n\nEach replayed letter is marked; `guild dlq list` shows when. Choose",
        "sequence numbers (see `guild dlq list`), or --consumer, --since or --all (a filter",
        "leaves out letters already replayed).",
    )
)


@dlq_app.command("replay", help=REPLAY_HELP)
def dlq_replay(
    sequences: Annotated[
        list[int] | None, typer.Argument(help="Dead letters' sequences (see dlq list).")
    ] = None,
    consumer: Annotated[
        str | None, typer.Option("--consumer", help="Letters of this durable consumer.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Letters dead-lettered at or after this ISO 8601 time."),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every letter not replayed yet.")
    ] = False,
    nats_url: NatsUrl = None,
    region: Region = DEFAULT_REGION,
    data_dir: ClientDataDir = None,
) -> None:
    selection = Selection(tuple(sequences or ()), consumer, _since(since), everything)
    if selection.empty:
        raise _fail("choose what to replay: sequence numbers, --consumer, --since or --all")

    async def work(client: GuildClient) -> list[ReplayMark | GuildError]:
        chosen = selection.pick(await read_letters(client))
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("replaying", total=len(chosen))
            return await replay(client, chosen, lambda: progress.advance(task))

    outcomes = _run(_resolve_url(nats_url, data_dir), region, work, data_dir)
    marks = [outcome for outcome in outcomes if isinstance(outcome, ReplayMark)]
    for outcome in outcomes:
        if isinstance(outcome, ReplayMark):
            console.print(f"dead letter {outcome.letter_sequence} replayed: ran "
                          f"{outcome.stream} #{outcome.sequence} again")  # fmt: skip
        else:
            print(f"error: {outcome}", file=sys.stderr)
    console.print(f"{len(marks)} dead letter(s) replayed")
    if len(marks) < len(outcomes):
        raise typer.Exit(1)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--since {text!r} is not an ISO 8601 time (e.g. 2026-03-01T09:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@eval_app.command("routing")
def eval_routing(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="A Stack Exchange site's folder holding questions.jsonl and answers.jsonl "
            "(one JSON object per line), as in ../shared/data/stackexchange/<site>.",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Replay a Stack Exchange site through Guild's event contracts and its real ranking, in
    time order, and print Hit@5, Hit@10, MRR and nDCG@10 against two baselines."""
    if not data.is_dir():
        raise _fail(f"no such folder: {data}")
    # matching's own harness, in its own process: the CLI imports no service
    command = [sys.executable, "-m", "services.matching.evaluation", "--data", str(data.resolve())]
    root = Path(__file__).resolve().parent.parent
    raise typer.Exit(subprocess.call([*command, *(["--json"] if as_json else [])], cwd=root))


@app.command()
def token(
    person_id: Annotated[str, typer.Argument(help="The person's HR id, e.g. e1001.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Print a short-lived (15 min) token for a person, from the demo's identity provider
    (it names them by HR id, as the company's sign-in would), for the member API:
    curl -H "Authorization: Bearer $(./guild token e1001)" .../v1/members/me/inbox"""
    from guild_cli.identity import DemoIdentity, IdentityError
    from shared.naming import TOKEN_PATTERN

    try:
        if not re.fullmatch(TOKEN_PATTERN, person_id):
            raise IdentityError(f"{person_id!r} is not an HR id (letters, digits, - or _)")
        print(DemoIdentity.open(data_dir.resolve()).token(person_id))
    except (IdentityError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(1) from None


def run() -> None:
    """Console-script entry point."""
    app()


@identity_app.command("issue")
def identity_issue(
    name: Annotated[
        str,
        typer.Argument(
            help="A service (membership, content, matching, notifications), a publishing "
            f"system ({', '.join(PUBLISHERS)}), operator or admin."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the credentials file.")],
    region: Region = DEFAULT_REGION,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Issue a credential (a new key; readable by its owner only) from the authority kept in
    the data directory. A service's permissions are what it declares it needs; a publishing
    system's are its ingest subjects."""
    check_region(region)
    identities = Identities(data_dir.resolve() / "identities")
    try:
        grants = asyncio.run(identities.grants_of(name, region))
    except (CredentialsError, ValueError) as error:
        raise _fail(str(error)) from None
    write_private(out, identities.authority.issue(grants))
    console.print(f"{grants.user_name}: {out} (publish {len(grants.publish)} subjects)")


@identity_app.command("revoke")
def identity_revoke(
    credentials: Annotated[Path, typer.Argument(help="The credentials file to revoke.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Revoke a credential (its user key: any JWT of it issued until now). Then write the
    servers' configuration again (`guild identity server-config`) and reload them; a
    running `guild up` picks it up when it starts again."""
    identities = Identities(data_dir.resolve() / "identities")
    try:
        claims = decode_jwt(read_creds_jwt(credentials))
    except CredentialsError as error:
        raise _fail(str(error)) from None
    identities.authority.revoke(str(claims["sub"]))
    console.print(f"revoked {claims.get('name', '?')} (user {claims['sub']})")


@identity_app.command("account-key")
def identity_account_key(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The GUILD account's public key: a region's leaf node remote names it
    (``GUILD_ACCOUNT_KEY`` in deploy/nats/region-node.conf)."""
    print(Identities(data_dir.resolve() / "identities").authority.account_key)


@identity_app.command("server-config")
def identity_server_config(
    out: Annotated[Path, typer.Option("--out", help="Where to write the configuration.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """The nats-server configuration block that trusts the data directory's authority
    (operator mode), to ``include`` from a region's server configuration."""
    identities = Identities(data_dir.resolve() / "identities")
    write_private(out, identities.authority.server_config())
    console.print(f"operator and accounts: {out}")


KeysFile = Annotated[
    Path | None,
    typer.Option(
        "--file", help="The keyring (default: the data directory's, which guild up uses)."
    ),
]


def _keys_file(file: Path | None, data_dir: Path) -> Path:
    return file if file is not None else data_dir.resolve() / "sealing.keys"


@sealing_app.command("add")
def sealing_key_add(
    key_id: Annotated[str, typer.Argument(help="The new key's id, e.g. k2.")],
    file: KeysFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Put a fresh key first in the keyring: the services seal with it once restarted; then
    reseal with each (`python -m services.<name> reseal`) and drop the old key."""
    try:
        held = add_key(_keys_file(file, data_dir), key_id)
    except SealingError as error:
        raise _fail(str(error)) from None
    console.print(f"sealing with {held.current}; also opening {', '.join(list(held.keys)[1:])}")


@sealing_app.command("drop")
def sealing_key_drop(
    key_id: Annotated[str, typer.Argument(help="The key to take out of the keyring.")],
    file: KeysFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Take an old key out of the keyring, once every service has resealed what it sealed."""
    try:
        held = drop_key(_keys_file(file, data_dir), key_id)
    except SealingError as error:
        raise _fail(str(error)) from None
    console.print(f"dropped {key_id}; keys now: {', '.join(held.keys)}")
