"""Reading other coalitions' STIX 2.1 bundles, TAXII 2.1 envelopes and MISP events into bank entries.

Documents come from others: OASIS's example bundle (``../shared/testdata/stix``), bundles built with the
``stix2`` library, events built with ``pymisp`` (with our published object template). Expected hashes are
the ones those documents carry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicshield.banks import BankKind, BankStore, SignalType
from civicshield.banks.exchange import entries_from_exchange, read_bank_text
from civicshield.errors import BankFormatError
from civicshield.settings import Settings
from civicshield.sharing.misp import object_templates
from civicshield.sharing.stix import PERCEPTUAL_MATCH_EXTENSION_ID
from civicshield.sharing.tlp import TLP

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"


def test_the_oasis_example_bundle_gives_its_sha256_indicator(testdata: Path) -> None:
    path = testdata / "stix" / "examples" / "indicators-for-C2-with-COA.json"
    got = entries_from_exchange(path.read_text(), source=path.name)
    assert got.format == "stix"
    assert [(e.signal_type, e.hash) for e in got.entries] == [(SignalType.SHA256, SHA)]
    assert got.entries[0].label == "File hash for Poison Ivy variant"
    assert got.skipped == {"pattern other than one file-hash equality": 1}  # an IP address indicator


def test_md5_indicators_are_counted_not_guessed(testdata: Path) -> None:
    path = testdata / "stix" / "examples" / "threat-reports" / "apt1.json"
    got = entries_from_exchange(path.read_text(), source=path.name)
    assert got.entries == () and got.skipped["hash kind md5"] == 3


def _stix_bundle(*, marking: object | None = None, pdq: str = PDQ) -> str:
    import stix2

    marks = {"object_marking_refs": [marking]} if marking is not None else {}
    perceptual = stix2.Indicator(
        name="Fake ballot photo",
        pattern=f"[file:extensions.'{PERCEPTUAL_MATCH_EXTENSION_ID}'.pdq = '{pdq}']",
        pattern_type="stix",
        description="Debunked: https://factcheck.example/fc/1",
        allow_custom=True,
        extensions={PERCEPTUAL_MATCH_EXTENSION_ID: {"extension_type": "property-extension", "quality": 90}},
        **marks,
    )
    exact = stix2.Indicator(
        name="Fake ballot photo (file)",
        pattern=f"[file:hashes.'SHA-256' = '{SHA}']",
        pattern_type="stix",
        **marks,
    )
    either = stix2.Indicator(
        name="either",
        pattern=f"[file:hashes.'SHA-256' = '{SHA}'] OR [file:name = 'x.jpg']",
        pattern_type="stix",
    )
    revoked = stix2.Indicator(
        name="withdrawn",
        pattern="[file:hashes.'SHA-256' = '" + "0" * 64 + "']",
        pattern_type="stix",
        revoked=True,
    )
    return str(stix2.Bundle(perceptual, exact, either, revoked, allow_custom=True).serialize())


def test_a_bundle_of_another_coalition_gives_perceptual_and_exact_entries_and_its_marking() -> None:
    import stix2

    got = entries_from_exchange(_stix_bundle(marking=stix2.TLP_AMBER), source="partner.json")
    assert sorted((str(e.signal_type), e.hash) for e in got.entries) == [("pdq", PDQ), ("sha256", SHA)]
    pdq = next(e for e in got.entries if e.signal_type is SignalType.PDQ)
    assert pdq.quality == 90 and pdq.link == "https://factcheck.example/fc/1"
    assert got.tlp is TLP.AMBER
    assert got.skipped == {"pattern other than one file-hash equality": 1, "revoked indicator": 1}


def test_a_taxii_envelope_reads_like_a_bundle() -> None:
    bundle = json.loads(_stix_bundle())
    envelope = json.dumps({"more": False, "objects": bundle["objects"]})
    assert len(entries_from_exchange(envelope, source="objects").entries) == 2


def _misp_event(tlp_tag: str) -> str:
    from pymisp import MISPEvent, MISPObject

    event = MISPEvent()
    event.info = "Fake video of the minister"
    event.add_tag(tlp_tag)
    event.add_attribute("sha256", SHA, category="Payload delivery")
    event.add_attribute("url", "https://example.org/post/1")
    obj = MISPObject("civicshield-perceptual-hash", misp_objects_path_custom=object_templates())
    obj.add_attribute("algorithm", value="pdq")
    obj.add_attribute("hash", value=PDQ)
    obj.add_attribute("match-rule", value="PDQ Hamming distance <= 31, quality >= 50")
    obj.add_attribute("quality", value=88)
    event.add_object(obj)
    return str(event.to_json())


def test_a_misp_event_gives_its_sha256_and_perceptual_hashes_and_its_tlp_tag() -> None:
    got = entries_from_exchange(_misp_event("tlp:green"), source="event.json")
    assert got.format == "misp" and got.tlp is TLP.GREEN
    assert sorted((str(e.signal_type), e.hash) for e in got.entries) == [("pdq", PDQ), ("sha256", SHA)]
    assert all(e.label == "Fake video of the minister" for e in got.entries)
    assert got.skipped == {"attribute type url": 1}
    listed = json.dumps({"response": [json.loads(_misp_event("tlp:white"))]})  # PyMISP's search answer
    assert entries_from_exchange(listed, source="search.json").tlp is TLP.CLEAR


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not JSON"),
        ('{"type": "bundle", "objects": {}}', "needs an 'objects' list"),
        ('{"type": "bundle", "objects": [3]}', "object 0 is not a STIX object"),
        ('{"Event": {"Attribute": {}}}', "must be lists"),
        ('{"response": [{"nope": 1}]}', "is not a MISP event"),
        ('{"hello": "world"}', "neither a STIX bundle"),
    ],
)
def test_malformed_documents_are_clear_errors(text: str, why: str) -> None:
    with pytest.raises(BankFormatError, match=why):
        entries_from_exchange(text, source="bad.json")


def test_one_bad_hash_refuses_the_whole_document() -> None:
    text = _stix_bundle(pdq="zz" * 32)
    with pytest.raises(BankFormatError, match=r"bad.json: indicator--"):
        entries_from_exchange(text, source="bad.json")


def test_a_file_bank_imports_a_partners_bundle(tmp_path: Path) -> None:
    store = BankStore.from_settings(Settings(data_dir=tmp_path))
    store.create("partners", BankKind.KNOWN_FAKE)
    path = tmp_path / "partner.json"
    path.write_text(_stix_bundle(), encoding="utf-8")
    added = store.import_file("partners", path)
    assert len(added) == 2
    assert read_bank_text("signal_type,hash,label\n", source="x.csv").entries == ()  # CSV still reads as CSV


class _Collection:
    """A TAXII 2.1 collection's ``objects`` endpoint on loopback: two pages, a bearer token."""

    def __init__(self, pages: list[dict[str, object]]) -> None:
        import http.server
        import threading

        outer = self
        self.seen: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(self.path)
                if self.headers.get("Authorization") != "Bearer sesame":
                    self.send_response(401)
                    self.end_headers()
                    return
                page = pages[1] if "next=p2" in self.path else pages[0]
                body = json.dumps(page).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/taxii2/api1/collections/c1/objects/"


def test_a_taxii_collection_is_pulled_page_by_page_through_the_egress_guard(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from civicshield.cli.app import app

    objects = json.loads(_stix_bundle())["objects"]
    collection = _Collection(
        [{"more": True, "next": "p2", "objects": objects[:1]}, {"more": False, "objects": objects[1:]}]
    )
    try:
        run = CliRunner()
        base = ["bank", "pull", "partners", collection.url, "--data-dir", str(tmp_path)]
        refused = run.invoke(app, [*base, "--token", "sesame"])
        assert refused.exit_code == 2 and collection.seen == []  # loopback is private: not even asked
        denied = run.invoke(app, [*base, "--token", "wrong", "--allow-network", "127.0.0.1/32"])
        assert denied.exit_code == 2 and "HTTP 401" in denied.output
        pulled = run.invoke(app, [*base, "--token", "sesame", "--allow-network", "127.0.0.1/32"])
        assert pulled.exit_code == 0, pulled.output
        assert "pulled 2 entries" in pulled.output and "2 new" in pulled.output
        assert collection.seen[-1].endswith("?next=p2")
        store = BankStore.from_settings(Settings(data_dir=tmp_path))
        assert sorted(str(e.signal_type) for e in store.load("partners").entries) == ["pdq", "sha256"]
    finally:
        collection.server.shutdown()
        collection.server.server_close()
