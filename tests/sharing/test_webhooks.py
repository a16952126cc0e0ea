from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from civicshield.errors import ConfigurationError, SigningError
from civicshield.sharing import (
    Delivery,
    InMemorySeenDeliveries,
    new_webhook_secret,
    sign_delivery,
    verify_delivery,
)
from civicshield.sharing.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER

OLD = "cswh_old-secret-0123456789abcdef"
NEW = "cswh_new-secret-fedcba9876543210"
NOW = 1_717_171_717
BODY = json.dumps({"event": "fact_check.published", "url": "https://factcheck.example/1"}).encode()


def _sign(
    body: bytes = BODY, *, secrets: list[str] | None = None, delivery_id: str = "d-1", at: int = NOW
) -> dict[str, str]:
    return sign_delivery(body, secrets=secrets or [NEW], delivery_id=delivery_id, timestamp=at)


def _reason(excinfo: pytest.ExceptionInfo[SigningError]) -> object:
    return excinfo.value.detail["reason"]


def test_signed_delivery_verifies() -> None:
    headers = _sign()
    assert verify_delivery(BODY, headers, secrets=[NEW], now=NOW + 10) == Delivery("d-1", NOW)


def test_wire_format_is_documented_hmac() -> None:
    headers = _sign()
    expected = hmac.new(NEW.encode(), f"d-1.{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: f"t={NOW},v1={expected}"}


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in _sign().items()}
    assert verify_delivery(BODY, headers, secrets=[NEW], now=NOW).delivery_id == "d-1"


def test_tampered_body_is_rejected() -> None:
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY.replace(b"published", b"retracted"), _sign(), secrets=[NEW], now=NOW)
    assert _reason(caught) == "bad_signature"
    assert caught.value.code == "signing_failed"


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, _sign(), secrets=[OLD], now=NOW)
    assert _reason(caught) == "bad_signature"


@pytest.mark.parametrize(("age", "reason"), [(301, "stale_timestamp"), (-301, "future_timestamp")])
def test_timestamps_outside_the_window_are_rejected(age: int, reason: str) -> None:
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, _sign(), secrets=[NEW], now=NOW + age)
    assert _reason(caught) == reason
    assert verify_delivery(BODY, _sign(), secrets=[NEW], now=NOW + 300, tolerance_s=300)


def test_a_shifted_timestamp_breaks_the_signature() -> None:
    headers = _sign()
    headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].replace(f"t={NOW}", f"t={NOW + 60}")
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, headers, secrets=[NEW], now=NOW + 60)
    assert _reason(caught) == "bad_signature"


def test_replay_of_the_same_delivery_is_rejected() -> None:
    clock = [float(NOW)]
    seen = InMemorySeenDeliveries(clock=lambda: clock[0])
    headers = _sign()
    verify_delivery(BODY, headers, secrets=[NEW], now=NOW, seen=seen)
    clock[0] = NOW + 30
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, headers, secrets=[NEW], now=NOW + 30, seen=seen)
    assert _reason(caught) == "replayed"


def test_replay_under_a_new_delivery_id_fails_the_signature() -> None:
    headers = _sign() | {DELIVERY_HEADER: "d-2"}
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, headers, secrets=[NEW], now=NOW, seen=InMemorySeenDeliveries(clock=lambda: NOW))
    assert _reason(caught) == "bad_signature"


def test_forged_deliveries_do_not_poison_the_replay_cache() -> None:
    seen = InMemorySeenDeliveries(clock=lambda: NOW)
    forged = _sign(secrets=[OLD])
    with pytest.raises(SigningError):
        verify_delivery(BODY, forged, secrets=[NEW], now=NOW, seen=seen)
    assert len(seen) == 0
    assert verify_delivery(BODY, _sign(), secrets=[NEW], now=NOW, seen=seen).delivery_id == "d-1"


def test_seen_ids_are_forgotten_once_the_window_has_passed() -> None:
    clock = [float(NOW)]
    seen = InMemorySeenDeliveries(clock=lambda: clock[0])
    verify_delivery(BODY, _sign(), secrets=[NEW], now=NOW, seen=seen)
    clock[0] = NOW + 301
    assert seen.remember("other", until=NOW + 900)
    assert len(seen) == 1  # d-1 expired; a replay of it now fails the age check instead
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, _sign(), secrets=[NEW], now=NOW + 301, seen=seen)
    assert _reason(caught) == "stale_timestamp"


@pytest.mark.parametrize(
    ("signer", "receiver"), [([NEW, OLD], [OLD]), ([NEW, OLD], [NEW]), ([OLD], [NEW, OLD])]
)
def test_secret_rotation_accepts_any_current_pair(signer: list[str], receiver: list[str]) -> None:
    headers = _sign(secrets=signer)
    assert headers[SIGNATURE_HEADER].count("v1=") == len(signer)
    assert verify_delivery(BODY, headers, secrets=receiver, now=NOW).timestamp == NOW


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {DELIVERY_HEADER: "d-1"},
        {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: f"t={NOW}"},
        {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: "v1=" + "0" * 64},
        {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: f"t=soon,v1={'0' * 64}"},
        {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: f"t={NOW},v1=xyz"},
        {DELIVERY_HEADER: "d.1", SIGNATURE_HEADER: f"t={NOW},v1={'0' * 64}"},
        {DELIVERY_HEADER: "d-1", SIGNATURE_HEADER: f"t={NOW}," + ",".join([f"v1={'0' * 64}"] * 9)},
        {DELIVERY_HEADER: "d-1", "civicshield-delivery": "d-2", SIGNATURE_HEADER: f"t={NOW},v1={'0' * 64}"},
    ],
)
def test_malformed_headers_are_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(SigningError) as caught:
        verify_delivery(BODY, headers, secrets=[NEW], now=NOW)
    assert _reason(caught) == "malformed_header"


def test_unknown_signature_schemes_are_ignored() -> None:
    headers = _sign()
    headers[SIGNATURE_HEADER] += ",v0=legacy"
    assert verify_delivery(BODY, headers, secrets=[NEW], now=NOW).delivery_id == "d-1"


def test_weak_or_missing_secrets_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        _sign(secrets=["short"])
    with pytest.raises(ConfigurationError, match="non-empty list"):
        verify_delivery(BODY, _sign(), secrets=[], now=NOW)
    with pytest.raises(ConfigurationError, match="non-empty list"):
        verify_delivery(BODY, _sign(), secrets=NEW, now=NOW)


def test_delivery_ids_cannot_contain_the_field_separator() -> None:
    with pytest.raises(ConfigurationError, match="delivery ids"):
        _sign(delivery_id="a.1")


def test_new_secrets_are_long_and_distinct() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first != second
    assert first.startswith("cswh_")
    assert len(first) >= 40
