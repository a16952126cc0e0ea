"""The README's commands work: every ``civicshield`` command it shows exists, the analysis examples run on a
real file, the library example runs, and every ``make`` target it names is in the Makefile (issue 9, part 6).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicshield.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(sh|python)\n(.*?)```", README, flags=re.S)
SHELL = [
    line.strip()
    for kind, body in BLOCKS
    if kind == "sh"
    for line in body.replace("\\\n", " ").splitlines()
    if line.strip()
]
GROUPS = {"bank", "admin", "train", "models"}
SUBGROUPS = {("admin", "org"), ("admin", "user"), ("admin", "key")}


def _commands() -> list[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for line in SHELL:
        for part in line.split("&&"):
            words = shlex.split(part.split("#", 1)[0], posix=True) if "civicshield " in part else []
            words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=value prefixes
            if not words or not words[0].endswith("civicshield"):
                continue
            command = words[1:2]
            if command and command[0] in GROUPS and len(words) > 2:
                command = words[1:3]
                if tuple(command) in SUBGROUPS and len(words) > 3:
                    command = [*command, words[3].split("|")[0]]
            found.add(tuple(command))
    return sorted(found)


COMMANDS = _commands()


def test_the_readme_shows_commands() -> None:
    assert ("analyze",) in COMMANDS and ("serve",) in COMMANDS and ("admin", "setup-link") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_in_the_readme_exists(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, f"civicshield {' '.join(command)}: {result.output}"


def test_every_make_target_in_the_readme_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = {w for line in SHELL for w in re.findall(r"^make (\w+)", line)}
    assert {"run", "test", "lint", "bench", "lock"} <= targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"make {target}"


@pytest.fixture
def real_jpeg(testdata: Path) -> Path:
    return testdata / "c2pa" / "c2pa-rs" / "fixtures" / "cloudx.jpg"


def test_the_analysis_examples_run_on_a_real_file(real_jpeg: Path, tmp_path: Path) -> None:
    core = ["-a", "c2pa", "-a", "metadata", "-a", "phash"]  # the ML detectors have their own tests
    env = {"CIVICSHIELD_DATA_DIR": str(tmp_path / "data")}
    table = CliRunner().invoke(app, ["analyze", str(real_jpeg), *core], env=env)
    assert table.exit_code == 0, table.output
    as_json = CliRunner().invoke(app, ["analyze", str(real_jpeg), "--json", *core], env=env)
    assert json.loads(as_json.stdout)["items"][0]["media"]["name"] == real_jpeg.name
    report = tmp_path / "report.html"
    html = CliRunner().invoke(app, ["analyze", str(real_jpeg), "--report", str(report), *core], env=env)
    assert html.exit_code == 0 and "<html" in report.read_text()


def test_the_library_example_runs(
    real_jpeg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = next(body for kind, body in BLOCKS if kind == "python" and "Engine.from_settings" in body)
    example = example.replace('"suspicious.jpg"', repr(str(real_jpeg)))
    example = example.replace(
        'Settings(trust="verify")',
        f'Settings(trust="verify", data_dir=Path({str(tmp_path)!r}), analyzers=("c2pa", "metadata"))',
    )
    exec(compile("from pathlib import Path\n" + example, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()
