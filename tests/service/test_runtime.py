"""The runtime builds one analysis engine however many threads ask at once (a worker's warm-up and its
first job), and the warm-up leaves it loaded."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from civicshield.pipeline import Engine
from civicshield.service import compose
from civicshield.service.infra import runtime as runtime_module
from civicshield.service.settings import ServiceSettings

from .conftest import core_analysis


def test_warm_up_and_first_job_share_one_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Engine] = []
    real = Engine.from_settings

    def slow(settings, **kw):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # as loading the models takes a while: the job arrives meanwhile
        engine = real(settings, **kw)
        built.append(engine)
        return engine

    monkeypatch.setattr(runtime_module.Engine, "from_settings", slow)
    rt = compose.runtime(ServiceSettings(data_dir=tmp_path, secret_key="t", analysis=core_analysis(tmp_path)))
    try:
        warming = rt.warm_engine()
        seen: list[Engine] = []
        jobs = [threading.Thread(target=lambda: seen.append(rt.engine)) for _ in range(3)]
        for job in jobs:
            job.start()
        for thread in (warming, *jobs):
            thread.join(10)
        assert len(built) == 1 and all(e is built[0] for e in seen) and len(seen) == 3
        assert (tmp_path / "analyzers.json").is_file()  # /readyz can say what loaded before any job
    finally:
        rt.engine.close()
        rt.db.dispose()
