"""Mixed traffic for ``bench/bench_load.py`` (run by locust, not imported by the project).

Each user signs in once (``CS_LOAD_LOGIN``, for the member pages) and otherwise sends a reviewer's API key
(``CS_LOAD_KEY``). Weights: about a sixth of the requests upload media (``POST /api/v1/items``, one of the
generated posters in ``CS_LOAD_MEDIA``), one in twelve asks the match API to hash a large PNG
(``/api/v1/match/file``), one in eight views a page (the dashboard, the cases list, the public ``/verify``),
the rest read the API (cases, banks, a job) and look hashes up. ``/healthz`` is polled by the driver itself.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import HttpUser, between, task

KEY = os.environ["CS_LOAD_KEY"]
MEDIA = sorted(Path(os.environ["CS_LOAD_MEDIA"]).glob("poster-*.jpg"))
LARGE = Path(os.environ["CS_LOAD_MEDIA"]) / "large.png"
PDQ = os.environ.get("CS_LOAD_PDQ", "f" * 64)
EMAIL, PASSWORD = os.environ["CS_LOAD_LOGIN"].split(":", 1)  # the same reviewer, for the member pages


class Member(HttpUser):
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        signed_in = self.client.post(
            "/api/v1/session", json={"email": EMAIL, "password": PASSWORD}, name="sign-in"
        )
        signed_in.raise_for_status()  # the session cookie stays on this client for the page views
        self.client.headers["Authorization"] = f"Bearer {KEY}"
        self.jobs: list[int] = []

    @task(20)
    def upload(self) -> None:
        path = random.choice(MEDIA)
        with path.open("rb") as fh:
            r = self.client.post(
                "/api/v1/items", files={"file": (path.name, fh, "image/jpeg")}, name="upload"
            )
        if r.status_code == 202:
            self.jobs.append(int(r.json()["job"]["id"]))

    @task(10)
    def match_large_file(self) -> None:
        with LARGE.open("rb") as fh:
            self.client.post(
                "/api/v1/match/file", files={"file": ("large.png", fh, "image/png")}, name="match/file"
            )

    @task(25)
    def match_hash(self) -> None:
        body = {"hashes": [{"signal_type": "pdq", "hash": PDQ, "quality": 100}]}
        self.client.post("/api/v1/match/hashes", json=body, name="match/hashes")

    @task(10)
    def member_pages(self) -> None:
        """A member's pages, signed in with the session cookie (the key is not sent)."""
        path = random.choice(("/ui/", "/ui/cases"))
        self.client.get(path, headers={"Authorization": ""}, name="page " + path)

    @task(5)
    def public_page(self) -> None:
        self.client.get("/verify", headers={"Authorization": ""}, name="page /verify")

    @task(20)
    def cases(self) -> None:
        self.client.get("/api/v1/cases", name="cases")

    @task(15)
    def banks(self) -> None:
        self.client.get("/api/v1/banks", name="banks")

    @task(10)
    def job(self) -> None:
        if self.jobs:
            self.client.get(f"/api/v1/jobs/{random.choice(self.jobs)}", name="job")
