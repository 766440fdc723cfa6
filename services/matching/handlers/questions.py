"""Questions: similar ones for the asker, routing to the people most likely to answer, waves
while nobody has, and what each routed person did (answered, ignored, declined).

Per question posted, matching decides in memory and writes in three pipelined steps, each a
round trip however many writes it holds:

1. the question record (a create; a question the index holds already is a redelivery,
   routed only if still open, and its record stays as stored), one route per person asked
   (creates, so nobody is asked twice about a question), and the similar questions found
   for the asker;
2. the ``experts_suggested`` event;
3. the question's routing state (waves sent, when to look again), which marks the wave done.

Routes go before the event and the state after it, so that a crash at any point leaves what a
redelivery completes without repeating anything visible: routes stored for a wave whose event
may not have gone out make the redelivery send that same wave again (same people, same
derived event id, which JetStream drops if it was stored). Routes and routing states change
the read model at once (:mod:`shared.own_writes`), the question record when
its follower brings it (see below): choosing and recording who is asked is one step, so two
questions handled at once see each other's routes, and each other's use of a member's
budget. How much each member was asked lately is kept as routes are recorded
(:class:`~services.matching.domain.routing.RouteLog`), not counted per candidate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from services.matching.domain.records import (
    ACCEPTED,
    RETRACTED,
    UNACCEPTED,
    AnswerRecord,
    Outcome,
    QuestionRecord,
    Routed,
)
from services.matching.domain.routing import (
    Candidate,
    Held,
    Pick,
    RoutingState,
    TermCount,
    Wave,
    choose,
    due,
    next_look,
    reasons,
)
from services.matching.events import inbound, public
from services.matching.handlers import Deps
from shared.contracts import content as c
from shared.contracts.matching import DeclineQuestion, QuestionDeclined
from shared.envelope import Envelope
from shared.ids import derived_id
from shared.tasks import pipelined

# ------------------------------------------------------------------ a question is posted


async def when_question_posted_route_it(event: Envelope[c.QuestionPostedV1], deps: Deps) -> None:
    """Tell the asker about similar answered questions; alert the best people at work now."""
    question, store = inbound.question_record(event.data), deps.store
    similar = await _similar_questions(question, deps) if _asked_here(event, deps) else []
    still_open = store.question_index.still_open(question.question_id)
    first = [
        *_tell_similar(event, similar, deps),
        # into the index when its follower brings it: the index serves answered questions, and
        # tells a redelivery from a new question once the record is stored, not before
        store.questions.create(question.question_id, question),
    ]
    if still_open is not False and store.open_routing.get(question.question_id) is None:
        state = RoutingState(
            question.question_id, question.community_id, question.posted_at, next_at=deps.clock()
        )
        await route(question, state, deps, also=first)
    else:
        await pipelined(first)  # a redelivery: what was learned since stays


def _asked_here(event: Envelope[c.QuestionPostedV1], deps: Deps) -> bool:
    return event.data.asker.home_region == deps.region


async def _similar_questions(
    question: QuestionRecord, deps: Deps
) -> list[tuple[QuestionRecord, float]]:
    """Answered questions like this one that its asker may see, and how alike they are."""
    asker = deps.store.model.profile(question.asker_id)
    found = deps.store.question_index.similar(
        question.terms,
        visible_private=asker.communities if asker else (),
        excluding=question.question_id,
        limit=deps.policy.similar_questions,
        at_least=deps.policy.similar_at_least,
    )
    records = await pipelined(deps.store.questions.get(s.question_id) for s in found)
    return [(r.value, s.similarity) for s, r in zip(found, records, strict=True) if r]


def _tell_similar(
    event: Envelope[c.QuestionPostedV1], similar: list[tuple[QuestionRecord, float]], deps: Deps
) -> list[Awaitable[object]]:
    if not similar:
        return []
    scores = {record.question_id: score for record, score in similar}
    records = [record for record, _ in similar]
    told = public.similar_questions(event.data, records, scores, deps.clock())
    return [
        deps.events.publish_caused_by(
            event, told, purpose="similar_questions", subject=event.data.question_id
        )
    ]


# ------------------------------------------------------------------ routing waves


async def route(
    question: QuestionRecord,
    state: RoutingState,
    deps: Deps,
    also: list[Awaitable[object]] | None = None,
) -> RoutingState:
    """Send the wave that is due (if any) and store when to look again; ``also``: writes of
    the caller's, pipelined with the wave's first."""
    now, first = deps.clock(), also or []
    plan = due(state, now, deps.policy.escalation)
    if plan.experts:
        picks, held = _choose_experts(question, state, plan.number, deps, now)
        if picks:
            wave = Wave(plan.number, now, tuple(p.member_id for p in picks))
            want = deps.policy.experts_per_question
            state = state.with_wave(
                wave, next_look(state, wave, held, want, deps.policy.escalation)
            )
            await _alert(question, wave, picks, held, deps, also=first)
            first = []
        elif held:
            soonest = now + deps.policy.escalation.soonest
            state = replace(state, next_at=max(min(h.not_before for h in held), soonest))
            if not state.waves:
                first.append(_say_who_waits(question, plan.number, held, deps, now))
        else:
            plan = replace(plan, experts=False, facilitators=True)
    if plan.facilitators:
        state = await _tell_facilitators(question, state, plan.number, deps, now, also=first)
        first = []
    await pipelined(first)
    await _save_state(state, deps)
    return state


def _choose_experts(
    question: QuestionRecord, state: RoutingState, number: int, deps: Deps, now: datetime
) -> tuple[list[Pick], list[Held]]:
    """Who to ask in wave ``number``: nobody the question was routed to before; and if some
    were routed in this very wave already (a crash before it was done), them again first."""
    model, today = deps.store.model, now.date()
    earlier = model.routed_about(question.question_id)
    again = sorted(m for m, routed in earlier.items() if routed.wave == number)
    allowed = model.mask(
        home_region=deps.region,
        community_id=question.community_id if question.private else None,
        excluding=[question.asker_id, *state.alerted, *state.declined, *earlier],
    )
    ranked = model.rank(question.terms, now.timestamp(), allowed, deps.policy.ranked_pool)
    candidates = [
        Candidate(profile, r.score)
        for r in ranked
        if r.knows
        and (profile := model.profile(r.member_id)) is not None
        and profile.available_on(today)
    ]
    resumed = [Candidate(p, 0.0) for m in again if (p := model.profile(m)) is not None]
    loads = {
        c.profile.member_id: model.load(c.profile.member_id, now) for c in (*resumed, *candidates)
    }
    chosen, held = choose(
        candidates,
        loads,
        now=now,
        how_many=deps.policy.experts_per_question - len(resumed),
        budget=deps.policy.budget,
    )
    picks = []
    for candidate in (*resumed, *chosen):
        member_id = candidate.profile.member_id
        evidence = tuple(
            TermCount(e.term, e.answers, e.accepted, e.declared)
            for e in model.evidence(member_id, question.terms)
        )
        detailed = replace(
            candidate,
            evidence=evidence,
            recent_answers=model.recent_answers(member_id, now.timestamp()),
        )
        picks.append(
            Pick(
                member_id,
                candidate.profile.home_region,
                round(candidate.score, 6),
                reasons(detailed, loads[member_id], now),
            )
        )
    return picks, held


async def _tell_facilitators(
    question: QuestionRecord,
    state: RoutingState,
    number: int,
    deps: Deps,
    now: datetime,
    also: list[Awaitable[object]],
) -> RoutingState:
    community = deps.store.directory.get(question.community_id)
    here = [
        (m, h)
        for m, h in (community.facilitators if community else ())
        if h == deps.region and m != question.asker_id
    ]
    if not here:
        await pipelined(also)
        return state.close("nobody left to ask here")
    hours = max(1, round((now - question.posted_at).total_seconds() / 3600))
    why = (
        f"you facilitate {community.name if community else question.community_id}",
        f"unanswered for {hours} h after {state.expert_waves} waves of experts",
    )
    picks = [Pick(member_id, home, 0.0, why) for member_id, home in here]
    wave = Wave(number, now, tuple(p.member_id for p in picks), facilitators=True)
    state = state.with_wave(wave, None).close("facilitators told")
    await _alert(question, wave, picks, [], deps, also=also)
    return state


async def _alert(
    question: QuestionRecord,
    wave: Wave,
    picks: list[Pick],
    held: list[Held],
    deps: Deps,
    also: list[Awaitable[object]],
) -> None:
    """Record who is asked (in the read model at once), then tell them: the routes are
    stored before the event goes out (see the module doc)."""
    routed = Routed(at=wave.at, wave=wave.number)
    asked = [deps.store.ask(p.member_id, question.question_id, routed) for p in picks]
    await pipelined([*asked, *also])
    community = deps.store.directory.get(question.community_id)
    name = community.name if community else question.community_id
    suggested = public.experts_suggested(question, name, wave, picks, held, wave.at)
    event_id = derived_id("experts_suggested", deps.region, question.question_id, str(wave.number))
    await deps.events.publish(suggested, event_id=event_id, subject=question.question_id)


async def _say_who_waits(
    question: QuestionRecord, number: int, held: list[Held], deps: Deps, now: datetime
) -> None:
    """Nobody can be asked now (all outside working hours or asked enough): say so once, with
    who will be asked and when (a suggestion event with no suggestions)."""
    wave = Wave(number, now, ())
    community = deps.store.directory.get(question.community_id)
    name = community.name if community else question.community_id
    waiting = sorted(held, key=lambda h: h.not_before)
    notice = public.experts_suggested(question, name, wave, [], waiting, now)
    event_id = derived_id("experts_waiting", deps.region, question.question_id)
    await deps.events.publish(notice, event_id=event_id, subject=question.question_id)


async def _save_state(state: RoutingState, deps: Deps) -> None:
    if state.closed:
        if deps.store.open_routing.get(state.question_id) is not None:
            await deps.store.delete("routing", deps.store.routing, state.question_id)
    else:
        await deps.store.put("routing", deps.store.routing, state.question_id, state)


async def escalate_due_questions(deps: Deps) -> int:
    """The chore: send the waves that are due, questions nobody was asked about yet first
    (then the oldest), so escalations do not use up the budgets a new question needs.
    Returns how many questions had one."""
    now, sent = deps.clock(), 0
    states = sorted(deps.store.open_routing.items.values(),
                    key=lambda s: (len(s.waves), s.posted_at, s.question_id))  # fmt: skip
    for state in states:
        if not due(state, now, deps.policy.escalation).number:
            continue
        found = await deps.store.questions.get(state.question_id)
        if found is None or found.value.answered or found.value.deleted:
            await _save_state(state.close("answered" if found else "deleted"), deps)
            continue
        await route(found.value, state, deps)
        sent += 1
    return sent


# ------------------------------------------------------------------ answers and outcomes


async def when_answer_posted_learn_and_stop(event: Envelope[c.AnswerPostedV1], deps: Deps) -> None:
    """The answerer's expertise grows; routing of the question stops; the people it was sent
    to are marked answered (the answerer) or ignored (the others)."""
    record = inbound.answer_record(event.data)
    await deps.store.answers.create(record.answer_id, record)  # a redelivery finds it there
    writes: list[Awaitable[object]] = []
    if event.data.answer.author.home_region == deps.region:
        evidence = inbound.evidence_of(record)
        writes.append(deps.store.add_evidence(record.author_id, record.answer_id, evidence))
    writes.append(
        _change_question(record.question_id, deps, lambda q: replace(q, answers=q.answers + 1))
    )
    writes += _settle_outcomes(record.question_id, record.author_id, deps)
    if (state := deps.store.open_routing.get(record.question_id)) is not None:
        writes.append(_save_state(state.close("answered"), deps))
    await pipelined(writes)


def _settle_outcomes(question_id: str, answerer: str, deps: Deps) -> list[Awaitable[object]]:
    """Everyone the question was routed to and who has not responded: the answerer answered,
    the others ignored it."""
    writes = []
    for member_id, routed in sorted(deps.store.model.routed_about(question_id).items()):
        if routed.outcome == Outcome.ALERTED:
            outcome = Outcome.ANSWERED if member_id == answerer else Outcome.IGNORED
            writes.append(
                deps.store.save_routed(member_id, question_id, replace(routed, outcome=outcome))
            )
    return writes


async def when_answer_accepted_learn(event: Envelope[c.AnswerAcceptedV1], deps: Deps) -> None:
    """An accepted answer counts twice as evidence of the answerer's expertise."""
    found = await deps.store.answers.get(event.data.answer.post_id)
    if found is None:
        return  # an answer matching never saw (posted before it existed): nothing to credit
    record = replace(found.value, accepted=found.value.accepted + 1)
    await deps.store.answers.put(record.answer_id, record)
    if event.data.answer.author.home_region == deps.region:
        await deps.store.add_evidence(
            record.author_id,
            f"{record.answer_id}-{record.accepted}",
            inbound.evidence_of(record, ACCEPTED),
        )
    await _change_question(record.question_id, deps, lambda q: replace(q, accepted=True))


async def when_post_deleted_forget_it(event: Envelope[c.PostDeletedV1], deps: Deps) -> None:
    """A deleted answer stops counting as evidence; a deleted question stops being routed
    and suggested."""
    post = event.data.post
    if post.kind == c.PostKind.ANSWER:
        await _retract_answer(post.post_id, post.author.home_region == deps.region, deps)
    elif post.kind == c.PostKind.QUESTION:
        await _change_question(post.post_id, deps, lambda q: replace(q, deleted=True))
        state = deps.store.open_routing.get(post.post_id)
        if state is not None:
            await _save_state(state.close("deleted"), deps)


async def _retract_answer(answer_id: str, home: bool, deps: Deps) -> None:
    found = await deps.store.answers.get(answer_id)
    if found is None or found.value.retracted:
        return
    record: AnswerRecord = replace(found.value, retracted=True)
    await deps.store.answers.put(answer_id, record)
    if home:
        await deps.store.add_evidence(
            record.author_id, answer_id, inbound.evidence_of(record, RETRACTED)
        )
        if record.is_accepted:
            await deps.store.add_evidence(
                record.author_id,
                f"{answer_id}-{record.accepted}",
                inbound.evidence_of(record, UNACCEPTED),
            )
    await _change_question(
        record.question_id, deps, lambda q: replace(q, answers=max(q.answers - 1, 0))
    )


async def _change_question(
    question_id: str, deps: Deps, change: Callable[[QuestionRecord], QuestionRecord]
) -> None:
    """Store ``change(question)`` if matching knows the question and it changes anything
    (compare-and-set: two answers handled at once both count)."""

    def changed(held: QuestionRecord | None) -> QuestionRecord | None:
        return new if held is not None and (new := change(held)) != held else None

    await deps.store.change("questions", deps.store.questions, question_id, changed)


# ------------------------------------------------------------------ commands


async def decline_question(command: DeclineQuestion, deps: Deps) -> QuestionDeclined:
    """A member alerted about a question says it is not for them: never asked about it
    again, and their response rate counts it."""
    routed = deps.store.model.routes_of(command.member_id).get(command.question_id)
    if routed is None:
        return QuestionDeclined(
            question_id=command.question_id, member_id=command.member_id, declined=False
        )
    if routed.outcome != Outcome.DECLINED:
        await deps.store.save_routed(
            command.member_id, command.question_id, replace(routed, outcome=Outcome.DECLINED)
        )
    state = deps.store.open_routing.get(command.question_id)
    if state is not None and command.member_id not in state.declined:
        await _save_state(replace(state, declined=(*state.declined, command.member_id)), deps)
    return QuestionDeclined(
        question_id=command.question_id, member_id=command.member_id, declined=True
    )
