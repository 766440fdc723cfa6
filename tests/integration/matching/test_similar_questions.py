"""Similar questions over a real nats-server: the asker hears of answered look-alikes."""

from __future__ import annotations

from shared.contracts import matching as x


async def test_the_asker_is_told_of_answered_questions_that_look_the_same(matching):
    await matching.community("golang")
    await matching.member("ana")
    await matching.member("ben", skills=[{"name": "go", "level": "expert"}])
    await matching.member("eve")
    await matching.question("q1", "ana", "Cancel a goroutine blocked on a channel read", ["go"])
    await matching.answer("a1", "q1", "ben", "Cancel a goroutine blocked on a channel read", ["go"])
    await matching.question("q2", "ana", "Profiling memory of a Java service", ["java"])
    await matching.answer("a2", "q2", "ben", "Profiling memory of a Java service", ["java"])
    await matching.question("q3", "ana", "Unanswered: goroutine channel cancel", ["go"])
    await matching.settled()

    await matching.question("q4", "eve", "How to cancel a goroutine waiting on a channel?", ["go"])
    found = [
        e for e in await matching.published(x.SimilarQuestionsFoundV1) if e["question_id"] == "q4"
    ]
    assert len(found) == 1
    similar = [s["question_id"] for s in found[0]["similar"]]
    assert similar == ["q1"]  # answered and alike; not the Java one, not the unanswered one
    assert found[0]["asker"]["member_id"] == "eve"
    (told,) = [i for i in await matching.inbox("eve") if i["kind"] == "similar_questions"]
    assert "Cancel a goroutine blocked on a channel read" in told["body"]
