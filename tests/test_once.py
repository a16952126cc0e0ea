"""Threads asking for the same item's hashes at once hash it once (``civicshield.once``)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from civicshield.demo import synth
from civicshield.hashing import cache
from civicshield.hashing.cache import MediaHashes, clear_hash_cache, media_hashes
from civicshield.media import Media
from civicshield.once import KeyedOnce


def test_concurrent_callers_hash_an_item_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    media = Media.open(synth.save_image(synth.poster("ONCE", size=(400, 300)), tmp_path / "p.png", "PNG"))
    other = Media.open(synth.save_image(synth.poster("OTHER", size=(400, 300)), tmp_path / "q.png", "PNG"))
    calls: list[str] = []
    real = cache._compute

    def slow(m: Media) -> MediaHashes:
        calls.append(m.sha256)
        time.sleep(0.3)  # long enough for every other thread to arrive meanwhile
        return real(m)

    monkeypatch.setattr(cache, "_compute", slow)
    clear_hash_cache()
    with ThreadPoolExecutor(6) as pool:
        found = list(pool.map(media_hashes, [media, media, media, other, media, other]))
    assert sorted(calls) == sorted([media.sha256, other.sha256])  # once each, not six times
    assert len({h.pdq.hex for h in found if h.sha256 == media.sha256 and h.pdq}) == 1


def test_keys_are_forgotten_when_no_one_holds_them() -> None:
    once = KeyedOnce()
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with once.held("k"):
            inside.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    assert "k" in once._locks
    release.set()
    t.join(5)
    assert once._locks == {}
    with pytest.raises(RuntimeError), once.held("k"):
        raise RuntimeError("a failure releases the key too")
    assert once._locks == {}
