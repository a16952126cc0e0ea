"""Public fact-check pages (no account): only published cases labelled TLP:CLEAR exist here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from jinja2 import PackageLoader
from sqlalchemy.orm import Session

from civicshield.errors import Gone, NotFound
from civicshield.report.jinja import html_environment
from civicshield.service.api.schemas import Language
from civicshield.service.domain import publication, reads
from civicshield.service.domain.tables import Case, Organization
from civicshield.service.web.deps import DbDep, RateLimit, RuntimeDep
from civicshield.sharing.stix import claimreview_bytes

router = APIRouter(tags=["public"], dependencies=[RateLimit])
_env = html_environment(PackageLoader("civicshield.service", "templates"))
STATIC_URL = "/ui/static"
TEXT = {
    "en": {
        "claim": "Claim",
        "hashes": "Copies of this media are matched by its perceptual hashes.",
        "retracted": "Retracted by its publisher",
        "history": "History",
        "corrected": "Corrected",
        "rating_was": "rating was",
    },
    "nl": {
        "claim": "Bewering",
        "hashes": "Kopieën van deze media worden herkend aan hun perceptuele hashes.",
        "retracted": "Ingetrokken door de uitgever",
        "history": "Geschiedenis",
        "corrected": "Gecorrigeerd",
        "rating_was": "beoordeling was",
    },
    "fr": {
        "claim": "Affirmation",
        "hashes": "Les copies de ce média sont reconnues par leurs empreintes perceptuelles.",
        "retracted": "Retirée par son éditeur",
        "history": "Historique",
        "corrected": "Corrigée",
        "rating_was": "la note était",
    },
    "de": {
        "claim": "Behauptung",
        "hashes": "Kopien dieses Mediums werden an ihren perzeptuellen Hashes erkannt.",
        "retracted": "Vom Herausgeber zurückgezogen",
        "history": "Verlauf",
        "corrected": "Korrigiert",
        "rating_was": "Bewertung war",
    },
}
Lang = Annotated[Language, Query()]


def public_case(s: Session, slug: str) -> Case:
    case = reads.public_fact_check(s, slug)
    if case is None:
        raise NotFound("no such fact-check")
    return case


@router.get("/fact-checks/{slug}.jsonld")
def claimreview_jsonld(slug: str, s: DbDep, rt: RuntimeDep, lang: Lang = "en") -> Response:
    """The ClaimReview document, byte for byte what the STIX report's external reference hashes."""
    case = public_case(s, slug)
    if (
        case.retracted_at is not None
    ):  # a withdrawn review must not keep feeding search engines' fact-check boxes
        raise Gone(f"this fact-check was retracted: {case.retraction_reason}")
    doc = claimreview_bytes(publication.fact_check(s, case, rt.settings.base_url, lang))
    return Response(doc, media_type="application/ld+json")


@router.get("/fact-checks/{slug}", response_class=HTMLResponse)
def fact_check_page(slug: str, s: DbDep, rt: RuntimeDep, lang: Lang = "en") -> HTMLResponse:
    case = public_case(s, slug)
    doc = publication.claimreview_for(s, case, rt.settings.base_url, lang)
    org = s.get(Organization, case.org_id)
    html = _env.get_template("fact_check.html.j2").render(
        review=doc,
        static=STATIC_URL,
        lang=lang,
        t=TEXT[lang],
        publisher=org.name if org else "",
        published=(case.published_at or case.created_at).date().isoformat(),
        jsonld_url=None if case.retracted_at else f"/fact-checks/{case.slug}.jsonld?lang={lang}",
        retraction=case.retraction_reason if case.retracted_at else None,
        revisions=publication.revisions(s, case),
    )
    return HTMLResponse(html)
