"""The import rule that lets each stage live in its own image (docs/ARCHITECTURE.md):

* a stage package (``stages/<name>/``) imports ``shared`` and its own package, never
  another stage and never ``host``;
* ``shared`` imports no stage and no ``host`` module;
* ``fleet`` (the queue worker, copied into every stage image) imports ``shared``, never a
  stage and never ``host``.

Every ``.py`` file is parsed (not imported): imports at module level and inside
functions, relative imports resolved against the file's package, and
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def module_name(root: Path, path: Path) -> str:
    """``stages/asr/stage.py`` -> ``stages.asr.stage``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(root: Path, path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in the file. ``from x import y`` yields
    ``x`` and ``x.y`` (y may be a submodule); relative imports are made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = module_name(root, path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target:
                yield node.lineno, target
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{target}.{alias.name}" if target else alias.name
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def violations(root: Path) -> list[str]:
    """``path:line: what it imports, and the rule it breaks``, for every file under
    ``stages/`` and ``shared/`` that breaks the import rule."""
    found = []
    for path in sorted([*root.glob("stages/**/*.py"), *root.glob("shared/**/*.py"), *root.glob("fleet/**/*.py")]):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts:
            continue
        own_stage = rel.parts[1] if rel.parts[0] == "stages" and len(rel.parts) > 2 else None  # stages/<name>/...
        for line, name in imported_names(root, path):
            parts = name.split(".")
            if rel.parts[0] == "fleet" and parts[0] in ("host", "stages"):
                rule = "fleet/ (the queue worker, in every stage image) imports shared/, never host/ or a stage"
            elif parts[0] == "host":
                rule = "a stage never imports host/" if own_stage else "shared/ never imports host/"
            elif parts[0] == "stages" and len(parts) > 1 and rel.parts[0] == "shared":
                rule = "shared/ imports no stage"
            elif parts[0] == "stages" and len(parts) > 1 and own_stage and parts[1] != own_stage:
                rule = "a stage imports shared/ and its own package, never another stage"
            else:
                continue
            found.append(f"{rel.as_posix()}:{line}: imports {name} ({rule})")
    return found


# --- the rule holds in this repository -------------------------------------------------------------


def test_stages_and_shared_keep_the_import_rule():
    found = violations(REPO_ROOT)
    assert not found, "imports that break the rule:\n" + "\n".join(found)


def test_the_repository_is_checked_at_all():
    """A guard that parses nothing passes on anything: it must see the stages and shared/."""
    seen = {module_name(REPO_ROOT, p) for p in REPO_ROOT.glob("stages/**/*.py")}
    assert {"stages.asr.stage", "stages.subtitles.stage"} <= seen
    names = [n for _, n in imported_names(REPO_ROOT, REPO_ROOT / "stages" / "subtitles" / "stage.py")]
    assert "shared.schema" in names and "stages.subtitles.tracks" in names


# --- the checker itself, on a planted tree ---------------------------------------------------------


def plant(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in root.rglob("*.py")}:  # every folder a package
        (folder / "__init__.py").touch()
    return root


CLEAN = {
    "stages/asr/stage.py": "from shared import schema\nfrom stages.asr import chunks\nfrom . import chunks\nfrom .chunks import split\n",
    "stages/asr/chunks.py": "import stages\nimport shared.fsio\n\ndef split():\n    from shared.errors import InputError\n",
    "stages/subtitles/stage.py": "from stages.subtitles.cues import Cue\n",
    "stages/subtitles/cues.py": "Cue = object\n",
    "shared/fsio.py": "import os\nfrom shared import errors\nfrom . import errors\n",
    "shared/errors.py": "",
    "host/runner.py": "from stages.asr import stage\nimport shared.fsio\n",  # host may import anything
}


def test_a_clean_tree_passes(tmp_path):
    assert violations(plant(tmp_path, CLEAN)) == []


@pytest.mark.parametrize("rel, text, expected", [
    ("stages/asr/stage.py", "import os\nfrom stages.subtitles import cues\n",
     "stages/asr/stage.py:2: imports stages.subtitles (a stage imports shared/ and its own package, never another stage)"),
    ("stages/asr/stage.py", "import stages.subtitles.cues\n", "stages/asr/stage.py:1: imports stages.subtitles.cues"),
    ("stages/asr/stage.py", "from stages import subtitles\n", "stages/asr/stage.py:1: imports stages.subtitles"),
    ("stages/asr/stage.py", "def run():\n    if True:\n        from stages.subtitles.cues import Cue\n",
     "stages/asr/stage.py:3: imports stages.subtitles.cues"),
    ("stages/asr/stage.py", "from ..subtitles import cues\n", "stages/asr/stage.py:1: imports stages.subtitles"),
    ("stages/asr/sub/deep.py", "from ...subtitles.cues import Cue\n", "stages/asr/sub/deep.py:1: imports stages.subtitles.cues"),
    ("stages/asr/stage.py", "import importlib\nm = importlib.import_module('stages.subtitles.cues')\n",
     "stages/asr/stage.py:2: imports stages.subtitles.cues"),
    ("stages/asr/stage.py", "from host.runner import main\n", "stages/asr/stage.py:1: imports host.runner (a stage never imports host/)"),
    ("stages/asr/stage.py", "import host\n", "stages/asr/stage.py:1: imports host (a stage never imports host/)"),
    ("shared/fsio.py", "import os\n\n\ndef f():\n    from stages.asr import stage\n",
     "shared/fsio.py:5: imports stages.asr (shared/ imports no stage)"),
    ("shared/fsio.py", "from ..stages.asr import stage\n", "shared/fsio.py:1: imports stages.asr"),
    ("shared/options/asr.py", "from ...host import jobs\n", "shared/options/asr.py:1: imports host (shared/ never imports host/)"),
    ("shared/fsio.py", "import host.tmdb as tmdb\n", "shared/fsio.py:1: imports host.tmdb (shared/ never imports host/)"),
])
def test_a_planted_violation_is_named_with_file_and_line(tmp_path, rel, text, expected):
    found = violations(plant(tmp_path, {**CLEAN, rel: text}))
    assert found, f"{rel} should break the rule"
    assert any(line.startswith(expected) for line in found), found
    assert all(line.startswith(rel + ":") for line in found), found


def test_every_checkpoint_we_load_is_loaded_as_weights_only():
    """``torch.load`` unpickles arbitrary code unless ``weights_only=True``: every call in the
    stages and shared/ passes it (a library's own loader that forbids it is noted in
    docs/CONTAINERS.md, Least privilege)."""
    offenders = []
    for top in ("stages", "shared"):
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
                    flag = next((k.value for k in node.keywords if k.arg == "weights_only"), None)
                    if not (isinstance(flag, ast.Constant) and flag.value is True):
                        offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert not offenders, f"torch.load without weights_only=True: {', '.join(offenders)}"


def test_the_queue_worker_imports_no_host_and_no_stage(tmp_path):
    root = plant(tmp_path, {**CLEAN, "fleet/work.py": "from shared import joblock\nfrom host.lifecycle import open_job\n",
                            "fleet/tasks.py": "import stages.asr.stage\n"})
    found = violations(root)
    assert found == ["fleet/tasks.py:1: imports stages.asr.stage (fleet/ (the queue worker, in every stage image) imports "
                     "shared/, never host/ or a stage)",
                     "fleet/work.py:2: imports host.lifecycle (fleet/ (the queue worker, in every stage image) imports "
                     "shared/, never host/ or a stage)",
                     "fleet/work.py:2: imports host.lifecycle.open_job (fleet/ (the queue worker, in every stage image) "
                     "imports shared/, never host/ or a stage)"]
