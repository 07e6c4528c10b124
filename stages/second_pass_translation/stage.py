"""The second-pass-translation stage: translation/<lang>.json -> second-pass-translation/<lang>.json.

For every translated segment, a second candidate is made with context: the
previous ``context_segments`` segments (translated from the same language,
none more than ``CONTEXT_GAP_S`` before the next) by the first pass's own
model and backend. ``judge.choose`` keeps one of the two by a stated
criterion (glossary compliance, plausible length, model score under the
same context) and the segment records both candidates and the reason. The
first pass's files are read, never written.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import schema
from shared.errors import InputError
from shared.log import get_logger
from shared.models import ModelNotFound, resolve_mt_model
from shared.options.second_pass_translation import SecondPassTranslationOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.second_pass_translation import judge

log = get_logger("stages.second_pass_translation")

STAGE = "second-pass-translation"
CONTEXT_GAP_S = 20.0  # a longer silence (a scene change) ends the context
NOTHING_NOTE = "the first pass made no translations (no TARGET_LANGUAGES): nothing to refine"


def check_options(options: SecondPassTranslationOptions) -> None:
    problems = []
    if options.context_segments < 1:
        problems.append("SECOND_PASS_CONTEXT_SEGMENTS must be at least 1")
    if not 0 < options.min_length_ratio < options.max_length_ratio:
        problems.append("SECOND_PASS_MIN_LENGTH_RATIO must be above 0 and below SECOND_PASS_MAX_LENGTH_RATIO")
    if options.beam_size < 1:
        problems.append("SECOND_PASS_BEAM_SIZE must be at least 1")
    if problems:
        raise InputError("; ".join(problems))


def model_identity(options: SecondPassTranslationOptions) -> dict[str, Any]:
    """The models are the first pass's (part of its output, an input here); only the device is ours."""
    check_options(options)
    return {"models": "the first pass's, as recorded in translation/<lang>.json", "device_option": options.device}


def context_of(segments: Sequence[schema.TranslatedSegment], index: int, size: int) -> list[int]:
    """Indices of up to ``size`` segments before ``index`` translated from the same language, without
    a gap of CONTEXT_GAP_S or more in between."""
    out: list[int] = []
    current = segments[index]
    later_start = current.start_s
    for j in range(index - 1, -1, -1):
        seg = segments[j]
        if len(out) == size or later_start - seg.end_s >= CONTEXT_GAP_S:
            break
        if seg.method == "empty":
            continue
        if seg.method != "translated" or seg.source_language != current.source_language:
            break
        out.append(j)
        later_start = seg.start_s
    return out[::-1]


def _kept(records: Sequence[dict[str, Any]]) -> int:
    return sum(1 for r in records if r["kept"])


class Refiner:
    """One language file's backend, loaded from what the first pass recorded."""

    def __init__(self, translation: schema.Translation, wav: Path, options: SecondPassTranslationOptions):
        self.producer = translation.producer
        self.backend = self.producer.backend
        self.wav = wav
        self.options = options
        if self.backend == "whisper":
            from stages.second_pass_translation.whisper_context import WhisperContext

            model = self.producer.model_path or self.producer.model_name or "base"
            self.engine = WhisperContext(model, options.device, options.cpu_threads)
            self.names = str(self.producer.details.get("prompt") or "")  # the names the first pass prompted with
        elif self.backend == "transformers":
            from stages.second_pass_translation.mt_context import MTContext

            try:
                resolved = resolve_mt_model(self.producer.model_path or self.producer.model_name)
            except ModelNotFound:
                if not self.producer.model_path:
                    raise
                resolved = resolve_mt_model(self.producer.model_name)  # the folder moved: found by name
            self.engine = MTContext(resolved, options.device, options.cpu_threads)
        else:
            raise InputError(f"translation/{translation.language}.json names no backend the second pass knows "
                             f"({self.backend!r})", "rerun the translation stage")

    def identity(self) -> dict[str, Any]:
        return {"backend": self.backend, **self.engine.identity()}

    def candidates(self, segments: Sequence[schema.TranslatedSegment], index: int,
                   context: list[int]) -> tuple[str, float | None, float | None]:
        """(second translation, score of the first, score of the second) under the same context."""
        seg = segments[index]
        if self.backend == "whisper":
            engine = self.engine
            prompt = " ".join([self.names, *(segments[j].text for j in context)])
            previous = engine.context_tokens(prompt)
            encoded, frames = engine.encode(engine.read(self.wav, seg.start_s, seg.end_s))
            text, _ = engine.translate(encoded, seg.source_language, previous, self.options.beam_size)
            return (text, engine.score(encoded, frames, seg.source_language, previous, seg.text),
                    engine.score(encoded, frames, seg.source_language, previous, text))
        codes = self.producer.codes.get(seg.source_language)
        if codes is None:
            raise InputError(f"the first pass recorded no language codes for {seg.source_language}",
                             "rerun the translation stage")
        start = self.producer.decoder_start_token_id
        ctx_source = " ".join(segments[j].source_text.strip() for j in context)
        ctx_translation = " ".join(segments[j].text.strip() for j in context)
        text = self.engine.translate(ctx_source, seg.source_text.strip(), ctx_translation, codes, start,
                                     self.options.beam_size)
        return (text, self.engine.score(ctx_source, seg.source_text.strip(), ctx_translation, codes, start, seg.text),
                self.engine.score(ctx_source, seg.source_text.strip(), ctx_translation, codes, start, text))


def refine(translation: schema.Translation, wav: Path, options: SecondPassTranslationOptions,
           hook: ProgressHook) -> tuple[schema.Translation, dict[str, Any]]:
    segments = translation.segments
    todo = [i for i, s in enumerate(segments) if s.method == "translated"]
    refiner = Refiner(translation, wav, options) if todo else None
    out = list(segments)
    chosen = {"first": 0, "second": 0}
    reasons: dict[str, int] = {}
    for n, i in enumerate(todo):
        hook(f"refining {translation.language}", n, len(todo))
        seg = segments[i]
        context = context_of(segments, i, options.context_segments)
        spellings = [r["term"] for r in seg.terms]
        if not context:
            info = {**seg.info, "pass": "first", "reason": "no context before this segment: the first pass is kept"}
            out[i] = dataclasses.replace(seg, info=info)
            chosen["first"] += 1
            reasons["no context"] = reasons.get("no context", 0) + 1
            continue
        text, first_score, second_score = refiner.candidates(segments, i, context)
        text, records = judge.restore(text, spellings)
        first = judge.candidate(seg.text, seg.source_text, first_score, _kept(seg.terms),
                                options.min_length_ratio, options.max_length_ratio)
        second = judge.candidate(text, seg.source_text, second_score, _kept(records),
                                 options.min_length_ratio, options.max_length_ratio)
        winner, reason = judge.choose(first, second, len(spellings), options.min_score_gain)
        chosen[winner] += 1
        key = reason.split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
        info = {**seg.info, "pass": winner, "reason": reason, "context_segments": len(context),
                "first": {"text": seg.text, "score": first_score, "terms_kept": first.kept,
                          "length_ratio": first.length_ratio, "first_pass_score": seg.score},
                "second": {"text": text, "score": second_score, "terms_kept": second.kept,
                           "length_ratio": second.length_ratio}}
        if winner == "second":
            out[i] = dataclasses.replace(seg, text=text, terms=tuple(records), score=second_score, info=info)
        else:
            out[i] = dataclasses.replace(seg, score=first_score if first_score is not None else seg.score, info=info)
    hook(f"refining {translation.language}", len(todo), len(todo))
    for i, seg in enumerate(out):
        if seg.method != "translated":
            out[i] = dataclasses.replace(seg, info={**seg.info, "pass": "first", "reason": f"method {seg.method}: "
                                                    "nothing to refine"})
    first = translation.producer
    refined_by = refiner.identity() if refiner else None
    producer = schema.stamp(STAGE, options, first.model, backend=first.backend, codes=first.codes,
                            decoder_start_token_id=first.decoder_start_token_id,
                            **first.details, first_pass_producer=first, refined_by=refined_by)
    return schema.Translation(translation.language, tuple(out), producer), {**chosen, "reasons": reasons,
                                                                              "refined_by": refined_by}


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: SecondPassTranslationOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    check_options(options)
    manifest = schema.load(inputs["translations"], schema.TranslationManifest)
    folder = outputs["refined_translations"].parent
    if not manifest.files:
        schema.write(outputs["refined_translations"],
                     schema.TranslationManifest((), schema.stamp(STAGE, options, note=NOTHING_NOTE)))
        return StageReport(metrics={"languages": 0})  # the translation stage's note already says why
    files, metrics, models = [], {}, {}
    for entry in manifest.files:
        started = time.perf_counter()
        first = schema.load(inputs["translations"].parent / entry.path, schema.Translation)
        refined, counts = refine(first, inputs["audio"], options, hook)
        schema.write(folder / entry.path, refined)
        files.append(dataclasses.replace(entry))
        models[entry.language] = counts["refined_by"]
        metrics[entry.language] = {"kept_first": counts["first"], "kept_second": counts["second"],
                                   "reasons": counts["reasons"], "wall_s": round(time.perf_counter() - started, 3)}
        log.info("%s: second pass kept in %d segment(s), first pass in %d", entry.language, counts["second"],
                 counts["first"])
    schema.write(outputs["refined_translations"],
                 schema.TranslationManifest(tuple(files), schema.stamp(STAGE, options)))
    return StageReport(model=models, metrics={"languages": len(files), **metrics})
