"""A stage's code hash covers its own package and the shared modules it imports, nothing else."""

import shutil
import subprocess
import sys

import pytest

from shared import graph, sources


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of shared/ and stages/ that the test may edit; sources reads it instead of the repo."""
    for folder in ("shared", "stages"):
        shutil.copytree(sources.REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sources, "REPO_ROOT", tmp_path)
    sources.shared_closure.cache_clear()
    yield tmp_path
    sources.shared_closure.cache_clear()


def hashes() -> dict[str, str]:
    sources.shared_closure.cache_clear()
    return {spec.name: sources.code_hash(spec) for spec in graph.STAGES}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_an_asr_option_leaves_every_other_stage_fresh(checkout):
    before = hashes()
    options = checkout / "shared" / "options" / "asr.py"
    options.write_text(options.read_text() + '    new_setting: int = setting(1, "ASR_NEW_SETTING", "an ASR-only setting")\n')
    assert changed(before, hashes()) == {"asr"}


def test_a_diarization_file_leaves_every_other_stage_fresh(checkout):
    before = hashes()
    turns = checkout / "stages" / "diarization" / "turns.py"
    turns.write_text(turns.read_text() + "\n# a diarization-only change\n")
    assert changed(before, hashes()) == {"diarization"}


def test_a_shared_module_changes_exactly_the_stages_that_import_it(checkout):
    before = hashes()
    speakers = checkout / "shared" / "speakers.py"
    speakers.write_text(speakers.read_text() + "\n# a change to the speaker records\n")
    assert changed(before, hashes()) == {"diarization", "speakers", "subtitles"}
    stage = checkout / "shared" / "stage.py"
    stage.write_text(stage.read_text() + "\n# every stage runs through this\n")
    assert changed(before, hashes()) == {spec.name for spec in graph.STAGES}


def test_host_code_is_in_no_stage_and_the_image_carries_the_switching_options():
    for spec in graph.STAGES:
        files = {p.relative_to(sources.REPO_ROOT).as_posix() for p in sources.stage_files(spec)}
        assert not any(f.startswith("host/") for f in files), spec.name
        assert f"shared/options/{spec.module.split('.')[-1]}.py" in files
        image = {p.relative_to(sources.REPO_ROOT).as_posix() for p in sources.image_files(spec)}
        assert files <= image and "shared/options/translation.py" in image


def test_relative_and_from_package_imports_are_followed(tmp_path, monkeypatch):
    (tmp_path / "shared" / "sub").mkdir(parents=True)
    (tmp_path / "shared" / "__init__.py").write_text("")
    (tmp_path / "shared" / "a.py").write_text("from . import b\n")
    (tmp_path / "shared" / "b.py").write_text("def f():\n    from shared.sub import c\n")
    (tmp_path / "shared" / "sub" / "__init__.py").write_text("")
    (tmp_path / "shared" / "sub" / "c.py").write_text("import os\n")
    (tmp_path / "shared" / "unused.py").write_text("")
    (tmp_path / "start.py").write_text("from shared import a\n")
    monkeypatch.setattr(sources, "REPO_ROOT", tmp_path)
    sources.shared_closure.cache_clear()
    found = {p.relative_to(tmp_path).as_posix() for p in sources.shared_closure((tmp_path / "start.py",))}
    sources.shared_closure.cache_clear()
    assert found == {"shared/__init__.py", "shared/a.py", "shared/b.py", "shared/sub/__init__.py", "shared/sub/c.py"}


def test_stages_that_resolve_no_model_do_not_depend_on_the_resolvers():
    """Every stage applies the offline environment (shared/offline.py); only those that resolve a
    model through shared/models.py go stale when a resolver changes."""
    without = {spec.name for spec in graph.STAGES
               if sources.REPO_ROOT / "shared" / "models.py" not in sources.stage_files(spec)}
    assert {"demux", "lyrics-detection", "subtitles", "mux"} <= without
    assert all(sources.REPO_ROOT / "shared" / "offline.py" in sources.stage_files(spec) for spec in graph.STAGES)


# What every stage runs before its own work: which stages this job switches off (graph.switched_off
# over every stage's options, links followed), from the files of its image alone.
SWITCHED_OFF = """
import sys
sys.path = [sys.argv[1]] + [p for p in sys.path if p and not p.startswith(sys.argv[2])]
from shared import graph, options, stage
environ = {"ASR_MODEL": "tiny.en"}  # English-only: translation follows it and has nothing to do
print(sorted(graph.switched_off(lambda spec: stage.follow_links(spec, options.resolve(spec.options, None, environ),
                                                                 None, environ))))
"""


@pytest.mark.parametrize("name", [s.name for s in graph.STAGES])
def test_the_image_files_alone_tell_which_stages_are_switched_off(name, tmp_path):
    """The demux image lacked asr's options module, which translation's enabling field follows:
    every container stage failed with ModuleNotFoundError: shared.options.asr."""
    for path in sources.image_files(graph.stage(name)):
        target = tmp_path / path.relative_to(sources.REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    run = subprocess.run([sys.executable, "-c", SWITCHED_OFF, str(tmp_path), str(sources.REPO_ROOT)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "translation" in run.stdout  # nothing asked for a translation
