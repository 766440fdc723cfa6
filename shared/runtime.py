"""Running a service: connect, provision, load state, subscribe, report status, stop cleanly.

Each service's composition root (``build_app``) returns a :class:`ServiceApp`; its entry point
calls :func:`main`. The same :class:`ServiceApp` can be started in-process by tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn
from faststream.nats import NatsBroker, NatsMessage
from faststream.nats.security import NatsCredentials, NatsSecurity
from nats.errors import ConnectionClosedError, ConnectionReconnectingError
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from nats.js.errors import NotFoundError
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from shared import access
from shared.access import DEFAULT_INBOX, Grants, inbox_prefix
from shared.contracts.base import Contract
from shared.credentials import CredentialsError, check_credentials, tls_context
from shared.envelope import Envelope
from shared.logs import configure_logging
from shared.loop import run
from shared.messaging.consumer import (
    DeadLetterOffice,
    MaxDeliveriesAdvisory,
    Settler,
    advisory_decoder,
    dead_letter_unsettled,
    settler,
    settling,
)
from shared.messaging.dispatch import Reactions
from shared.messaging.provisioning import (
    BucketSpec,
    ConsumerSpec,
    ProvisioningError,
    StreamRead,
    Topology,
    apply,
    durable_consumer,
)
from shared.messaging.publisher import EventPublisher, JetStreamPublisher
from shared.messaging.replay import ReplayDeadLetter, Replayer, ReplayMark
from shared.messaging.rpc import (
    ErrorCodes,
    Handler,
    RequestLedger,
    StoredReply,
    answer,
    undecoded,
)
from shared.messaging.subscriptions import Reaction, event_subscriber, pull_subscriber, react
from shared.naming import (
    Scope,
    Service,
    Streams,
    bucket_name,
    command_subject,
    dead_letter_original_subject,
    dead_letter_subject,
    personal_filter,
    query_subject,
    replay_mark_subject,
    status_subject,
)
from shared.readmodel import BucketFollower
from shared.sealing import SealingError
from shared.settings import GuildSettings
from shared.storage import KvStore
from shared.tasks import cancel_and_wait
from shared.telemetry import telemetry_middleware, tracer_provider

log = logging.getLogger("guild.runtime")

StartHook = Callable[[JetStreamContext], Awaitable[None]]
D = TypeVar("D")


class ConnectionLog:
    """Logs what happens to the NATS connection; quiet about the disconnect of a clean stop.

    nats-py retries the first connection too (reconnect attempts are unlimited), so a service
    started before NATS simply waits for it, saying so.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.connected = False
        self.stopping = False

    async def error(self, error: Exception) -> None:
        if self.stopping:
            return
        if not self.connected:
            log.warning("waiting for NATS", extra={"url": self.url, "error": repr(error)})
        else:
            log.warning("NATS connection error", extra={"error": repr(error)})

    async def disconnected(self) -> None:
        if not self.stopping:
            log.warning("disconnected from NATS; reconnecting (it never gives up)")

    async def reconnected(self) -> None:
        log.info("reconnected to NATS")


def _unsettled_consumer(
    settings: GuildSettings, service: Service, consumers: Sequence[ConsumerSpec]
) -> ConsumerSpec | None:
    """A consumer of the max-deliveries advisories of ``consumers`` (those with a limit: a
    consumer that retries without one settles its messages itself)."""
    consumers = [c for c in consumers if c.retry.max_deliver > 0]
    if not consumers:
        return None
    return durable_consumer(
        settings,
        service,
        "unsettled",
        stream=Streams(settings.region).advisories,
        filter_subjects=[
            f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{c.stream}.{c.durable}" for c in consumers
        ],
        description="Messages that exhausted their deliveries without being settled",
    )


def service_inbox(settings: GuildSettings, service: Service) -> str:
    """The inbox prefix of ``service``'s connection: its identity's own where it has a
    credential (nobody else may subscribe there), else nats-py's default."""
    if settings.nats_credentials is None:
        return DEFAULT_INBOX
    return inbox_prefix(service.value, settings.region)


def _security(settings: GuildSettings) -> NatsSecurity | None:
    """The service's credential and TLS, as FastStream takes them."""
    context = tls_context(settings.nats_tls_ca, settings.nats_tls_cert, settings.nats_tls_key)
    if settings.nats_credentials is not None:
        return NatsCredentials(str(settings.nats_credentials), ssl_context=context)
    return NatsSecurity(ssl_context=context) if context is not None else None


def create_broker(
    settings: GuildSettings, service: Service, provider: TracerProvider, connection: ConnectionLog
) -> NatsBroker:
    """A broker with the choices made once: reconnect forever, notice dead links within
    ~30 s, quiet per-message logging, and tracing on every publish and consume."""
    return NatsBroker(
        servers=[url.strip() for url in settings.nats_url.split(",")],
        name=f"guild-{service.value}-{settings.region}",
        security=_security(settings),
        inbox_prefix=service_inbox(settings, service),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        ping_interval=10,
        max_outstanding_pings=3,
        connect_timeout=5,
        error_cb=connection.error,
        disconnected_cb=connection.disconnected,
        reconnected_cb=connection.reconnected,
        middlewares=[telemetry_middleware(provider)],
        logger=logging.getLogger(f"faststream.{service.value}"),
        log_level=logging.DEBUG,
        graceful_timeout=settings.ack_wait / 2,
    )


@dataclass
class ConsumerWatch:
    """Which of a service's pull consumers are stalled: messages wait for it, it has room for
    more in hand (below its max_ack_pending), and since the last look it neither fetched (none
    delivered) nor settled anything (its ack floor and the count in hand unchanged), so its
    pull loop no longer turns (nats-py can lose a pull subscription after a server restart,
    nats.py#504; a loop can also end). A consumer slowly working through a batch in hand
    fetches nothing new but acks as it goes: not stalled. A subscriber in the stalled state
    still says it runs; readiness must not."""

    _progress: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    stalled: frozenset[str] = frozenset()
    """Replaced whole after each look, never changed in place: the health thread reads it."""

    async def look(self, js: JetStreamContext, subscribers: Sequence[Any]) -> None:
        stalled = set(self.stalled)
        for subscriber in subscribers:
            durable = getattr(getattr(subscriber, "config", None), "durable_name", None)
            stream = getattr(getattr(subscriber, "stream", None), "name", None)
            if not durable or not stream:
                continue
            try:
                info = await js.consumer_info(stream, durable)
            except Exception:  # NATS away: readiness says so already
                continue
            progress = _progress(info)
            room = (info.num_ack_pending or 0) < (info.config.max_ack_pending or 1)
            waiting = (info.num_pending or 0) > 0 and room
            if waiting and self._progress.get(durable) == progress:
                stalled.add(durable)
            else:
                stalled.discard(durable)
            self._progress[durable] = progress
        self.stalled = frozenset(stalled)


def _progress(info: ConsumerInfo) -> tuple[int, int, int]:
    """What moves while a consumer works: the last delivered, the ack floor, the count in hand."""
    return (info.delivered.stream_seq or 0, info.ack_floor.stream_seq or 0,
            info.num_ack_pending or 0)  # fmt: skip


def _exempt_from_garbage_collection() -> None:
    """Move the read models just loaded out of the collector's sight: a full collection
    would otherwise walk millions of long-lived objects and stall every request for a
    fifth of a second (seen right after a restart with a million posts)."""
    gc.collect()
    gc.freeze()


@dataclass
class ServiceApp:
    """A wired service, ready to start: what :func:`build_app` of each service returns."""

    service: Service
    settings: GuildSettings
    broker: NatsBroker
    publisher: JetStreamPublisher
    events: EventPublisher
    topology: Topology
    stores: list[KvStore[Any]] = field(default_factory=list)
    followers: list[BucketFollower] = field(default_factory=list)
    on_start: list[StartHook] = field(default_factory=list)
    ledger: RequestLedger | None = None
    chores: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    provider: TracerProvider | None = None
    settler: Settler | None = None
    connection_log: ConnectionLog = field(default_factory=lambda: ConnectionLog(""))
    consumer_watch: ConsumerWatch = field(default_factory=ConsumerWatch)
    ready: bool = False
    api: Callable[..., Awaitable[None]] | None = None
    """The service's own HTTP API (an ASGI app), served beside the health endpoints."""
    answered: list[str] = field(default_factory=list)
    """Subjects of the commands and queries it answers, and of its status."""
    published: list[str] = field(default_factory=list)
    """Subjects of the events it declares it publishes."""
    dispatchers: dict[str, Reactions] = field(default_factory=dict)
    """Each event consumer's reactions, by durable name (a dead letter's replay runs them)."""

    @classmethod
    def create(cls, service: Service, settings: GuildSettings, topology: Topology) -> ServiceApp:
        """The plumbing every service shares; the caller adds its subscribers and stores."""
        provider = tracer_provider(
            service=service.value, region=settings.region, exporter=settings.otel_exporter
        )
        connection_log = ConnectionLog(settings.nats_url)
        broker = create_broker(settings, service, provider, connection_log)
        publisher = JetStreamPublisher(broker, tracer=provider.get_tracer("guild.publish"))
        office = DeadLetterOffice(publisher, region=settings.region, service=service)
        unsettled = _unsettled_consumer(settings, service, topology.consumers)
        if unsettled is not None:
            topology = topology + Topology(consumers=[unsettled])
        requests = BucketSpec(
            bucket_name(service, "requests", settings.region),
            "Replies to commands sent with a request_id, kept 24 hours",
            replicas=settings.stream_replicas,
            ttl=24 * 3600.0,
        )
        topology = topology + Topology(buckets=[requests])
        settle = settler(office, list(topology.consumers))
        broker.insert_middleware(settling(settle))
        # a reply may hand a member a secret (a webhook's signing secret): sealed at rest
        ledger_store: KvStore[StoredReply] = KvStore(
            requests.name, StoredReply, sealed=True, keyring=settings.keyring()
        )
        app = cls(
            service=service,
            settings=settings,
            broker=broker,
            publisher=publisher,
            events=EventPublisher(publisher, region=settings.region, service=service),
            topology=topology,
            provider=provider,
            connection_log=connection_log,
            ledger=RequestLedger(ledger_store),
            stores=[ledger_store],
            settler=settle,
        )
        status = status_subject(settings.region, service)
        broker.subscriber(status, title="status", decoder=undecoded)(app._status)
        app.answered.append(status)
        app.every(settings.consumer_check_interval, [look_for_stalled_consumers], app)
        if unsettled is not None:
            app._dead_letter_unsettled(unsettled, office)
        replayer = Replayer(service, settings.region, lambda: app.js, app.dispatchers)
        app.answer_commands({access.OPERATORS_ONLY: (ReplayDeadLetter, _replay)}, replayer, {})
        return app

    def _dead_letter_unsettled(self, consumer: ConsumerSpec, office: DeadLetterOffice) -> None:
        """Messages no handler ever settled (crashes, hangs) reach the dead-letter stream too."""

        async def when_deliveries_exhausted_dead_letter(advisory: MaxDeliveriesAdvisory) -> None:
            await dead_letter_unsettled(advisory, self.js, office)

        subscriber = pull_subscriber(
            self.broker, consumer, decoder=advisory_decoder, inbox=self.inbox
        )
        subscriber(when_deliveries_exhausted_dead_letter)

    def react_to(
        self, consumer: ConsumerSpec, reactions: Mapping[type[Any], Reaction[Any, D]], deps: D
    ) -> None:
        """Subscribe ``consumer`` and run ``reactions[type of event](event, deps)``."""
        subscriber = event_subscriber(self.broker, consumer, inbox=self.inbox)
        exporting = self.provider if self.settings.otel_exporter != "none" else None
        tracer = exporting.get_tracer("guild.consume") if exporting is not None else None
        assert self.settler is not None, "ServiceApp.create makes the settler"
        dispatch = Reactions(consumer.durable, self.settler, tracer)
        for contract, reaction in reactions.items():
            # registered with FastStream too: AsyncAPI, its test broker
            dispatch.add(contract, react(subscriber, contract, reaction, deps))
        subscriber.guild_dispatch = dispatch.handle
        self.dispatchers[consumer.durable] = dispatch

    def answer_commands(
        self,
        handlers: Mapping[str, tuple[type[Any], Handler[Any, D]]],
        deps: D,
        error_codes: ErrorCodes,
    ) -> None:
        """Serve each ``name: (command type, handler)`` on ``cmd.<region>.<service>.<name>``,
        idempotent on the client's ``request_id``."""
        self._answer(command_subject, handlers, deps, error_codes, self.ledger)

    def answer_queries(
        self,
        handlers: Mapping[str, tuple[type[Any], Handler[Any, D]]],
        deps: D,
        error_codes: ErrorCodes,
    ) -> None:
        """Serve each ``name: (query type, handler)`` on ``qry.<region>.<service>.<name>``."""
        self._answer(query_subject, handlers, deps, error_codes, None)

    def _answer(
        self,
        subject_of: Callable[[str, Service, str], str],
        handlers: Mapping[str, tuple[type[Any], Handler[Any, D]]],
        deps: D,
        error_codes: ErrorCodes,
        ledger: RequestLedger | None,
    ) -> None:
        for name, (request_type, handler) in handlers.items():
            subject = subject_of(self.settings.region, self.service, name)
            self.answered.append(subject)
            answer(
                self.broker,
                subject,
                request_type,
                handler,
                deps,
                queue=self.service.value,
                error_codes=error_codes,
                ledger=ledger,
                workers=self.settings.request_workers,
            )

    def publishes(self, *contracts: type[Contract]) -> None:
        """Declare the events this service publishes: they appear, with their schema, in its
        AsyncAPI document (publishing itself goes through :attr:`events`)."""
        region = self.settings.region
        for contract in contracts:
            subject = (
                personal_filter(region, contract.TYPE)
                if contract.SCOPE is Scope.PERSONAL
                else contract.subject_in(region)
            )
            self.published.append(subject)
            self.broker.publisher(
                subject,
                title=contract.TYPE,
                description=contract.__doc__,
                schema=Envelope[contract],
            )  # type: ignore[valid-type]

    def grants(self) -> Grants:
        """What this service may do on NATS, from what it declares: its durable consumers,
        buckets, events, answers and the reads, erasures and writes of its topology; dead
        letters and snapshots of its own. Never stream or durable management."""
        me, region, topology = self.service.value, self.settings.region, self.topology
        streams = Streams(region)
        own_letters = dead_letter_subject(region, self.service, "*")
        grants = access.base(me, region) + access.answers(me, region, self.answered)
        grants += access.publishes(me, region, [
            *self.published, *topology.writes, own_letters, replay_mark_subject(region),
            dead_letter_original_subject(region, "*"), f"snapshot.{region}.{me}.>",
        ])  # fmt: skip
        for stream in topology.streams:
            grants += access.publishes(me, region, [f"{access.API}.STREAM.INFO.{stream.name}"])
        for consumer in topology.consumers:
            grants += access.durable(me, region, consumer.stream, consumer.durable)
        for bucket in topology.buckets:
            grants += access.bucket(me, region, bucket.name)
        reads = [
            StreamRead(streams.dead_letters, (f"dlq.{region}.{me}.>",)),
            StreamRead(streams.snapshots, (f"snapshot.{region}.{me}.>",)),
            *topology.reads,
        ]
        for read in reads:
            grants += access.scan(me, region, read.stream, read.filters)
        erased = [streams.dead_letters, streams.dead_letter_originals, streams.snapshots]
        for stream_name in [*erased, *topology.erases]:
            grants += access.erase(me, region, stream_name)
        return access.without_management(grants)

    def background(self, chore: Callable[[], Awaitable[None]]) -> None:
        """Run ``chore()`` once the service is ready; cancelled when it stops."""
        self.chores.append(chore)

    def every(
        self, seconds: float, chores: Sequence[Callable[[D], Awaitable[Any]]], deps: D
    ) -> None:
        """Run each of ``chores(deps)`` in turn every ``seconds`` while the service runs; a
        chore that fails is logged and runs again next time."""

        async def sweep() -> None:
            while True:
                for chore in chores:
                    try:
                        await chore(deps)
                    except Exception:
                        log.exception(
                            "chore failed; it runs again", extra={"chore": chore.__name__}
                        )
                await asyncio.sleep(seconds)

        self.background(sweep)

    async def _status(self, message: NatsMessage) -> bytes:
        return json.dumps(self.status()).encode()

    def status(self) -> dict[str, Any]:
        subscribers = self.broker.subscribers
        stalled = sorted(self.consumer_watch.stalled)
        return {
            "service": self.service.value,
            "region": self.settings.region,
            "ready": self.ready and all(s.running for s in subscribers) and not stalled,
            "subscribers": len(subscribers),
            "consumers": [spec.durable for spec in self.topology.consumers],
            "stalled": stalled,
        }

    @property
    def inbox(self) -> str:
        """Its connection's inbox prefix (see :func:`service_inbox`)."""
        return service_inbox(self.settings, self.service)

    @property
    def connected(self) -> bool:
        try:
            return bool(self.broker.connection.is_connected)
        except Exception:  # not connected yet: FastStream has no connection object
            return False

    @property
    def js(self) -> JetStreamContext:
        return self.broker.connection.jetstream()

    async def start(self) -> None:
        """Connect (waiting for NATS if need be), provision, load state, then subscribe."""
        check_credentials(self.settings.nats_credentials)  # not a reason to wait for NATS
        for store in self.stores:
            store.check_keys()
        await self.broker.connect()
        self.connection_log.connected = True
        if self.settings.provision:
            await apply(self.js, self.topology)
        else:
            await _verify(self.js, self.topology)
        for store in self.stores:
            await store.bind(self.js)
        for follower in self.followers:
            await follower.start(self.js)
        _exempt_from_garbage_collection()
        for hook in self.on_start:
            await hook(self.js)
        await self.broker.start()
        await self.broker.connection.flush()  # its subscriptions known to the server: ready
        self._tasks = [asyncio.create_task(chore()) for chore in self.chores]
        self.ready = True
        log.info("ready", extra={"consumers": [c.durable for c in self.topology.consumers]})

    async def stop(self) -> None:
        """Finish the messages in hand, drain the connection, flush traces."""
        self.ready = False
        self.connection_log.stopping = True
        for task in self._tasks:
            await cancel_and_wait(task)
        for follower in self.followers:
            await follower.stop()
        try:
            await self.broker.stop()
        except (ConnectionReconnectingError, ConnectionClosedError) as error:
            log.warning("NATS unreachable while stopping; closing", extra={"error": repr(error)})
            with contextlib.suppress(Exception):
                await self.broker.connection.close()
        if self.provider is not None:
            self.provider.shutdown()
        log.info("stopped")

    async def provision(self) -> None:
        """Apply this service's streams, consumers and buckets, then disconnect."""
        await self.broker.connect()
        try:
            await apply(self.js, self.topology)
        finally:
            await self.broker.stop()

    async def reseal(self) -> dict[str, int]:
        """Seal every sealed bucket's values again with the keyring's current key (after a
        rotation: see shared.sealing); how many values of each bucket, once done."""
        sealed = [store for store in self.stores if store.sealed]
        for store in sealed:
            store.check_keys()
        await self.broker.connect()
        try:
            counts = {}
            for store in sealed:
                await store.bind(self.js)
                counts[store.bucket] = await store.reseal()
            return counts
        finally:
            await self.broker.stop()


async def look_for_stalled_consumers(app: ServiceApp) -> None:
    await app.consumer_watch.look(app.js, app.broker.subscribers)


async def _verify(js: JetStreamContext, topology: Topology) -> None:
    """With provisioning off, fail fast and clearly if something was not provisioned."""
    missing = []
    for stream in topology.streams:
        with contextlib.suppress(NotFoundError):
            await js.stream_info(stream.name or "")
            continue
        missing.append(f"stream {stream.name}")
    for consumer in topology.consumers:
        with contextlib.suppress(NotFoundError):
            await js.consumer_info(consumer.stream, consumer.durable)
            continue
        missing.append(f"consumer {consumer.stream}/{consumer.durable}")
    for bucket in topology.buckets:
        with contextlib.suppress(NotFoundError):
            await js.key_value(bucket.name)
            continue
        missing.append(f"bucket {bucket.name}")
    if missing:
        raise ProvisioningError(
            "not provisioned: " + ", ".join(missing) + ". Run the service's 'provision' command "
            "(or set GUILD_PROVISION=true)."
        )


class LoopHeartbeat:
    """When the service's event loop last turned: a task on the loop writes the time, the
    health thread reads it. A loop that has not turned for ``stall_after`` seconds is stuck."""

    def __init__(self, stall_after: float) -> None:
        self.stall_after = stall_after
        self.last = time.monotonic()

    async def beat(self) -> None:
        while True:
            self.last = time.monotonic()
            await asyncio.sleep(min(0.5, self.stall_after / 4))

    def stalled_for(self) -> float:
        return max(0.0, time.monotonic() - self.last)

    @property
    def turning(self) -> bool:
        return self.stalled_for() < self.stall_after


class _HealthServer(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


ASGIApp = Callable[..., Awaitable[None]]


def health_app(
    app: ServiceApp, heartbeat: LoopHeartbeat, service_loop: asyncio.AbstractEventLoop
) -> ASGIApp:
    """``/healthz`` (the process is alive: its event loop turns) and ``/readyz`` (connected to
    NATS and consuming), answered on the health thread's own loop, so they answer even when the
    service's loop is stuck; every other path goes to the service's API, run on its loop."""

    def probe(path: str) -> tuple[int, dict[str, Any]]:
        alive, connected = heartbeat.turning, app.connected
        status = app.status()
        checks = {"/healthz": alive, "/readyz": alive and connected and status["ready"]}
        body = {
            **status,
            "connected": connected,
            "loop_turning": alive,
            "loop_stalled_for": round(heartbeat.stalled_for(), 1),
        }
        return (200 if checks[path] else 503), body

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if app.api is not None and path not in ("/healthz", "/readyz"):
            await _on_loop(service_loop, app.api, scope, receive, send)
            return
        if path in ("/healthz", "/readyz"):
            status, body = probe(path)
        else:
            status, body = 404, {"error": "not found; try /healthz or /readyz"}
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    return asgi


async def _on_loop(
    loop: asyncio.AbstractEventLoop, api: ASGIApp, scope: dict[str, Any], receive: Any, send: Any
) -> None:
    """Run the ASGI ``api`` on ``loop`` (the service's, where its stores live), its receive
    and send coming back to the HTTP server's loop."""
    here = asyncio.get_running_loop()

    async def receive_here() -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(receive(), here))

    async def send_here(message: Any) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(send(message), here))

    running = asyncio.run_coroutine_threadsafe(api(scope, receive_here, send_here), loop)
    await asyncio.wrap_future(running)


class HealthEndpoints:
    """The health endpoints (and the service's API) over HTTP, served by uvicorn on a thread
    and an event loop of its own."""

    def __init__(self, app: ServiceApp, heartbeat: LoopHeartbeat) -> None:
        self.app = app
        self.heartbeat = heartbeat
        self.server: _HealthServer | None = None
        self.thread: threading.Thread | None = None

    async def start(self, timeout: float = 10.0) -> None:
        port = self.app.settings.http_port
        config = uvicorn.Config(
            health_app(self.app, self.heartbeat, asyncio.get_running_loop()),
            host=self.app.settings.http_host,
            port=port or 0,
            lifespan="off",
            log_level="warning",
            log_config=None,  # records go to Guild's handler, as JSON lines
        )
        self.server = server = _HealthServer(config)
        self.thread = threading.Thread(target=server.run, name="health", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the health endpoints could not listen on port {port}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.server is None or self.thread is None:
            return
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 10.0)


async def serve(app: ServiceApp) -> None:
    """Run ``app`` until SIGTERM or SIGINT, then stop it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    heartbeat = LoopHeartbeat(app.settings.loop_stall_after)
    beating = asyncio.create_task(heartbeat.beat())
    http = HealthEndpoints(app, heartbeat)
    if app.settings.http_port is not None:
        await http.start()
    try:
        starting = asyncio.create_task(app.start())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            await stopping
        else:
            await cancel_and_wait(starting)
    finally:
        await app.stop()
        await http.stop()
        await cancel_and_wait(beating)


S = TypeVar("S", bound=GuildSettings)


def main(build: Callable[[S], ServiceApp], settings_type: type[S]) -> int:
    """Entry point of a service: ``python -m services.<name> [run|provision|grants]``.
    ``provision`` prints, once it has applied the service's streams, consumers and buckets,
    the grants its credential needs (as ``grants`` does, without provisioning)."""
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command not in ("run", "provision", "grants", "reseal"):
        print(f"usage: python -m services.{settings_type.SERVICE} [run|provision|grants|reseal]")
        return 2
    try:
        settings = settings_type()
    except ValidationError as error:
        prefix = settings_type.SERVICE_PREFIX
        for issue in error.errors():
            name = str(issue["loc"][0]).upper() if issue["loc"] else "?"
            print(f"setting {prefix}{name} (or GUILD_{name}): {issue['msg']}", file=sys.stderr)
        return 2
    configure_logging(
        service=settings_type.SERVICE,
        region=settings.region,
        level=settings.log_level,
        fmt=settings.log_format,
    )
    try:
        app = build(settings)
    except SealingError as error:
        log.error("cannot start: %s", error)
        return 3
    if command == "grants":  # what its credential must allow, as JSON (see shared.access)
        print(json.dumps(app.grants().to_json(), indent=2))
        return 0
    if command == "reseal":
        return _reseal(app)
    try:
        run(app.provision() if command == "provision" else serve(app), settings.event_loop)
    except (ProvisioningError, CredentialsError, SealingError) as error:
        log.error("cannot start: %s", error)
        return 3
    if command == "provision":  # and then what it will need to run (what guild up issues)
        print(json.dumps(app.grants().to_json(), indent=2))
    return 0


async def _replay(command: ReplayDeadLetter, replayer: Replayer) -> ReplayMark:
    """Run a dead letter of this service's again (see shared.messaging.replay)."""
    return await replayer.replay(command)


def _reseal(app: ServiceApp) -> int:
    try:
        counts = asyncio.run(app.reseal())
    except (CredentialsError, SealingError) as error:
        log.error("cannot reseal: %s", error)
        return 3
    for bucket, count in counts.items():
        print(f"{bucket}: {count} value(s) sealed again with the current key")
    return 0
