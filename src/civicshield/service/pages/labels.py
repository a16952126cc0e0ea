"""Words and symbols for the machine names the service stores (verdict labels, case states, ratings, roles).

Every status is shown as a symbol *and* words, never by colour alone; the symbols of verdict labels are the
library report's (``civicshield.report.html.LABEL_TEXT``) so a printed report and the web page agree. The
words are marked with ``N_`` and translated when a page is rendered.
"""

from __future__ import annotations

from civicshield.report.html import LABEL_TEXT
from civicshield.service.pages.i18n import N_

VERDICT_WORDS: dict[str, str] = {
    "known_fake": N_("Known fake"),
    "impersonation_suspected": N_("Suspected impersonation"),
    "altered_official": N_("Altered copy of official media"),
    "tampered": N_("Tampered after signing"),
    "ai_generated_declared": N_("AI-generated (declared)"),
    "likely_synthetic": N_("Signs of AI generation"),
    "possibly_synthetic": N_("Uncertain: weak signs of AI generation"),
    "likely_authentic": N_("No sign of AI generation found"),
    "authentic_provenance": N_("Authentic provenance"),
    "inconclusive": N_("Inconclusive"),
    # verdicts of a match against the banks (public verification page)
    "authentic_official": N_("Identical to official media"),
    "no_match": N_("No known match"),
    "allowlisted": N_("On an allowlist: not a known fake"),
}
#: Colour family per label (only ever paired with the symbol and the words).
VERDICT_TONE: dict[str, str] = {
    "known_fake": "bad",
    "impersonation_suspected": "bad",
    "altered_official": "bad",
    "tampered": "bad",
    "ai_generated_declared": "warn",
    "likely_synthetic": "warn",
    "possibly_synthetic": "neutral",  # a genuine file reaches these scores now and then: no warning colour
    "likely_authentic": "neutral",  # no green tick: detectors cannot prove authenticity
    "authentic_provenance": "good",
    "authentic_official": "good",
    "inconclusive": "neutral",
    "no_match": "neutral",
    "allowlisted": "neutral",
}
_EXTRA_SYMBOLS = {"authentic_official": "✔", "no_match": "○", "allowlisted": "◇"}

CASE_STATES: dict[str, str] = {
    "new": N_("New"),
    "triage": N_("Triage"),
    "in_review": N_("In review"),
    "published": N_("Published"),
    "dismissed": N_("Dismissed"),
}
CASE_SYMBOLS = {"new": "●", "triage": "◐", "in_review": "◑", "published": "✔", "dismissed": "✖"}
#: Verb phrases for the buttons that move a case to a state.
TRANSITION_VERBS: dict[str, str] = {
    "triage": N_("Move to triage"),
    "in_review": N_("Start review"),
    "dismissed": N_("Dismiss"),
    "published": N_("Publish"),
}

RATINGS: dict[str, str] = {
    "false": N_("False"),
    "misleading": N_("Misleading"),
    "manipulated": N_("Manipulated"),
    "satire": N_("Satire"),
    "authentic": N_("Authentic"),
    "unverifiable": N_("Unverifiable"),
}

JOB_STATES: dict[str, str] = {
    "queued": N_("Waiting for analysis"),
    "running": N_("Analyzing"),
    "done": N_("Analysis done"),
    "failed": N_("Analysis failed"),
}
JOB_SYMBOLS = {"queued": "…", "running": "⟳", "done": "✔", "failed": "✖"}

ROLES: dict[str, str] = {
    "viewer": N_("Viewer"),
    "analyst": N_("Analyst"),
    "reviewer": N_("Reviewer"),
    "org_admin": N_("Organization admin"),
    "platform_admin": N_("Platform admin"),
}

TLP_HELP: dict[str, str] = {
    "CLEAR": N_("public: anyone may see it"),
    "GREEN": N_("community: every organization on this service"),
    "AMBER": N_("your organization and those it shares with"),
    "AMBER+STRICT": N_("your organization only"),
    "RED": N_("named people only"),
}

ORIGINS: dict[str, str] = {
    "ai_generated": N_("AI-generated (made by a generator)"),
    "genuine": N_("Genuine (a camera photo, not generated)"),
    "edited": N_("Edited (generated or pasted parts in a real photo)"),
    "unsure": N_("Cannot tell"),
}

BANK_KINDS: dict[str, str] = {
    "known_fake": N_("Known fakes"),
    "authentic": N_("Official media"),
    "allowlist": N_("Allowlist (never a fake)"),
}


def verdict_symbol(label: str) -> str:
    if label in LABEL_TEXT:
        return LABEL_TEXT[label][0]
    return _EXTRA_SYMBOLS.get(label, "?")


#: What an answer on the public verification page means, for someone who has never heard of C2PA or PDQ.
PUBLIC_EXPLAIN: dict[str, str] = {
    "known_fake": N_(
        "This file matches media that fact-checkers have already shown to be false or manipulated."
    ),
    "altered_official": N_(
        "This file looks like official media but differs from the original: it was changed."
    ),
    "impersonation_suspected": N_(
        "This file seems to impersonate a protected person or organization: it links to an imitation of "
        "their web address, or names them while other evidence says it was generated or altered."
    ),
    "authentic_official": N_("This file is an exact copy of media registered by an official source."),
    "allowlisted": N_(
        "Fact-checkers listed this picture as one that must never be called a fake: any match with a "
        "known fake is set aside while they review it. That alone does not prove it is authentic."
    ),
    "tampered": N_("This file carries Content Credentials, but it was changed after it was signed."),
    "ai_generated_declared": N_("The file itself declares that it was made or edited with AI."),
    "likely_synthetic": N_(
        "An automatic detector found signs that this file may have been made with AI. Detectors are "
        "sometimes wrong, on genuine photos too: this is a lead for fact-checkers, not a finding."
    ),
    "possibly_synthetic": N_(
        "A detector found weak signs of AI generation, at a score that genuine photos and recordings "
        "also reach now and then. Uncertain: this is not a finding, and a fact-checker should look."
    ),
    "likely_authentic": N_(
        "The detectors found no sign of AI generation. That is not proof that the file is authentic."
    ),
    "authentic_provenance": N_(
        "A trusted signer vouches for this file with Content Credentials, and it has not been changed since."
    ),
    "inconclusive": N_(
        "We found nothing that settles this. No evidence either way is not proof of "
        "authenticity: stay careful."
    ),
}
