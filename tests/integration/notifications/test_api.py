"""The member self-service API: bearer tokens from the configured issuer and key set, a
member reaching only their own data; channels, preferences, inbox and one-click unsubscribe
over HTTP (in process, on a real nats-server), and the same operations over NATS."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from standardwebhooks.webhooks import Webhook

from guild_cli.receivers import HttpReceiver, MailSink, Reply
from services.notifications.domain.endpoints import Endpoint, EndpointKind
from services.notifications.domain.links import sign
from shared.storage import kept_secret
from tests.helpers import DEEPLY_NESTED, eventually, request, settled

ISSUER = "https://sso.example.test"
ANA_HR, BOB_HR = "hr-4711", "hr-4712"
"""The HR person ids by which sign-in names members ana and bob."""


class Issuer:
    """An identity provider: a key pair, its JWKS file, and tokens."""

    def __init__(self, tmp_path, kid: str = "k1") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = tmp_path / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": [{**jwk, "kid": kid, "use": "sig"}]}))

    def token(self, member_id: str, *, expires_in: float = 600, issuer: str = ISSUER,
              key=None) -> str:  # fmt: skip
        now = int(time.time())
        claims = {"sub": member_id, "iss": issuer, "aud": "guild", "iat": now,
                  "exp": now + int(expires_in)}  # fmt: skip
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def issuer(tmp_path) -> Issuer:
    return Issuer(tmp_path)


@pytest.fixture
async def api(start_notifications, issuer):
    n = await start_notifications(jwt_issuer=ISSUER, jwks_file=str(issuer.jwks))
    await n.contact("ana", ANA_HR)
    await n.contact("bob", BOB_HR)
    transport = httpx.ASGITransport(app=n.app.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://guild") as client:
        yield n, client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_refused_without_a_token_with_another_members_or_an_expired_one(api, issuer):
    n, client = api
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    inbox = "/v1/members/ana/inbox"
    refused = {
        "no token": (await client.get(inbox)).status_code,
        "bob's token": (await client.get(inbox, headers=bearer(issuer.token(BOB_HR)))).status_code,
        "expired": (await client.get(inbox, headers=bearer(issuer.token(ANA_HR, expires_in=-60))))
        .status_code,
        "another issuer": (await client.get(
            inbox, headers=bearer(issuer.token(ANA_HR, issuer="https://evil.test")))).status_code,
        "another key": (await client.get(
            inbox, headers=bearer(issuer.token(ANA_HR, key=other_key)))).status_code,
        "not a token": (await client.get(inbox, headers=bearer("abc.def.ghi"))).status_code,
    }  # fmt: skip
    assert refused == {"no token": 401, "bob's token": 403, "expired": 401,
                       "another issuer": 401, "another key": 401, "not a token": 401}  # fmt: skip
    stranger = await client.get(inbox, headers=bearer(issuer.token("hr-9999")))
    assert stranger.status_code == 403  # signed in, but nobody homed here
    assert "not a member" in stranger.json()["error"]["message"]
    as_member_id = await client.get(inbox, headers=bearer(issuer.token("ana")))
    assert as_member_id.status_code == 403  # sign-in names people by HR id, not member id
    expired = await client.get(inbox, headers=bearer(issuer.token(ANA_HR, expires_in=-60)))
    assert "expired" in expired.json()["error"]["message"]
    sneaky = await client.post(
        "/v1/members/ana/endpoints",
        headers=bearer(issuer.token(BOB_HR)),
        json={"kind": "webhook", "address": "https://example.com/h"},
    )
    assert sneaky.status_code == 403
    assert (await n.store.member_endpoints("ana")).endpoints == ()
    own = await client.get(inbox, headers=bearer(issuer.token(ANA_HR)))
    assert own.status_code == 200
    assert own.json() == {"member_id": "ana", "items": [], "unread": 0, "next_before": None}
    mine = await client.get("/v1/members/me/inbox", headers=bearer(issuer.token(ANA_HR)))
    assert mine.status_code == 200
    assert mine.json() == own.json()


async def test_a_member_manages_their_channels(api, issuer):
    _, client = api
    me = bearer(issuer.token(ANA_HR))
    base = "/v1/members/ana/endpoints"
    private = await client.post(
        base, headers=me, json={"kind": "webhook", "address": "https://10.1.2.3/hook"}
    )
    assert private.status_code == 422
    assert "private" in private.json()["error"]["message"]
    async with HttpReceiver() as receiver:
        added = await client.post(base, headers=me, json={
            "kind": "webhook", "address": receiver.url + "/hook", "label": "my robot"})  # fmt: skip
        assert added.status_code == 201, added.text
        endpoint_id, secret = (
            added.json()["endpoint"]["endpoint_id"],
            added.json()["signing_secret"],
        )
        assert secret.startswith("whsec_")
        listed = (await client.get(base, headers=me)).json()
        assert listed["endpoints"][0]["address"] == f"http://127.0.0.1:{receiver.port}/..."
        assert "webhook" in listed["offered"]

        verified = await client.post(f"{base}/{endpoint_id}/verify", headers=me)
        assert verified.json() == {"delivered": True, "result": "delivered", "reason": "HTTP 200"}
        (test_message,) = receiver.requests
        Webhook(secret).verify(test_message.body, test_message.headers)
        assert json.loads(test_message.body)["data"]["kind"] == "endpoint_test"

        rotated = (await client.post(f"{base}/{endpoint_id}/rotate-secret", headers=me)).json()
        assert rotated["signing_secret"] not in (None, secret)
        off = await client.put(f"{base}/{endpoint_id}/enabled", headers=me, json={"enabled": False})
        assert off.json()["enabled"] is False
    assert (await client.delete(f"{base}/{endpoint_id}", headers=me)).status_code == 204
    assert (await client.get(base, headers=me)).json()["endpoints"] == []
    assert (await client.delete(f"{base}/{endpoint_id}", headers=me)).status_code == 404


async def test_preferences_and_the_inbox_pages_read_and_archive(api, issuer):
    n, client = api
    me = bearer(issuer.token(ANA_HR))
    prefs = (await client.get("/v1/members/ana/preferences", headers=me)).json()
    assert (prefs["default_watch"], prefs["daily_budget"], prefs["digest"]) == (
        "for_me",
        5,
        "daily",
    )
    assert prefs["quiet_hours"] == {"start": "20:00:00", "end": "08:00:00"}
    bad = await client.put("/v1/members/ana/preferences", headers=me,
                           json={**prefs, "timezone": "Mars/Olympus"})  # fmt: skip
    assert bad.status_code == 422
    prefs |= {"timezone": "Asia/Tokyo", "watch": {"c1": "muted"}, "daily_budget": 20}
    saved = await client.put("/v1/members/ana/preferences", headers=me, json=prefs)
    assert saved.status_code == 200, saved.text
    assert (await client.get("/v1/members/ana/preferences", headers=me)).json() == saved.json()

    await n.member("ana")
    causes = []
    for k in range(3):  # one at a time: a consumer handles those in hand in no order
        causes.append(await n.answer("ana", "bob", f"Question {k}"))

        async def arrived(count: int = k + 1) -> bool:
            return len(await n.inbox("ana")) == count

        await eventually(arrived, what=f"{k + 1} inbox items")
    page = (await client.get("/v1/members/ana/inbox?limit=2", headers=me)).json()
    assert [i["cause_id"] for i in page["items"]] == causes[::-1][:2]
    assert page["unread"] == 3
    assert page["next_before"]
    rest = (await client.get(f"/v1/members/ana/inbox?limit=2&before={page['next_before']}",
                             headers=me)).json()  # fmt: skip
    assert [i["cause_id"] for i in rest["items"]] == causes[:1]
    assert rest["next_before"] is None
    newest, older = page["items"][0]["notification_id"], page["items"][1]["notification_id"]
    for ids, state in (([newest], "read"), ([older], "archived")):
        marked = await client.post("/v1/members/ana/inbox/mark", headers=me,
                                   json={"notification_ids": ids, "state": state})  # fmt: skip
        assert marked.json() == {"changed": 1, "not_found": []}
    shown = (await client.get("/v1/members/ana/inbox", headers=me)).json()
    assert [(i["notification_id"], i["state"]) for i in shown["items"]] == [
        (newest, "read"),
        (rest["items"][0]["notification_id"], "unread"),
    ]
    assert shown["unread"] == 1
    archived = (await client.get("/v1/members/ana/inbox?view=archived", headers=me)).json()
    assert [i["notification_id"] for i in archived["items"]] == [older]


async def test_the_same_operations_over_nats_request_reply(notifications, nc, region):
    async def command(name: str, **payload):
        return await request(
            nc, f"cmd.{region}.notifications.{name}", {"member_id": "ana", **payload}
        )

    async def query(name: str):
        return await request(nc, f"qry.{region}.notifications.{name}", {"member_id": "ana"})

    refused = await command("add_endpoint", kind="slack", address="https://169.254.169.254/x")
    assert refused["error"]["code"] == "invalid_request"
    no_mail = await command("add_endpoint", kind="email", address="ana@example.com")
    assert "not offered" in no_mail["error"]["message"]  # no mail relay in this region
    async with HttpReceiver() as receiver:
        added = await command("add_endpoint", kind="webhook", address=receiver.url + "/h")
        endpoint_id = added["result"]["endpoint"]["endpoint_id"]
        verified = await command("verify_endpoint", endpoint_id=endpoint_id)
        assert verified["result"]["delivered"] is True
        assert len(receiver.requests) == 1
    rotated = await command("rotate_secret", endpoint_id=endpoint_id)
    assert rotated["result"]["signing_secret"] != added["result"]["signing_secret"]
    switched = await command("switch_endpoint", endpoint_id=endpoint_id, enabled=False)
    assert switched["result"]["enabled"] is False
    listed = (await query("endpoints"))["result"]["endpoints"]
    assert [(e["kind"], e["enabled"]) for e in listed] == [("webhook", False)]
    assert (await command("remove_endpoint", endpoint_id=endpoint_id))["ok"]
    assert (await query("endpoints"))["result"]["endpoints"] == []

    prefs = (await query("preferences"))["result"]
    assert prefs["daily_budget"] == 5
    saved = await command("set_preferences", preferences={**prefs, "daily_budget": 9})
    assert saved["result"]["daily_budget"] == 9
    token = sign(await kept_secret(notifications.store.keys, "links"), "ana", "reason:tag:etcd")
    done = await request(nc, f"cmd.{region}.notifications.unsubscribe", {"token": token})
    assert done["result"] == {"member_id": "ana", "turned_off": "notifications because tag:etcd"}
    assert (await query("preferences"))["result"]["reasons_off"] == ["tag:etcd"]
    forged = await request(nc, f"cmd.{region}.notifications.unsubscribe",
                           {"token": token[:-4] + "AAAA"})  # fmt: skip
    assert forged["error"]["code"] == "invalid_request"

    await notifications.member("ana")
    cause = await notifications.answer("ana", "bob", "Anything")

    async def inbox():
        return (await query("inbox"))["result"]["items"]

    (item,) = await eventually(inbox, what="an inbox item")
    assert item["cause_id"] == cause
    marked = await command("mark_inbox", notification_ids=[item["notification_id"]], state="read")
    assert marked["result"] == {"changed": 1, "not_found": []}
    assert (await query("inbox"))["result"]["unread"] == 0


async def test_one_click_unsubscribe_really_turns_that_kind_of_mail_off(
    start_notifications, nc, region
):
    sink = MailSink().start()
    try:
        n = await start_notifications(smtp_host="127.0.0.1", smtp_port=sink.port,
                                      smtp_starttls=False)  # fmt: skip
        await n.member("ana", timezone="UTC")
        await n.store.save_endpoint("ana", Endpoint("mail", EndpointKind.EMAIL, "ana@example.com"))
        await n.answer("ana", "bob", "First question")
        await eventually(lambda: _mails(sink, 1), what="the first mail")
        (mail,) = sink.messages
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        raw = dict(mail.raw_items())["List-Unsubscribe"]
        assert raw.startswith("<http://")
        assert "=?" not in raw  # one URL, not encoded words
        url = mail["List-Unsubscribe"].strip("<>")
        transport = httpx.ASGITransport(app=n.app.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://guild") as client:
            done = await client.post(
                url,
                content=b"List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            tampered = await client.post(url[:-3] + "abc")
        assert done.status_code == 200, done.text
        assert tampered.status_code == 422
        assert n.store.preferences_of("ana").channels_off == {"answer/mail"}

        await n.answer("ana", "bob", "Second question")  # an answer: no more mail
        await n.question("bob", "Over to you", "@ana please")  # another kind: still mailed
        await eventually(lambda: _mails(sink, 2), what="the mention mailed")
        await settled(nc, region)
    finally:
        sink.stop()
    assert [m["Subject"] for m in sink.messages] == [
        "A colleague answered your question: First question",
        "A colleague mentioned you in Community c1: Over to you",
    ]


async def _mails(sink: MailSink, count: int) -> bool:
    return len(sink.messages) >= count


async def test_an_overlong_link_or_id_and_a_deep_or_huge_body_get_a_4xx_with_the_error_body(
    api, issuer
):
    _, client = api
    me = bearer(issuer.token(ANA_HR))
    nested = DEEPLY_NESTED
    answers = {
        "5000-character link": await client.post("/v1/unsubscribe/" + "a" * 5000),
        "5000-character link, GET": await client.get("/v1/unsubscribe/" + "a" * 5000),
        "overlong member id": await client.get("/v1/members/" + "a" * 5000 + "/inbox", headers=me),
        "overlong endpoint id": await client.post(
            "/v1/members/ana/endpoints/" + "e" * 5000 + "/verify", headers=me
        ),
        "10,000-level body": await client.put(
            "/v1/members/ana/preferences", headers={**me, "content-type": "application/json"},
            content=nested,
        ),
        "10,000-level body, no content type": await client.post(
            "/v1/members/ana/inbox/mark", headers=me, content=nested
        ),
        "10 MB body": await client.post(
            "/v1/members/ana/endpoints", headers={**me, "content-type": "application/json"},
            content=b'{"label": "' + b"x" * 10_000_000 + b'"}',
        ),
    }  # fmt: skip
    assert {what: answer.status_code for what, answer in answers.items()} == {
        "5000-character link": 422,
        "5000-character link, GET": 422,
        "overlong member id": 422,
        "overlong endpoint id": 422,
        "10,000-level body": 400,
        "10,000-level body, no content type": 400,
        "10 MB body": 413,
    }
    for what, answer in answers.items():
        assert set(answer.json()) == {"error"}, what
        assert set(answer.json()["error"]) == {"code", "message", "details"}, what
    assert answers["10,000-level body"].json()["error"]["code"] == "invalid_json"
    assert answers["10 MB body"].json()["error"]["code"] == "too_large"
    assert answers["5000-character link"].json()["error"]["details"][0]["field"] == "token"
    still = await client.get("/v1/members/ana/preferences", headers=me)
    assert still.status_code == 200


def _declared(described: dict, path: str, method: str) -> dict:
    return described["paths"][path][method.lower()]["responses"]


async def test_every_status_each_route_answers_is_in_its_openapi_with_the_error_shape(
    start_notifications, issuer, tmp_path
):
    """Drive every route into each status it can answer, and check the OpenAPI document
    declares that status for that operation, with the error body's schema."""
    n = await start_notifications(jwt_issuer=ISSUER, jwks_file=str(issuer.jwks))
    await n.contact("ana", ANA_HR)
    await n.contact("bob", BOB_HR)
    closed = HttpReceiver()  # its port, once stopped, refuses connections: the IdP is down
    await closed.start()
    await closed.stop()
    down = await start_notifications(jwt_issuer=ISSUER, jwks_url=closed.url + "/jwks",
                                     jwks_timeout=2.0)  # fmt: skip
    ana, bob = bearer(issuer.token(ANA_HR)), bearer(issuer.token(BOB_HR))
    bodies = {"/endpoints": {"kind": "webhook", "address": closed.url + "/hook"},
              "/endpoints/{endpoint_id}/enabled": {"enabled": True}, "/preferences": {},
              "/inbox/mark": {"notification_ids": ["x"], "state": "read"}}  # fmt: skip
    invalid = {"/endpoints": {"kind": "pigeon", "address": "x"},
               "/endpoints/{endpoint_id}/enabled": {"enabled": "maybe"},
               "/preferences": {"timezone": "Mars/Olympus"},
               "/inbox/mark": {"notification_ids": [], "state": "read"}}  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=n.app.api),
                                 base_url="http://guild") as client, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=down.app.api), base_url="http://guild"
    ) as client_down:  # fmt: skip
        described = (await client.get("/openapi.json")).json()
        routes = [(path, method.upper()) for path, operations in described["paths"].items()
                  for method in operations]  # fmt: skip
        assert len(routes) == 12
        seen: list[tuple[str, str, int, httpx.Response]] = []

        async def call(c: httpx.AsyncClient, method: str, template: str, *, member: str = "ana",
                       endpoint: str = "nope", token: str = "a" * 40, **kwargs) -> int:  # fmt: skip
            url = template.format(member_id=member, endpoint_id=endpoint, token=token)
            answer = await c.request(method, url, **kwargs)
            seen.append((template, method, answer.status_code, answer))
            return answer.status_code

        for path, method in routes:
            tail = path.removeprefix("/v1/members/{member_id}")
            json_body = bodies.get(tail) if method in ("POST", "PUT") else None
            nested = DEEPLY_NESTED
            assert await call(client, method, path, headers=ana, content=nested) == 400
            assert await call(client, method, path, headers=ana,
                              content=b"[" + b"0," * 100_000 + b"0]") == 413  # fmt: skip
            if not path.startswith("/v1/members/"):
                assert await call(client, method, path, token="a" * 5000) == 422
                assert await call(client, method, path, token="a" * 40) in (200, 422)
                continue
            assert await call(client, method, path, json=json_body) == 401
            assert await call(client, method, path, headers=bob, json=json_body) == 403
            assert await call(client_down, method, path, headers=ana, json=json_body) == 503
            assert await call(client, method, path, headers=ana, member="a" * 100,
                              json=json_body) == 422  # fmt: skip
            if tail in invalid and method in ("POST", "PUT"):
                assert await call(client, method, path, headers=ana, json=invalid[tail]) == 422
            if "{endpoint_id}" in path:
                assert await call(client, method, path, headers=ana, json=json_body) == 404
            else:
                assert await call(client, method, path, headers=ana, json=json_body) < 300

    missing = [(path, method, status) for path, method, status, _ in seen
               if str(status) not in _declared(described, path, method)]  # fmt: skip
    assert missing == []
    for path, method, status, answer in seen:
        if status < 400:
            continue
        body = answer.json()
        assert set(body) == {"error"}, (path, method, status, body)
        assert set(body["error"]) == {"code", "message", "details"}, (path, method, status)
        schema = _declared(described, path, method)[str(status)]["content"]["application/json"]
        assert schema["schema"] == {"$ref": "#/components/schemas/ErrorReply"}, (path, status)
    assert described["components"]["schemas"]["ErrorReply"]["required"] == ["error"]


async def test_marking_counts_only_what_really_changed_in_the_members_own_inbox(api, issuer):
    n, client = api
    await n.member("ana")
    await n.member("bob")
    await n.answer("ana", "carol", "Ana's question")
    await n.answer("bob", "carol", "Bob's question")
    (own,) = await eventually(lambda: n.inbox("ana"), what="ana's item")
    (bobs,) = await eventually(lambda: n.inbox("bob"), what="bob's item")
    me = bearer(issuer.token(ANA_HR))

    async def mark(ids: list[str], state: str = "read") -> dict:
        answer = await client.post("/v1/members/ana/inbox/mark", headers=me,
                                   json={"notification_ids": ids, "state": state})  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.json()

    ids = [own.notification_id, bobs.notification_id, "no-such-item"]
    assert await mark(ids) == {"changed": 1, "not_found": ids[1:]}
    assert await mark(ids) == {"changed": 0, "not_found": ids[1:]}
    assert await mark(["no-such-item"], "archived") == {"changed": 0, "not_found": ["no-such-item"]}
    bob_sees = await client.get("/v1/members/bob/inbox", headers=bearer(issuer.token(BOB_HR)))
    assert bob_sees.json()["unread"] == 1
    assert [k async for k, _ in n.store.inbox_state.items("ana.*")] == [
        f"ana.{own.notification_id}"
    ]


async def test_an_endpoint_the_delivery_path_turned_off_is_listed_as_disabled(api, issuer):
    n, client = api
    me = bearer(issuer.token(ANA_HR))
    await n.member("ana")
    async with HttpReceiver(lambda _: Reply(410, {}, b"gone")) as receiver:
        hook = await n.webhook("ana", receiver.url + "/hook")
        await n.answer("ana", "bob", "Anything")

        async def turned_off():
            endpoint = await n.store.endpoint("ana", hook.endpoint_id)
            return endpoint if endpoint and endpoint.disabled_reason else None

        await eventually(turned_off, what="the endpoint turned off by the 410")
    (listed,) = (await client.get("/v1/members/ana/endpoints", headers=me)).json()["endpoints"]
    assert (listed["enabled"], listed["disabled_reason"]) == (
        False,
        "HTTP 410: the endpoint no longer exists",
    )
    url = f"/v1/members/ana/endpoints/{hook.endpoint_id}/enabled"
    on = (await client.put(url, headers=me, json={"enabled": True})).json()
    assert (on["enabled"], on["disabled_reason"]) == (True, None)
    off = (await client.put(url, headers=me, json={"enabled": False})).json()
    assert (off["enabled"], off["disabled_reason"]) == (False, None)
