"""Matching the past (issue 13, part 5): hashes added to a known-fake bank find items members submitted
before, and their owners are told — within the entries' sharing label. The banked PDQ is computed by the
reference ``pdqhash`` library on a re-encoded copy, not by our code. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pdqhash
from PIL import Image
from sqlalchemy import select

from civicshield.demo import synth
from civicshield.service.domain.tables import Delivery, Item
from civicshield.service.infra.jobs import run_job

from .conftest import World, auth


def _picture() -> Image.Image:
    return synth.poster("POLLS CLOSED EARLY", size=(640, 480), seed=81).convert("RGB")


def _reference_pdq(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.resize((480, 360)).save(buf, format="JPEG", quality=70)  # the copy a fact-checker banked
    bits, quality = pdqhash.compute(np.asarray(Image.open(buf).convert("RGB")))
    assert quality >= 50
    return "".join(f"{int(''.join(map(str, bits[i : i + 4])), 2):x}" for i in range(0, 256, 4))


def _bank(world: World, tlp: str) -> int:
    made = world.client.post(
        "/api/v1/banks",
        json={"name": f"fakes-{tlp.lower()}", "kind": "known_fake", "tlp": tlp},
        headers=auth(world, "factcheck:reviewer"),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_an_earlier_item_is_matched_when_its_fake_is_banked(world: World) -> None:
    hook = world.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["match.found"], "max_tlp": "AMBER"},
        headers=auth(world, "other:org_admin"),
    ).json()
    buf = io.BytesIO()
    _picture().save(buf, format="PNG")
    up = world.client.post(
        "/api/v1/items", files={"file": ("polls.png", buf.getvalue())}, headers=auth(world, "other:analyst")
    ).json()
    assert run_job(world.client.app.state.rt, up["job"]["id"]) == "done"  # type: ignore[attr-defined]
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        earlier = s.get(Item, up["id"])
        assert earlier is not None
        earlier.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(
            days=7
        )  # submitted a week before the fake was known
    pdq = _reference_pdq(_picture())

    red = _bank(world, "RED")  # the owner's own eyes only: nobody else is told
    world.client.post(
        f"/api/v1/banks/{red}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": pdq, "quality": 100, "label": "secret"}]},
        headers=auth(world, "factcheck:reviewer"),
    )
    assert world.client.get("/api/v1/notifications", headers=auth(world, "other:viewer")).json() == []

    green = _bank(world, "GREEN")
    added = world.client.post(
        f"/api/v1/banks/{green}/entries",
        json={
            "entries": [
                {"signal_type": "pdq", "hash": pdq, "quality": 100, "label": "fake: polls closed early"}
            ]
        },
        headers=auth(world, "factcheck:reviewer"),
    )
    assert added.status_code == 201, added.text
    (note,) = world.client.get("/api/v1/notifications", headers=auth(world, "other:viewer")).json()
    assert note["kind"] == "earlier_item_matched" and "polls.png" in note["body"]
    (match,) = note["detail"]["matches"]
    assert match["item_id"] == up["id"] and match["distance"] <= 31
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        sent = list(s.scalars(select(Delivery).where(Delivery.webhook_id == hook["id"])))
    assert [d.event for d in sent] == ["match.found"] and sent[0].payload["data"]["earlier_item"] is True
    assert world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json() == []
