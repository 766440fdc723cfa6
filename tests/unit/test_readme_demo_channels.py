"""The README says truly which demo members get a mail address or a webhook."""

from __future__ import annotations

import re
from pathlib import Path

from guild_cli.demo_data import COMMUNITIES
from guild_cli.demo_deliveries import MAIL, WEBHOOK

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def named(after: str) -> list[str]:
    """The member ids in the parenthesis that follows ``after`` in the README."""
    found = re.search(re.escape(after) + r"[^(]*\((?P<ids>[^)]*)\)", README)
    assert found, f"the README does not say {after!r}"
    return sorted(re.findall(r"`(e\d+)`", found["ids"]))


def test_the_readme_names_the_members_who_get_a_demo_mail_address():
    assert named("a mail address to") == sorted(MAIL)


def test_the_readme_names_the_members_who_get_a_demo_webhook():
    assert named("a webhook to") == sorted(WEBHOOK)


def test_mail_goes_to_one_facilitator_of_each_community_as_the_readme_says():
    assert "one facilitator of each community" in README
    for community in COMMUNITIES:
        assert len(set(MAIL) & set(community.facilitators)) == 1, community.community_id
    assert set(MAIL) <= {f for c in COMMUNITIES for f in c.facilitators}


def test_webhooks_go_to_the_kubernetes_facilitators_as_the_readme_says():
    assert "both facilitators of Kubernetes Operators" in README
    k8s = next(c for c in COMMUNITIES if c.name == "Kubernetes Operators")
    assert sorted(WEBHOOK) == sorted(k8s.facilitators)
