"""The whole slice with the four services in one process, on a real nats-server."""

from __future__ import annotations

from services.content.bootstrap import build_app as build_content
from services.content.settings import ContentSettings
from services.matching.bootstrap import build_app as build_matching
from services.matching.settings import MatchingSettings
from services.membership.bootstrap import build_app as build_membership
from services.membership.settings import MembershipSettings
from services.notifications.bootstrap import build_app as build_notifications
from services.notifications.settings import NotificationsSettings
from tests.helpers import cloudevent, eventually, publish_event, request, running, settings_for


def hire(person_id, name, region, tz, skills):
    return cloudevent("guild.ingest.hr.person_hired.v1", {
        "person_id": person_id, "display_name": name, "email": f"{person_id}@example.com",
        "region": region, "timezone": tz,
        "skills": [{"name": n, "level": lvl} for n, lvl in skills],
    })


async def test_slice(nc, nats_url, region):
    apps = [
        build_membership(settings_for(MembershipSettings, region, nats_url)),
        build_content(settings_for(ContentSettings, region, nats_url)),
        build_matching(settings_for(MatchingSettings, region, nats_url)),
        build_notifications(settings_for(NotificationsSettings, region, nats_url)),
    ]
    async with running(*apps):
        subject = f"ingest.{region}.hr.person_hired.v1"
        await publish_event(nc, subject, hire("fac", "Lena Vogel", "eu", "Europe/Berlin", [("kubernetes", "expert")]))
        await publish_event(nc, subject, hire("exp", "Sam Lee", "us", "America/New_York", [("kubernetes", "advanced"), ("etcd", "expert")]))
        await publish_event(nc, subject, hire("new", "Priya Raman", "apac", "Asia/Kolkata", [("kubernetes", "beginner")]))

        async def member_exists(mid):
            return (await request(nc, f"qry.{region}.membership.get_member", {"member_id": mid}))["ok"]
        for mid in ("fac", "exp", "new"):
            await eventually(lambda mid=mid: member_exists(mid))
        assert (await request(nc, f"cmd.{region}.membership.create_community", {
            "community_id": "k8s", "name": "Kubernetes Operators", "facilitator_ids": ["fac"]}))["ok"]
        for mid in ("fac", "exp", "new"):
            r = await request(nc, f"cmd.{region}.membership.join_community", {"community_id": "k8s", "member_id": mid})
            assert r["ok"], r

        async def inbox(mid):
            r = await request(nc, f"qry.{region}.notifications.inbox", {"member_id": mid})
            assert r["ok"], r
            return r["result"]["items"]

        items = await eventually(lambda: inbox("fac"))
        print(items)

        async def question_known():
            return (await request(nc, f"qry.{region}.content.get_post", {"post_id": "x"}))
        await publish_event(nc, f"ingest.{region}.content.question_asked.v1", cloudevent(
            "guild.ingest.content.question_asked.v1",
            {"question_ref": "q1", "community_id": "k8s", "asker_id": "new",
             "title": "How do we rotate etcd certificates?", "text": "Our etcd certs expire soon", "tags": ["kubernetes"]}))

        async def expert_alert():
            return [i for i in await inbox("exp") if i["kind"] == "question_for_you"]
        alerts = await eventually(expert_alert)
        print(alerts)
        print(await inbox("new"))
