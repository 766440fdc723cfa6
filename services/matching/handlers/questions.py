"""Questions: similar ones for the asker, routing to the people most likely to answer, waves
while nobody has, and what each routed person did (answered, ignored, declined)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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

# ------------------------------------------------------------------ a question is posted


async def when_question_posted_route_it(event: Envelope[c.QuestionPostedV1], deps: Deps) -> None:
    """Tell the asker about similar answered questions; alert the best people at work now."""
    question = await _record_question(inbound.question_record(event.data), deps)
    if event.data.asker.home_region == deps.region:
        await _tell_similar_questions(event, question, deps)
    held = deps.store.open_routing.get(question.question_id)
    if held is None and not question.answered and not question.deleted:
        state = RoutingState(
            question.question_id, question.community_id, question.posted_at, next_at=deps.clock()
        )
        await route(question, state, deps)


async def _record_question(question: QuestionRecord, deps: Deps) -> QuestionRecord:
    held = await deps.store.questions.get(question.question_id)
    if held is not None:
        return held.value  # a redelivery: what was learned since stays
    await deps.store.put("questions", deps.store.questions, question.question_id, question)
    return question


async def _tell_similar_questions(
    event: Envelope[c.QuestionPostedV1], question: QuestionRecord, deps: Deps
) -> None:
    asker = deps.store.model.profile(question.asker_id)
    found = deps.store.question_index.similar(
        question.terms,
        visible_private=asker.communities if asker else (),
        excluding=question.question_id,
        limit=deps.policy.similar_questions,
        at_least=deps.policy.similar_at_least,
    )
    records = [r.value for s in found if (r := await deps.store.questions.get(s.question_id))]
    if records:
        scores = {s.question_id: s.similarity for s in found}
        told = public.similar_questions(event.data, records, scores, deps.clock())
        await deps.events.publish_caused_by(
            event, told, purpose="similar_questions", subject=question.question_id
        )


# ------------------------------------------------------------------ routing waves


async def route(question: QuestionRecord, state: RoutingState, deps: Deps) -> RoutingState:
    """Send the wave that is due (if any) and store when to look again."""
    now = deps.clock()
    plan = due(state, now, deps.policy.escalation)
    if plan.experts:
        picks, held = _choose_experts(question, state, deps, now)
        if picks:
            wave = Wave(plan.number, now, tuple(p.member_id for p in picks))
            want = deps.policy.experts_per_question
            state = state.with_wave(
                wave, next_look(state, wave, held, want, deps.policy.escalation)
            )
            await _alert(question, state, wave, picks, held, deps)
        elif held:
            soonest = now + deps.policy.escalation.soonest
            state = replace(state, next_at=max(min(h.not_before for h in held), soonest))
            if not state.waves:
                await _say_who_waits(question, plan.number, held, deps, now)
        else:
            plan = replace(plan, experts=False, facilitators=True)
    if plan.facilitators:
        state = await _tell_facilitators(question, state, plan.number, deps, now)
    await _save_state(state, deps)
    return state


def _choose_experts(
    question: QuestionRecord, state: RoutingState, deps: Deps, now: datetime
) -> tuple[list[Pick], list[Held]]:
    model, today = deps.store.model, now.date()
    allowed = model.mask(
        home_region=deps.region,
        community_id=question.community_id if question.private else None,
        excluding=[question.asker_id, *state.alerted, *state.declined],
    )
    ranked = model.rank(question.terms, now.timestamp(), allowed, deps.policy.ranked_pool)
    candidates = [
        Candidate(profile, r.score)
        for r in ranked
        if r.knows
        and (profile := model.profile(r.member_id)) is not None
        and profile.available_on(today)
    ]
    loads = {c.profile.member_id: model.load(c.profile.member_id, now) for c in candidates}
    chosen, held = choose(
        candidates,
        loads,
        now=now,
        how_many=deps.policy.experts_per_question,
        budget=deps.policy.budget,
    )
    picks = []
    for candidate in chosen:
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
    question: QuestionRecord, state: RoutingState, number: int, deps: Deps, now: datetime
) -> RoutingState:
    community = deps.store.directory.get(question.community_id)
    here = [
        (m, h)
        for m, h in (community.facilitators if community else ())
        if h == deps.region and m != question.asker_id
    ]
    if not here:
        return state.close("nobody left to ask here")
    hours = max(1, round((now - question.posted_at).total_seconds() / 3600))
    why = (
        f"you facilitate {community.name if community else question.community_id}",
        f"unanswered for {hours} h after {state.expert_waves} waves of experts",
    )
    picks = [Pick(member_id, home, 0.0, why) for member_id, home in here]
    wave = Wave(number, now, tuple(p.member_id for p in picks), facilitators=True)
    state = state.with_wave(wave, None).close("facilitators told")
    await _alert(question, state, wave, picks, [], deps)
    return state


async def _alert(
    question: QuestionRecord,
    state: RoutingState,
    wave: Wave,
    picks: list[Pick],
    held: list[Held],
    deps: Deps,
) -> None:
    routed = Routed(at=wave.at, wave=wave.number)
    await asyncio.gather(
        *(deps.store.save_routed(p.member_id, question.question_id, routed) for p in picks)
    )
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
    if await deps.store.answers.get(record.answer_id) is None:
        await deps.store.answers.put(record.answer_id, record)
    if event.data.answer.author.home_region == deps.region:
        await deps.store.add_evidence(
            record.author_id, record.answer_id, inbound.evidence_of(record)
        )
    await _change_question(record.question_id, deps, lambda q: replace(q, answers=q.answers + 1))
    state = deps.store.open_routing.get(record.question_id)
    await _settle_outcomes(record.question_id, record.author_id, state, deps)
    if state is not None:
        await _save_state(state.close("answered"), deps)


async def _settle_outcomes(
    question_id: str, answerer: str, state: RoutingState | None, deps: Deps
) -> None:
    alerted = set(state.alerted) if state else set()
    mine = deps.store.model.routes_of(answerer).get(question_id)
    if mine is not None:
        alerted.add(answerer)
    for member_id in sorted(alerted):
        routed = deps.store.model.routes_of(member_id).get(question_id)
        if routed is None or routed.outcome != Outcome.ALERTED:
            continue
        outcome = Outcome.ANSWERED if member_id == answerer else Outcome.IGNORED
        await deps.store.save_routed(member_id, question_id, replace(routed, outcome=outcome))


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
    """Store ``change(question)`` if matching knows the question and it changes anything."""
    found = await deps.store.questions.get(question_id)
    if found is not None and (changed := change(found.value)) != found.value:
        await deps.store.put("questions", deps.store.questions, question_id, changed)


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
