"""Matching's read model of questions: which already answered questions look like a new one.

Similarity is BM25 over the questions' terms (tags and title words), computed with one
``bincount`` per query term over compact postings. A question is only suggested to someone
who may see it: public communities, or private ones they belong to.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import TypeAdapter

from services.matching.domain.records import QuestionRecord
from services.matching.index.members import Column, Postings
from shared.readmodel import Names, pack, unpack

K1, B = 1.2, 0.75
"""BM25's usual constants (term-frequency saturation, length normalisation)."""
_RECORD = TypeAdapter(QuestionRecord)


@dataclass(frozen=True)
class Similar:
    question_id: str
    similarity: float
    """The question's BM25 score relative to the best a question could score (0..1)."""


class QuestionIndex:
    """The projection of matching's questions bucket (key: question id)."""

    VERSION = "questions-1"

    def __init__(self) -> None:
        self.ids = Names()
        self.communities = Names()
        self.vocab = Names()
        self.community = Column(np.int32)
        self.private = Column(np.bool_)
        self.answered = Column(np.bool_)
        self.deleted = Column(np.bool_)
        self.postings = Postings()
        self.document_frequency = array("i")
        self.total_length = 0

    def apply(self, key: str, value: bytes | None) -> None:
        if value is None:
            if (code := self.ids.get(key)) is not None:
                self.deleted.data[code] = True
            return
        record = _RECORD.validate_json(value)
        code = self.ids.get(key)
        if code is None:
            code = self._add(record)
        self.answered.data[code] = record.answered
        self.deleted.data[code] = record.deleted

    def still_open(self, question_id: str) -> bool | None:
        """Whether a question the index holds is neither answered nor deleted (None: it holds
        no such question)."""
        code = self.ids.get(question_id)
        if code is None:
            return None
        return not (self.answered.data[code] or self.deleted.data[code])

    def _add(self, record: QuestionRecord) -> int:
        code = self.ids.code(record.question_id)
        for column in (self.community, self.private, self.answered, self.deleted):
            column.ensure(code + 1)
        self.community.data[code] = self.communities.code(record.community_id)
        self.private.data[code] = record.private
        counts = Counter(record.terms)
        length = max(len(record.terms), 1)
        self.total_length += length
        average = self.total_length / len(self.ids.names)
        for term, frequency in counts.items():
            term_code = self.vocab.code(term)
            while len(self.document_frequency) <= term_code:
                self.document_frequency.append(0)
            self.document_frequency[term_code] += 1
            weight = frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length / average))
            self.postings.add(term_code, code, weight, 1)
        return code

    def similar(
        self,
        terms: Sequence[str],
        *,
        visible_private: Iterable[str],
        excluding: str,
        limit: int,
        at_least: float,
    ) -> list[Similar]:
        """Answered questions most like ``terms`` that the asker may see, best first; only
        those scoring at least ``at_least`` of a perfect match."""
        size = len(self.ids.names)
        documents = max(size, 1)
        score, best = np.zeros(size), 0.0
        for term in dict.fromkeys(terms):
            term_code = self.vocab.get(term)
            if term_code is None:
                continue
            frequency = self.document_frequency[term_code]
            idf = float(np.log1p((documents - frequency + 0.5) / (frequency + 0.5)))
            members, weights, _ = self.postings.of(term_code)
            score += idf * np.bincount(members, weights=weights, minlength=size)[:size]
            best += idf * (K1 + 1) / (1 + K1)
        if best <= 0:
            return []
        shown = self.answered.data[:size] & ~self.deleted.data[:size]
        private_ok = np.zeros(len(self.communities.names) + 1, dtype=bool)
        for community_id in visible_private:
            if (c := self.communities.get(community_id)) is not None:
                private_ok[c] = True
        shown &= ~self.private.data[:size] | private_ok[self.community.data[:size]]
        if (own := self.ids.get(excluding)) is not None:
            shown[own] = False
        relative = np.where(shown, score / best, 0.0)
        order = np.argsort(-relative, kind="stable")[:limit]
        return [
            Similar(self.ids.names[c], round(float(relative[c]), 3))
            for c in order
            if relative[c] >= at_least
        ]

    def snapshot(self) -> bytes:
        size = len(self.ids.names)
        return pack(
            {
                "ids": self.ids.names,
                "communities": self.communities.names,
                "vocab": self.vocab.names,
                "community": array("i", self.community.data[:size].tobytes()),
                "private": self.private.data[:size].tobytes(),
                "answered": self.answered.data[:size].tobytes(),
                "deleted": self.deleted.data[:size].tobytes(),
                "document_frequency": self.document_frequency,
                "numbers": json.dumps({"total_length": self.total_length}).encode(),
                **self.postings.columns("postings"),
            }
        )

    def restore(self, data: bytes) -> None:
        c = unpack(data)
        self.ids, self.communities = Names(c["ids"]), Names(c["communities"])
        self.vocab = Names(c["vocab"])
        self.community = Column(np.int32, np.frombuffer(c["community"], dtype=np.int32).copy())
        for name in ("private", "answered", "deleted"):
            column = Column(np.bool_, np.frombuffer(c[name], dtype=np.bool_).copy())
            setattr(self, name, column)
        self.document_frequency = c["document_frequency"]
        self.total_length = json.loads(c["numbers"])["total_length"]
        self.postings = Postings.from_columns(c, "postings")
        for column in (self.community, self.private, self.answered, self.deleted):
            column.ensure(len(self.ids.names))
