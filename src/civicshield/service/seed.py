"""Demo data for ``civicshield serve --demo``: organizations, users with a printed password, analyzed items
from the generated demo set, and one published fact-check. Idempotent: an existing demo is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from civicshield.service.domain import publication, store
from civicshield.service.domain.tables import Organization
from civicshield.service.infra.jobs import run_job
from civicshield.service.infra.runtime import Runtime
from civicshield.service.submission import store_submission

DEMO_PASSWORD = "civicshield-demo"  # noqa: S105 - printed at start; demo data only
USERS = (
    ("Demo Fact-Check Desk", "fact_checker", "reviewer@demo.civicshield", "reviewer"),
    ("Demo Fact-Check Desk", "fact_checker", "analyst@demo.civicshield", "analyst"),
    ("Demo Fact-Check Desk", "fact_checker", "admin@demo.civicshield", "org_admin"),
    ("Demo Election Authority", "election_authority", "comms@election.demo.civicshield", "reviewer"),
    ("Demo Video Platform", "platform", "trust-safety@platform.demo.civicshield", "analyst"),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def seed(rt: Runtime, media_dir: Path | None = None) -> DemoLogin:
    with rt.db.session() as s:
        if s.scalar(select(Organization).where(Organization.name == USERS[0][0])) is not None:
            return DemoLogin(USERS[0][2], DEMO_PASSWORD)
        orgs: dict[str, int] = {}
        for org_name, kind, email, role in USERS:
            if org_name not in orgs:
                orgs[org_name] = store.create_org(s, org_name, kind, "GREEN").id
            store.create_user(s, orgs[org_name], email, email.split("@")[0].title(), role, DEMO_PASSWORD)
    if media_dir is not None and media_dir.is_dir():
        _items(rt, media_dir)
    return DemoLogin(USERS[0][2], DEMO_PASSWORD)


def _items(rt: Runtime, media_dir: Path) -> None:
    with rt.db.session() as s:
        user = store.login(s, USERS[1][2], DEMO_PASSWORD)
        reviewer_user = store.login(s, USERS[0][2], DEMO_PASSWORD)
        if user is None or reviewer_user is None:
            return
        analyst, reviewer = store.principal_for(user), store.principal_for(reviewer_user)
    for path in sorted(media_dir.iterdir()):
        submitted = store_submission(rt, analyst, path.read_bytes(), path.name)
        run_job(rt, submitted.job_id)  # synchronously: the demo opens with every item analysed
        item_id = submitted.item_id
        if path.name == "generated_sd.png":
            with rt.db.session() as s:
                item = store.get_item(s, analyst, item_id)
                case = store.create_case(
                    s,
                    analyst,
                    item,
                    "Rally photo was generated with Stable Diffusion",
                    "Photo shows a crowd at yesterday's rally",
                    "CLEAR",
                )
                for to in ("triage", "in_review"):
                    store.transition(s, analyst, case, to)
                store.rate(
                    s, reviewer, case, "false", "The file carries Stable Diffusion generation parameters."
                )
                publication.publish(s, reviewer, case, rt.settings.base_url)
