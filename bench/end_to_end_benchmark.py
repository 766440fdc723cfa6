"""End to end: questions offered at a steady rate, each routed to 10 members, to their inboxes.

A fresh Guild (nats-server and the four services as processes) gets a company: ``--members``
members with three skills each, spread over ``--communities`` communities, at work around
the clock, hired and joined pipelined, let settle. Then, for each offered rate (50, 100, 200,
500 questions a second), a plain nats-py publisher asks questions through the portal's ingest
subject at that pace (``publish_async``; a step is bounded by ``--seconds`` and by
``--per-step`` questions), and ordered consumers on the events and inbox streams time, per
question, from its publish to the stored ``experts_suggested`` and to the last of its
recipients' inbox items (the ``question_for_you`` whose cause is that suggestion). Each step
waits (bounded) for the questions it offered and for the region to settle before the next.

Printed per step: offered rate, the pace the publisher kept, sustained rate (questions that
reached every recipient's inbox, over the time from the first publish to the last such inbox
item), recipients per question, p50 and p99 of both latencies, each durable consumer's largest
lag (``num_pending`` + ``num_ack_pending``, sampled twice a second; the table shows each
service's largest) and how fast it grew while the step offered its questions, and each
service's RSS. The knee is the first step that did not keep up (questions left behind, a
sustained rate below 0.9 of the offered one, or a p99 past a second), reported with what
limits it: the consumer whose lag grew fastest while offered.

Every step is bounded in time: it offers for ``--seconds`` at most (and ``--per-step``
questions), then waits at most ``--drain`` seconds for its questions and as long again for
the region to settle, and reports what it measured whether or not they all arrived. A step
after one whose region did not settle is not run (its figures would carry that backlog); the
report names it.

    .venv/bin/python -m bench.end_to_end_benchmark
    .venv/bin/python -m bench.end_to_end_benchmark --rates 50 100 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from bench.guild import LagSampler, RssSampler, running_guild, settled, until
from bench.harness import percentile, rss_line, run_main, table
from bench.population import Company, ask, question_data, set_up, setup_lines
from shared.contracts.content import QuestionPostedV1
from shared.contracts.matching import ExpertsSuggestedV1

NAME = "end_to_end"


@dataclass
class Question:
    ref: str
    published: float
    question_id: str = ""
    suggested: float | None = None
    suggestion_id: str = ""
    recipients: set[str] = field(default_factory=set)
    reached: dict[str, float] = field(default_factory=dict)

    @property
    def to_inboxes(self) -> float | None:
        if self.suggestion_id and self.recipients and self.recipients <= set(self.reached):
            return max(self.reached[m] for m in self.recipients) - self.published
        return None


def new() -> ConsumerConfig:
    """A consumer from now on (one per subscription: nats-py writes its filter into it)."""
    return ConsumerConfig(deliver_policy=DeliverPolicy.NEW)


class Watcher:
    """Ordered consumers on the events and inbox streams: which question got its suggestion
    and its inbox items when (stored times)."""

    def __init__(self, nc: Client, region: str) -> None:
        self.nc, self.region = nc, region
        self.by_ref: dict[str, Question] = {}
        self.by_id: dict[str, Question] = {}
        self.by_suggestion: dict[str, Question] = {}
        self.early: dict[str, dict[str, float]] = {}  # inbox items before their suggestion
        self.subscriptions: list[Any] = []

    async def start(self) -> None:
        js = self.nc.jetstream()
        for subject, handler in (
            (QuestionPostedV1.subject_in(self.region), self._posted),
            (ExpertsSuggestedV1.subject_in(self.region), self._suggested),
            (f"inbox.{self.region}.>", self._inbox),
        ):
            self.subscriptions.append(
                await js.subscribe(subject, cb=handler, ordered_consumer=True, config=new())
            )

    async def stop(self) -> None:
        for subscription in self.subscriptions:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _posted(self, msg: Any) -> None:
        data = json.loads(msg.data)["data"]
        ref = data["title"].rsplit("(", 1)[-1].rstrip("?)")
        if question := self.by_ref.get(ref):
            question.question_id = data["question_id"]
            self.by_id[question.question_id] = question

    async def _suggested(self, msg: Any) -> None:
        event = json.loads(msg.data)
        data = event["data"]
        ref = data["title"].rsplit("(", 1)[-1].rstrip("?)")
        question = self.by_ref.get(ref)
        if question is None or data.get("wave", 1) != 1 or question.suggestion_id:
            return
        question.suggested = msg.metadata.timestamp.timestamp() - question.published
        question.suggestion_id = event["id"]
        question.recipients = {s["member"]["member_id"] for s in data["suggestions"]}
        self.by_suggestion[event["id"]] = question
        question.reached.update(self.early.pop(event["id"], {}))

    async def _inbox(self, msg: Any) -> None:
        item = json.loads(msg.data)
        if "cause_id" not in item:
            return  # not an inbox item (nothing else is expected there, but read on)
        at = msg.metadata.timestamp.timestamp()
        if question := self.by_suggestion.get(item["cause_id"]):
            question.reached.setdefault(item["member_id"], at)
        else:
            self.early.setdefault(item["cause_id"], {}).setdefault(item["member_id"], at)


async def offer(
    nc: Client,
    region: str,
    company: Company,
    watcher: Watcher,
    step: int,
    rate: float,
    count: int,
    rng: random.Random,
) -> list[Question]:
    """Ask ``count`` questions at ``rate`` a second, PubAcks in flight; the questions."""
    js, asked, acks = nc.jetstream(), [], []
    names, started = sorted(company.communities), time.monotonic()
    for number in range(count):
        if (wait := started + number / rate - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        community_id = names[number % len(names)]
        asker = rng.choice(company.communities[community_id])
        ref = f"s{step}q{number}"
        data = question_data(ref, community_id, asker, rng.sample(company.skills[asker], 2))
        subject, body, headers = ask(region, data)
        question = Question(ref, time.time())
        watcher.by_ref[ref] = question
        asked.append(question)
        acks.append(await js.publish_async(subject, body, headers=headers))
    await asyncio.gather(*acks)
    return asked


async def one_step(
    nc: Client,
    region: str,
    company: Company,
    watcher: Watcher,
    lags: LagSampler,
    step: int,
    rate: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    count = max(1, min(args.per_step, round(rate * args.seconds)))
    lags.reset()
    offered_from = time.monotonic()
    asked = await offer(nc, region, company, watcher, step, rate, count, random.Random(step))
    growth = lags.growth(offered_from, time.monotonic() + lags.every)
    with contextlib.suppress(TimeoutError):  # what did not arrive in time counts as not done

        async def all_arrived() -> bool:
            return all(q.to_inboxes is not None for q in asked)

        await until(all_arrived, "every question in every inbox", deadline=args.drain)
    worst = lags.reset()
    try:
        await settled(nc, region, deadline=args.drain)
        unsettled = None
    except TimeoutError as error:
        unsettled = str(error)
    done = [q for q in asked if q.to_inboxes is not None]
    first = min(q.published for q in asked)
    last = max((q.published + (q.to_inboxes or 0) for q in done), default=first)
    to_inbox = [q.to_inboxes or 0.0 for q in done]
    suggested = [q.suggested for q in asked if q.suggested is not None]
    return {
        "offered_per_second": rate,
        "published_per_second": published_rate(asked),
        "questions": count,
        "completed": len(done),
        "sustained_per_second": len(done) / (last - first) if last > first else 0.0,
        "recipients_per_question": sum(len(q.recipients) for q in done) / max(1, len(done)),
        "suggested_p50_ms": ms(percentile(suggested, 50)),
        "suggested_p99_ms": ms(percentile(suggested, 99)),
        "inbox_p50_ms": ms(percentile(to_inbox, 50)),
        "inbox_p99_ms": ms(percentile(to_inbox, 99)),
        "lag_max": by_service(worst),
        "lag_by_consumer": worst,
        "lag_growth_per_second": growth,
        "limited_by": limiting(worst, growth),
        "unsettled": unsettled,
    }


def published_rate(asked: list[Question]) -> float | None:
    """The pace the publisher kept (it falls short of the offered rate on a busy machine)."""
    span = max(q.published for q in asked) - min(q.published for q in asked)
    return round((len(asked) - 1) / span, 1) if span > 0 else None


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)


def by_service(lags: dict[str, int]) -> dict[str, int]:
    """The largest lag of each service's consumers (named ``<service>-<purpose>``)."""
    worst: dict[str, int] = {}
    for name, lag in lags.items():
        service = name.split("/", 1)[-1].split("-", 1)[0]
        worst[service] = max(worst.get(service, 0), lag)
    return worst


def limiting(worst: dict[str, int], growth: dict[str, float]) -> dict[str, Any] | None:
    """The consumer that falls behind: the one whose lag grew fastest while the step
    offered its questions (else the one with the largest lag); None if none lagged."""
    if growing := {name: rate for name, rate in growth.items() if rate > 0}:
        name = max(growing, key=growing.__getitem__)
    elif lagging := {name: lag for name, lag in worst.items() if lag > 0}:
        name = max(lagging, key=lagging.__getitem__)
    else:
        return None
    return {
        "consumer": name,
        "largest_lag": worst.get(name, 0),
        "lag_growth_per_second": growth.get(name, 0.0),
    }


def kept_up(step: dict[str, Any]) -> bool:
    """Every question reached every inbox, at 0.9 of the offered rate, p99 within a second."""
    return (
        step["completed"] == step["questions"]
        and step["sustained_per_second"] >= 0.9 * step["offered_per_second"]
        and (step["inbox_p99_ms"] or 0) <= 1000
    )


def knee(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first offered rate Guild did not keep up with, and the consumer that limited it."""
    for step in steps:
        if not kept_up(step):
            return {"per_second": step["offered_per_second"], "limited_by": step["limited_by"]}
    return None


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    region = "e2e"
    with tempfile.TemporaryDirectory(prefix="guild-bench-e2e-") as folder:
        async with running_guild(Path(folder), region) as (guild, nc):
            company = await set_up(
                nc,
                region,
                members=args.members,
                communities=args.communities,
                pids=guild.pids_with_server,
            )
            watcher = Watcher(nc, region)
            await watcher.start()
            steps, skipped = [], []
            with LagSampler(nc, region) as lags:
                for step, rate in enumerate(args.rates):
                    if steps and steps[-1]["unsettled"]:
                        skipped.append(rate)  # its figures would carry the last step's backlog
                        continue
                    with RssSampler(guild.pids) as rss:
                        figures = await one_step(
                            nc, region, company, watcher, lags, step, rate, args
                        )
                    steps.append({**figures, "rss": rss.figures()})
            await watcher.stop()
    return {
        "setup_seconds": company.seconds,
        "setup_steps": company.steps,
        "steps": steps,
        "skipped_rates": skipped,
        "knee": knee(steps),
    }


def report(figures: dict[str, Any]) -> str:
    services = ("membership", "content", "matching", "notifications")
    rows = [
        (
            s["offered_per_second"],
            s["published_per_second"],
            s["questions"],
            s["completed"],
            s["recipients_per_question"],
            s["sustained_per_second"],
            s["suggested_p50_ms"],
            s["suggested_p99_ms"],
            s["inbox_p50_ms"],
            s["inbox_p99_ms"],
            *(s["lag_max"].get(n, 0) for n in services),
        )
        for s in figures["steps"]
    ]
    lines = [
        table(
            "end to end: questions to 10 members each (latency from publish, ms)",
            [
                "offered/s",
                "paced/s",
                "asked",
                "done",
                "to",
                "sustained/s",
                "suggested p50",
                "p99",
                "inbox p50",
                "p99",
                *(f"lag {n[:6]}" for n in services),
            ],
            rows,
        ),
        knee_line(figures["knee"]),
    ]
    if figures["skipped_rates"]:
        shown = ", ".join(f"{rate:g}" for rate in figures["skipped_rates"])
        lines.append(f"not run: {shown}/s (the step before did not settle within --drain)")
    for step in figures["steps"]:
        rate = f"{step['offered_per_second']:.0f}/s"
        if step["unsettled"]:
            lines.append(f"at {rate} the region did not settle: {step['unsettled']}")
        lines.append(lag_line(f"lags at {rate}", step))
        lines.append(rss_line(f"RSS at {rate}", step["rss"]))
    lines.extend(setup_lines("set-up", figures["setup_steps"]))
    return "\n".join(lines)


def knee_line(found: dict[str, Any] | None) -> str:
    if found is None:
        return "knee: not reached (every step kept up)"
    line = f"knee: {found['per_second']:g} questions/s offered"
    if limit := found["limited_by"]:
        line += (
            f"; limited by {limit['consumer']} (lag grew {limit['lag_growth_per_second']:,.0f}/s "
            f"while offered, largest {limit['largest_lag']:,})"
        )
    return line


def lag_line(title: str, step: dict[str, Any]) -> str:
    """Each consumer that lagged: its largest lag and its growth per second while offered."""
    growth = step["lag_growth_per_second"]
    shown = ", ".join(
        f"{name} {lag:,} ({growth.get(name, 0.0):+,.0f}/s)"
        for name, lag in sorted(step["lag_by_consumer"].items(), key=lambda kv: -kv[1])
        if lag
    )
    return f"{title} (largest, growth while offered): {shown or 'none'}"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--communities", type=int, default=10)
    parser.add_argument("--rates", type=float, nargs="+", default=[50, 100, 200, 500])
    parser.add_argument("--seconds", type=float, default=10, help="longest a step offers")
    parser.add_argument("--per-step", type=int, default=2000, help="most questions a step")
    parser.add_argument("--drain", type=float, default=120, help="longest wait after a step")
    return parser


QUICK = [
    "--members",
    "200",
    "--communities",
    "4",
    "--rates",
    "20",
    "50",
    "--seconds",
    "2",
    "--drain",
    "60",
]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return run_main(NAME, parser(), lambda args: asyncio.run(measure(args)), report, argv)


if __name__ == "__main__":
    main()
