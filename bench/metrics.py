"""Accuracy metrics shared by tests, `make eval` and the benchmarks, from the libraries
made for them (dev requirements, docker/requirements-dev.txt):

* WER: ``jiwer`` on text normalized by Whisper's English text normalizer
  (``whisper-normalizer``: case, punctuation, numbers as digits, spelling
  variants, fillers), the normalization Whisper's own evaluation uses;
* DER: ``pyannote.metrics`` (no collar, overlapped speech scored, speakers
  mapped one to one for the largest agreement).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import jiwer

from shared.speakers import Turn


@lru_cache(maxsize=1)
def _english_normalizer() -> Any:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize_text(text: str) -> str:
    """Whisper's English normalization, single spaces."""
    return " ".join(_english_normalizer()(text).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Normalized WER: (substitutions + deletions + insertions) / reference words."""
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp))


def diarization_error_rate(reference: Sequence[Turn], hypothesis: Sequence[Turn]) -> dict[str, Any]:
    """DER by pyannote.metrics, no collar, overlap scored: (missed + false alarm +
    confusion) / reference speech, with its parts, the reference speech in seconds and
    the speaker mapping (hypothesis label -> reference label)."""
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(turns: Sequence[Turn]) -> Annotation:
        ann = Annotation()
        for k, t in enumerate(turns):
            ann[Segment(t.start_s, t.end_s), k] = t.speaker
        return ann

    ref, hyp = annotation(reference), annotation(hypothesis)
    turns = [*reference, *hypothesis]
    # the scored extent, given rather than approximated (pyannote warns when it guesses the same)
    uem = Timeline([Segment(min(t.start_s for t in turns), max(t.end_s for t in turns))]) if turns else Timeline()
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    parts = metric(ref, hyp, uem=uem, detailed=True)
    total = parts["total"] or 1.0
    return {"der": (parts["missed detection"] + parts["false alarm"] + parts["confusion"]) / total,
            "missed": parts["missed detection"] / total, "false_alarm": parts["false alarm"] / total,
            "confusion": parts["confusion"] / total, "reference_speech_s": parts["total"],
            "mapping": {str(h): str(r) for h, r in metric.optimal_mapping(ref, hyp, uem=uem).items()}}
