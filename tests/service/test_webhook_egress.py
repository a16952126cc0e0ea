"""Webhooks reach public addresses only, unless the operator allows a network: checked at subscription and,
after resolving the name, on every delivery (DNS rebinding). Real app, real databases, a real receiver."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from civicshield.egress import LOOPBACK, AddressNotAllowed, EgressPolicy, refusal
from civicshield.errors import ConfigurationError
from civicshield.service.app import create_app
from civicshield.service.domain import subscriptions
from civicshield.service.domain.store import principal_for
from civicshield.service.domain.tables import User
from civicshield.service.infra.delivery import deliver_due
from civicshield.service.infra.runtime import Runtime
from civicshield.service.settings import ServiceSettings

from .conftest import Receiver, World, auth
from .test_webhooks import ADMIN, HOOKS, _hook, _log, _ping, _rt

PUBLIC = "93.184.215.14"
NON_PUBLIC = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.0.0.5/admin",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://0.0.0.0:9200/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number: the resolver reads it so
]


@pytest.fixture
def strict(world: World) -> Iterator[TestClient]:
    """The same service and data under the default setting: public addresses only."""
    app = create_app(world.settings.with_(webhook_allowed_networks=()))
    yield TestClient(app)
    app.state.rt.db.dispose()


def _strict_rt(strict: TestClient) -> Runtime:
    rt: Runtime = strict.app.state.rt  # type: ignore[attr-defined]
    return rt


def test_subscriptions_to_non_public_addresses_are_refused_by_default(
    world: World, strict: TestClient
) -> None:
    admin = auth(world, ADMIN)
    for url in NON_PUBLIC:
        r = strict.post(HOOKS, json={"url": url}, headers=admin)
        assert r.status_code == 400, (url, r.text)
        error = r.json()["error"]
        assert error["code"] == "usage_error" and error["detail"]["reason"] == "address_not_allowed", url
    metadata = strict.post(HOOKS, json={"url": NON_PUBLIC[6]}, headers=admin).json()["error"]
    assert metadata["detail"]["kind"] == "link-local" and "169.254.169.254" in metadata["message"]
    assert strict.get(HOOKS, headers=admin).json() == []

    public = strict.post(HOOKS, json={"url": f"https://{PUBLIC}/hook"}, headers=admin)
    assert public.status_code == 201, public.text
    later = strict.post(HOOKS, json={"url": "https://receiver.invalid/hook"}, headers=admin)
    assert later.status_code == 201, later.text  # not resolvable yet: each delivery checks
    moved = strict.patch(f"{HOOKS}/{public.json()['id']}", json={"url": NON_PUBLIC[3]}, headers=admin)
    assert moved.status_code == 400 and moved.json()["error"]["detail"]["address"] == "10.0.0.5"
    assert (
        strict.get(f"{HOOKS}/{public.json()['id']}", headers=admin).json()["url"] == f"https://{PUBLIC}/hook"
    )


def test_an_allowed_network_opens_only_itself(world: World, receiver: Receiver) -> None:
    _hook(world, receiver)  # world allows loopback: its receivers listen on 127.0.0.1
    admin = auth(world, ADMIN)
    for url in ("http://10.0.0.5/admin", "http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/"):
        r = world.client.post(HOOKS, json={"url": url}, headers=admin)
        assert r.status_code == 400, (url, r.text)


def test_a_delivery_to_a_refused_address_fails_once_and_is_not_retried(
    world: World, strict: TestClient, receiver: Receiver
) -> None:
    """A subscription made while loopback was allowed, delivered by a service that no longer allows it."""
    hook = _hook(world, receiver)
    ping = _ping(world, hook["id"])
    rt, t0 = _strict_rt(strict), dt.datetime.now(dt.UTC)
    [outcome] = deliver_due(rt, now=t0)
    assert (outcome.state, outcome.attempt, outcome.status) == ("failed", 1, None)
    assert outcome.error is not None and "127.0.0.1: a loopback address" in outcome.error
    assert receiver.got == []
    assert deliver_due(rt, now=t0 + dt.timedelta(days=1)) == []  # final: no retry, ever
    [entry] = _log(world, hook["id"])
    assert (entry["id"], entry["state"], entry["attempts"]) == (ping["id"], "failed", 1)
    assert "loopback" in entry["last_error"] and entry["next_attempt_at"] is None


def _hook_for_name(world: World, url: str, resolves_to: str) -> tuple[int, str]:
    """A subscription whose host name resolved to ``resolves_to`` when it was made."""
    rt = _rt(world)
    with rt.db.session() as s:
        user = s.get(User, world.ids["factcheck:org_admin:user"])
        assert user is not None
        hook = subscriptions.create_webhook(
            s,
            principal_for(user),
            url=url,
            events=[],
            egress=EgressPolicy(resolver=lambda host, port: [resolves_to]),
        )
        return hook.id, hook.secret


def test_dns_rebinding_to_a_private_address_is_refused_at_delivery(world: World, receiver: Receiver) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://rebind.test:{port}/hooks/civicshield"
    with pytest.raises(AddressNotAllowed, match="loopback"):
        _hook_for_name(world, url, "127.0.0.1")  # what the name resolves to is checked at subscription
    hook_id, secret = _hook_for_name(world, url, PUBLIC)
    receiver.secrets.append(secret)
    ping = _ping(world, hook_id)

    rebound = EgressPolicy(resolver=lambda host, port: ["127.0.0.1"])  # the name now points inside
    [outcome] = deliver_due(_rt(world), egress=rebound)
    assert outcome.state == "failed" and outcome.error is not None
    assert "rebind.test (127.0.0.1): a loopback address" in outcome.error
    mixed = EgressPolicy(resolver=lambda host, port: [PUBLIC, "10.1.2.3"])  # one bad answer spoils all
    redeliver = f"{HOOKS}/{hook_id}/deliveries/{ping['id']}/redeliver"
    again = world.client.post(redeliver, headers=auth(world, ADMIN))
    assert again.status_code == 202, again.text
    [outcome] = deliver_due(_rt(world), egress=mixed)
    assert outcome.state == "failed" and "10.1.2.3" in str(outcome.error)
    assert receiver.got == []

    # Allowed, the delivery goes to the address that was checked (httpx alone cannot resolve rebind.test),
    # under the URL's own Host.
    allowed = EgressPolicy.parse(LOOPBACK, resolver=lambda host, port: ["127.0.0.1"])
    assert world.client.post(redeliver, headers=auth(world, ADMIN)).status_code == 202
    [outcome] = deliver_due(_rt(world), egress=allowed)
    assert outcome.state == "delivered", outcome.error
    [got] = receiver.got
    assert got.verified and got.headers["Host"] == f"rebind.test:{port}"


def test_the_setting_comes_from_the_environment_and_a_bad_network_fails_at_startup() -> None:
    env = {"CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS": " 10.20.0.0/16, ::1 ,", "CIVICSHIELD_SECRET_KEY": "k"}
    settings = ServiceSettings.from_env(env)
    assert settings.webhook_allowed_networks == ("10.20.0.0/16", "::1")
    egress = settings.webhook_egress
    assert egress.addresses("10.20.3.4", 80) == ["10.20.3.4"]
    with pytest.raises(AddressNotAllowed, match="private"):
        egress.addresses("10.21.0.1", 80)
    assert ServiceSettings.from_env({"CIVICSHIELD_SECRET_KEY": "k"}).webhook_allowed_networks == ()
    with pytest.raises(ConfigurationError, match="CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS"):
        ServiceSettings(secret_key="k", webhook_allowed_networks=("10.0.0.0/33",))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "site-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("239.255.255.250", "multicast"),
        ("100.64.0.1", "non-public"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:1::1", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 around 127.0.0.1
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_which_addresses_are_not_public(address: str, kind: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == kind
