"""Options of the second-pass-translation stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class SecondPassTranslationOptions:
    """Refinement of the first pass with context: each segment is translated
    again with the previous ``context_segments`` (source and translation) as
    context, by the first pass's model, and both candidates are judged in one
    order: glossary compliance, then a plausible length, then the model's
    score under the same context, where the new one must gain
    ``min_score_gain``. The first pass is kept otherwise; every choice says why."""

    context_segments: int = setting(3, "SECOND_PASS_CONTEXT_SEGMENTS", "previous segments given as context")
    min_score_gain: float = setting(0.05, "SECOND_PASS_MIN_SCORE_GAIN", "log-probability per token the refined translation must gain to replace the first")
    min_length_ratio: float = setting(0.3, "SECOND_PASS_MIN_LENGTH_RATIO", "shortest plausible translation, in characters per source character")
    max_length_ratio: float = setting(3.0, "SECOND_PASS_MAX_LENGTH_RATIO", "longest plausible translation, in characters per source character")
    device: str = setting("auto", "SECOND_PASS_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
    beam_size: int = setting(4, "SECOND_PASS_BEAM_SIZE", "beam search width")
    cpu_threads: int = setting(0, "SECOND_PASS_CPU_THREADS", "CPU threads (0 = all cores)")
