"""The shipped security guidance: complete in four languages, playbooks that notifications can open."""

from __future__ import annotations

import inspect
import json
import tomllib
from importlib import resources

import pytest

from civicshield.errors import ConfigurationError
from civicshield.protection import email
from civicshield.protection.guidance import LANGUAGES, guidance, parse


def _raw() -> dict[str, object]:
    return tomllib.loads(
        resources.files("civicshield").joinpath("data/guidance/guidance.toml").read_text("utf-8")
    )


def test_the_checklist_and_the_issues_playbooks_are_shipped_in_four_languages() -> None:
    shipped = guidance()
    assert {
        "mfa-passkeys",
        "account-recovery",
        "verified-channels",
        "sign-official-media",
        "pre-bunking",
    } <= {i.id for i in shipped.checklist}
    assert {p.id for p in shipped.playbooks} >= {
        "candidate-deepfake",
        "voice-clone-call",
        "hacked-account",
        "phishing-wave",
        "doxxing",
    }
    for playbook in shipped.playbooks:
        assert playbook.steps, playbook.id
        assert all(step.owner in shipped.owners and step.minutes > 0 for step in playbook.steps)
        for lang in LANGUAGES:
            assert playbook.title.in_(lang) and all(step.text.in_(lang) for step in playbook.steps)
    texts = {lang: shipped.checklist[0].title.in_(lang) for lang in LANGUAGES}
    assert len(set(texts.values())) == 4  # translated, not copied
    assert shipped.checklist[0].title.in_("es") == texts["en"]


def test_a_missing_translation_or_owner_is_refused_naming_the_entry() -> None:
    raw = _raw()
    del raw["checklist"][0]["how"]["de"]  # type: ignore[index]
    with pytest.raises(ConfigurationError, match="mfa-passkeys"):
        parse(raw)
    raw = _raw()
    raw["playbook"][0]["step"][0]["owner"] = "nobody"  # type: ignore[index]
    with pytest.raises(ConfigurationError, match="unknown owner"):
        parse(raw)


def test_notifications_open_the_playbook_for_what_was_found() -> None:
    shipped = guidance()
    assert (
        shipped.playbook_for(["impersonation.voice_match", "impersonation.person_named"]).id
        == "voice-clone-call"
    )  # type: ignore[union-attr]
    assert shipped.playbook_for(["impersonation.lookalike_domain"]).id == "phishing-wave"  # type: ignore[union-attr]
    assert shipped.playbook_for(["impersonation.face_match"]).id == "candidate-deepfake"  # type: ignore[union-attr]
    assert shipped.playbook_for(["c2pa.tampered"]) is None


def test_every_code_a_playbook_opens_on_is_one_the_policy_or_the_mail_check_knows() -> None:
    policy = json.loads(
        resources.files("civicshield").joinpath("data/policy/default.json").read_text("utf-8")
    )
    known = {code for rule in policy["rules"] for code in rule.get("any", [])}
    mail = inspect.getsource(email)
    for playbook in guidance().playbooks:
        for code in playbook.opens_on:
            assert code in known or f'"{code}"' in mail, code
