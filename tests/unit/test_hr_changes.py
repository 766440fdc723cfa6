"""Every field of an HR change that is given a value reaches the member: the fields come from
the contract itself, so a field added to it is not silently ignored."""

from __future__ import annotations

import dataclasses

from services.membership.domain.model import Member
from services.membership.handlers.hr import hr_changes
from shared.contracts.ingest import PersonChangedV1


class PersonChangedWithPronouns(PersonChangedV1):
    """The contract as it would be with one more field."""

    pronouns: str | None = None


def test_a_field_added_to_the_contract_is_among_the_changes():
    change = PersonChangedWithPronouns(person_id="ana", pronouns="she/her", team="Data")
    assert hr_changes(change) == {"pronouns": "she/her", "team": "Data"}


def test_a_null_is_no_change_and_every_contract_field_is_a_member_field():
    assert hr_changes(PersonChangedV1(person_id="ana", timezone=None)) == {}
    member_fields = {field.name for field in dataclasses.fields(Member)}
    assert set(PersonChangedV1.model_fields) - {"person_id"} <= member_fields
