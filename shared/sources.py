"""Which source files make a stage: its own package and the ``shared`` modules it imports.

A stage's code hash (part of its lock) and its image cover exactly these files,
so a change to one stage's options or helpers leaves every other stage fresh
and every other image as it was. The closure is found statically, by parsing
imports (module-level and inside functions alike), never by importing, so the
host computes the same list as the stage process does.

The stage graph names each stage's options class by module path and imports it
only on demand; :func:`stage_files` adds the stage's own options module, and
:func:`image_files` also the options modules its process may read through the
graph (the stages whose settings switch others off).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

from shared import graph

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "shared"


def module_file(module: str) -> Path | None:
    """The file of ``shared.x.y`` in this checkout (a module or a package's ``__init__``)."""
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_inits(module: str) -> list[Path]:
    parts = module.split(".")
    inits = [module_file(".".join(parts[:i])) for i in range(1, len(parts))]
    return [p for p in inits if p is not None]


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the ``shared`` modules a file imports (``from shared import x`` counts
    ``shared.x`` when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if module_file(f"{base}.{alias.name}"))
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


@cache
def shared_closure(start: tuple[Path, ...]) -> tuple[Path, ...]:
    """Every ``shared`` file reached from ``start`` by imports, transitively (packages' ``__init__`` too)."""
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        path = todo.pop()
        for module in _imported_modules(path):
            for file in (*_package_inits(module), module_file(module)):
                if file is not None and file not in seen:
                    seen.add(file)
                    todo.append(file)
    return tuple(sorted(seen - set(start)))


def package_files(spec: graph.StageSpec) -> tuple[Path, ...]:
    """The stage's own package: every ``.py`` file under ``stages/<module>/``."""
    folder = REPO_ROOT.joinpath(*spec.module.split("."))
    return tuple(sorted(folder.rglob("*.py")))


def _with_closure(files: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(sorted({*files, *shared_closure(files)}))


def stage_files(spec: graph.StageSpec) -> tuple[Path, ...]:
    """What the stage's result depends on: its package, its options module and their ``shared`` closure."""
    options = module_file(spec.options_module)
    if options is None:
        raise RuntimeError(f"stage {spec.name}: options module {spec.options_module} not found")
    return _with_closure((*package_files(spec), options))


WORKER_PACKAGE = "fleet"  # the queue worker (docs/SCALE.md): in every stage image, stage-neutral


def worker_files() -> tuple[Path, ...]:
    """The queue worker's package (``fleet/``), which every stage image holds to run as a worker."""
    return tuple(sorted((REPO_ROOT / WORKER_PACKAGE).rglob("*.py")))


def image_files(spec: graph.StageSpec) -> tuple[Path, ...]:
    """What the stage's image must hold: :func:`stage_files`, plus the options modules of the
    stages whose settings can switch this one off (``graph.switched_off`` reads them, with the
    options modules their enabling fields follow) and of
    the stages whose options its own follow (``option_links``: pre-ner reads asr's model), and
    the queue worker with the ``shared`` modules it imports (not in the stage's code hash)."""
    switchers = [s for s in graph.STAGES if s.enabled_by]
    switching = [s.options_module for s in switchers]
    # an enabling field may follow another stage's option (translation's asr_model is asr's model):
    # resolving it needs that stage's options module too
    switching += [graph.stage(link.stage).options_module for s in switchers for link in s.option_links
                  if link.field in graph.enabling_fields(s)]
    linked = [graph.stage(link.stage).options_module for link in spec.option_links]
    extra = [module_file(name) for name in (*switching, *linked)]
    return _with_closure((*stage_files(spec), *(p for p in extra if p is not None), *worker_files()))


def code_hash(spec: graph.StageSpec) -> str:
    """One digest of :func:`stage_files`: their repository-relative paths and contents."""
    digest = hashlib.sha256()
    for path in stage_files(spec):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]
