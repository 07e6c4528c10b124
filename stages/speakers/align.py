"""Word times from whisperx's forced alignment (a wav2vec2 CTC model).

Segment by segment: the segment's audio is read from the WAV, its words
(joined by single spaces, so whisperx's split on spaces gives back the
same words) are aligned by ``whisperx.align``, and each word takes the
aligned start and end when whisperx found them. A segment whose aligned
words do not match the transcript's one for one keeps its ASR times, and
is counted.

whisperx splits sentences with NLTK's punkt_tab data. When the model cache
has none (``$MODEL_CACHE/nltk_data``; ``make models`` fetches it), an
untrained Punkt model is written to a temporary folder for the run: the
sentence split only groups whisperx's output, which is flattened here, so
word times do not depend on it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.audio import SAMPLE_RATE_HZ, AudioFile
from shared.errors import ModelNotFound
from shared.log import get_logger
from shared.models import ResolvedModel
from shared.progress import ProgressHook, no_progress
from shared.schema import Segment
from stages.speakers.models import TORCHAUDIO_ALIGN_FILES, nltk_data_dir, torch_checkpoints_dir

log = get_logger("stages.speakers")

PUNKT_FILES = ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab")


@dataclass
class AlignStats:
    segments_aligned: int = 0
    segments_kept: int = 0  # whisperx's words did not match the transcript's: ASR times kept
    words_aligned: int = 0
    words_kept: int = 0  # no aligned time for this word: ASR time kept
    sentence_splitter: str = ""
    kept_examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"segments_aligned": self.segments_aligned, "segments_kept_asr_times": self.segments_kept,
                "words_aligned": self.words_aligned, "words_kept_asr_times": self.words_kept,
                "sentence_splitter": self.sentence_splitter}


@contextlib.contextmanager
def punkt_available(language: str) -> Iterator[str]:
    """Make whisperx's sentence splitter loadable offline; yields which one is used."""
    import nltk
    from whisperx.utils import PUNKT_LANGUAGES

    punkt_lang = PUNKT_LANGUAGES.get(language, "english")
    cache = str(nltk_data_dir())
    if cache not in nltk.data.path:
        nltk.data.path.insert(0, cache)
    try:
        nltk.data.find(f"tokenizers/punkt_tab/{punkt_lang}/")
        yield f"punkt_tab/{punkt_lang}"
        return
    except LookupError:
        pass
    with tempfile.TemporaryDirectory(prefix="punkt-") as tmp:
        folder = Path(tmp) / "tokenizers" / "punkt_tab" / punkt_lang
        folder.mkdir(parents=True)
        for name in PUNKT_FILES:
            (folder / name).write_text("", encoding="utf-8")
        nltk.data.path.insert(0, tmp)
        try:
            yield f"untrained punkt ({punkt_lang}; no punkt_tab in {cache})"
        finally:
            nltk.data.path.remove(tmp)


def load_model(resolved: ResolvedModel, language: str, device: str):
    """(model, metadata) as whisperx.load_align_model gives them, from the cache only."""
    from whisperx.alignment import load_align_model

    try:
        if resolved.name in TORCHAUDIO_ALIGN_FILES:
            return load_align_model(language, device, model_name=resolved.name, model_dir=str(torch_checkpoints_dir()))
        return load_align_model(language, device, model_name=resolved.path, model_cache_only=True)
    except Exception as err:  # whisperx raises ValueError and prints; say it on one line
        raise ModelNotFound(f"cannot load alignment model {resolved.name} from {resolved.path}: {err}",
                            "download it again (make models), or ALIGN_MODEL=none for the ASR word times") from None


def _read(wav: AudioFile, start_s: float, end_s: float):
    """The segment's samples, from the sample at or before its start to the one after its end, and
    the time of the first."""
    a = max(0, int(start_s * SAMPLE_RATE_HZ))
    return wav.read(a, int(round(end_s * SAMPLE_RATE_HZ)) + 1), a / SAMPLE_RATE_HZ


def align_segments(segments: Sequence[Segment], audio: Path, model, metadata: dict[str, Any], language: str,
                   device: str, hook: ProgressHook = no_progress) -> tuple[list[list[tuple[float, float] | None]], AlignStats]:
    """For every segment, for every word: (start_s, end_s) from the alignment, or None (keep the ASR's)."""
    from whisperx.alignment import align

    stats = AlignStats()
    found: list[list[tuple[float, float] | None]] = []
    with punkt_available(language) as splitter, AudioFile(audio) as wav:
        stats.sentence_splitter = splitter
        for k, seg in enumerate(segments):
            hook("aligning", k, len(segments))
            texts = [w.text.strip() for w in seg.words]
            times: list[tuple[float, float] | None] = [None] * len(texts)
            wanted = [i for i, t in enumerate(texts) if t]
            if not wanted or any(" " in texts[i] for i in wanted) or seg.end_s <= seg.start_s:
                stats.segments_kept += 1 if wanted else 0
                found.append(times)
                continue
            samples, offset_s = _read(wav, seg.start_s, seg.end_s)
            item = {"start": seg.start_s - offset_s, "end": seg.end_s - offset_s, "text": " ".join(texts[i] for i in wanted)}
            result = align([item], model, metadata, samples, device)
            words = [w for s in result["segments"] for w in s.get("words", [])]
            if len(words) != len(wanted):
                stats.segments_kept += 1
                if len(stats.kept_examples) < 5:
                    stats.kept_examples.append(seg.text.strip()[:60])
                found.append(times)
                continue
            stats.segments_aligned += 1
            for i, w in zip(wanted, words):
                if "start" in w and "end" in w and w["end"] >= w["start"]:
                    times[i] = (float(w["start"]) + offset_s, float(w["end"]) + offset_s)
                    stats.words_aligned += 1
                else:
                    stats.words_kept += 1
            found.append(times)
        hook("aligning", len(segments), len(segments))
    if stats.kept_examples:
        log.info("ASR times kept for %d segment(s), e.g. %r", stats.segments_kept, stats.kept_examples[0])
    return found, stats
