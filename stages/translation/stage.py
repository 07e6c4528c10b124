"""The translation stage: the transcript's segments -> ``translation/<lang>.json`` per target language.

Every output segment is a transcript segment: the same times, its source
text kept, its translation, the language it was translated from, the
protected terms it held and whether each was kept, and the model's score.
Segments already in the target language keep their source text
(method ``source``). With no target languages nothing is translated: the
manifest lists no files and a note says so (the runner can skip the stage
instead: ``enabled_by`` in shared/graph.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import schema
from shared.errors import InputError, ModelNotFound
from shared.log import get_logger
from shared.options.translation import TranslationOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.translation import forced, plan, speech, terms
from stages.translation.languages import LANGUAGE_CODE

log = get_logger("stages.translation")

STAGE = "translation"
NO_TARGETS_NOTE = "TARGET_LANGUAGES is empty: nothing to translate (set e.g. TARGET_LANGUAGES=en,es)"
MIN_LANGUAGE_PROBABILITY = 0.5  # a segment's detected language below this gives way to the transcript's
SOURCE_OPTIONS = ("auto", "detect", "transcript")


def check_options(options: TranslationOptions) -> None:
    problems = []
    if options.batch_size < 1:
        problems.append("TRANSLATION_BATCH_SIZE must be at least 1")
    if options.beam_size < 1:
        problems.append("TRANSLATION_BEAM_SIZE must be at least 1")
    if options.source_language not in SOURCE_OPTIONS and not LANGUAGE_CODE.match(options.source_language):
        problems.append(f"TRANSLATION_SOURCE_LANGUAGE must be {', '.join(SOURCE_OPTIONS)} or a language code, "
                        f"not {options.source_language!r}")
    if problems:
        raise InputError("; ".join(problems))


def model_identity(options: TranslationOptions) -> dict[str, Any]:
    check_options(options)
    targets = plan.check_targets(options.target_languages)
    forced_whisper = options.forced_possible  # into English (the usual main language) the forced track uses Whisper
    if not targets and not forced_whisper:
        return {}
    specs = plan.model_specs(options.model, targets)
    per_target = {t: plan.identity(t, specs[t]) for t in targets}
    out: dict[str, Any] = {"targets": per_target}
    if forced_whisper or any(v["backend"] == plan.WHISPER for v in per_target.values()) or options.source_language == "detect":
        out["whisper"] = speech.identity(options.whisper_model, options.device, options.compute_type)
    if any(v["backend"] == "transformers" for v in per_target.values()):
        from stages.translation.mt import pick_device

        out["transformers_device"] = pick_device(options.device)
    return out


class Languages:
    """Each segment's source language, decided once and shared by every target."""

    def __init__(self, options: TranslationOptions, transcript: schema.Transcript):
        self.options = options
        code = (transcript.language or "").strip().lower()
        self.transcript_language = "" if code in ("", "und") else code
        self.detected: dict[int, tuple[str, float]] = {}
        # each segment's language as the asr stage identified it (multilingual models), when sure enough
        self.recorded = {i: (seg.language, seg.language_probability) for i, seg in enumerate(transcript.segments)
                         if seg.language and seg.language_probability >= MIN_LANGUAGE_PROBABILITY}

    def fixed(self) -> str | None:
        return self.options.source_language if LANGUAGE_CODE.match(self.options.source_language) else None

    def default(self) -> str:
        """The language of segments nothing else is known of."""
        language = self.fixed() or self.transcript_language
        if not language:
            raise InputError("the transcript's language is unknown, so the source language is too",
                             "set TRANSLATION_SOURCE_LANGUAGE to a language code, or to detect")
        return language

    def per_segment(self, backend: str) -> bool:
        """Whether this backend uses each segment's detected language."""
        if self.fixed() or self.options.source_language == "transcript":
            return False
        return self.options.source_language == "detect" or backend == plan.WHISPER

    def choose(self, index: int, backend: str) -> tuple[str, dict[str, Any]]:
        if self.fixed():
            return self.fixed(), {"language_from": "option"}
        if self.per_segment(backend) and index in self.detected:
            language, probability = self.detected[index]
            info = {"language_from": "detected", "language_probability": round(probability, 4)}
            if probability < MIN_LANGUAGE_PROBABILITY and self.transcript_language:
                return self.transcript_language, {**info, "language_from": "transcript (detection unsure)",
                                                  "detected_language": language}
            return language, info
        if self.options.source_language == "auto" and index in self.recorded:
            language, probability = self.recorded[index]
            return language, {"language_from": "asr", "language_probability": round(probability, 4)}
        return self.default(), {"language_from": "transcript"}


class KnownLanguages(Languages):
    """Each segment's language as the asr stage identified it (the forced track's passages)."""

    def __init__(self, options: TranslationOptions, transcript: schema.Transcript, segments: Sequence[schema.Segment]):
        super().__init__(options, transcript)
        self.segments = segments

    def fixed(self) -> str | None:
        return None

    def per_segment(self, backend: str) -> bool:
        return False  # known already: nothing to detect

    def choose(self, index: int, backend: str) -> tuple[str, dict[str, Any]]:
        seg = self.segments[index]
        return seg.language, {"language_from": "asr", "language_probability": round(seg.language_probability, 4)}


def _names_prompt(all_terms: Sequence[terms.Term]) -> str:
    names = [t.spelling for t in sorted(all_terms, key=lambda t: (t.kind != "glossary", t.spelling))]
    return ("Names: " + ", ".join(names) + ".") if names else ""


def _empty(seg: schema.Segment, language: str) -> schema.TranslatedSegment:
    return schema.TranslatedSegment(seg.start_s, seg.end_s, seg.text, "", language, "empty")


def translate_speech(wav: Path, segments: Sequence[schema.Segment], found: list[list[terms.Term]],
                     all_terms: Sequence[terms.Term], langs: Languages, whisper: speech.WhisperSpeech,
                     options: TranslationOptions, hook: ProgressHook) -> tuple[list[schema.TranslatedSegment], dict[str, Any]]:
    """Whisper speech translation into English, one segment per batch item; and how it was made
    (keyword arguments of ``schema.stamp``)."""
    target = "en"
    prompt_text = _names_prompt(all_terms) if options.protect_names else ""
    previous = whisper.prompt_tokens(prompt_text)
    out: list[schema.TranslatedSegment | None] = [None] * len(segments)
    todo = [i for i, s in enumerate(segments) if s.text.strip()]
    loops = 0
    for i, seg in enumerate(segments):
        if not seg.text.strip():
            out[i] = _empty(seg, langs.default() if not langs.per_segment(plan.WHISPER) else "")
    for first in range(0, len(todo), options.batch_size):
        batch = todo[first:first + options.batch_size]
        hook("translating en (Whisper)", first, len(todo))
        clips = whisper.read_clips(wav, [(segments[i].start_s, segments[i].end_s) for i in batch])
        encoded, _ = whisper.encode(clips)
        if langs.per_segment(plan.WHISPER):
            for i, detected in zip(batch, whisper.detect(encoded)):
                langs.detected[i] = detected
        chosen = [langs.choose(i, plan.WHISPER) for i in batch]
        for language, _ in chosen:
            whisper.check_language(language)
        if any(language != target for language, _ in chosen):
            generated = whisper.generate(encoded, [language for language, _ in chosen], previous, options.beam_size)
        else:
            generated = [("", 0.0, [])] * len(batch)
        for k, i in enumerate(batch):
            seg = segments[i]
            language, info = chosen[k]
            if language == target:
                out[i] = schema.TranslatedSegment(seg.start_s, seg.end_s, seg.text, seg.text.strip(), language, "source",
                                                  info=info)
                continue
            text, score, _tokens = generated[k]
            if speech.compression_ratio(text) > speech.LOOP_COMPRESSION_RATIO:
                again = whisper.generate_without_loop(clips[k], language, previous, options.beam_size)
                if speech.compression_ratio(again[0]) < speech.compression_ratio(text):
                    info = {**info, "decoded_again": "repetition loop"}
                    text, score, _tokens = again
                if speech.compression_ratio(text) > speech.LOOP_COMPRESSION_RATIO:
                    loops += 1
                    info = {**info, "repetition_loop": True}
            text, records = terms.restore(text, found[i])
            out[i] = schema.TranslatedSegment(seg.start_s, seg.end_s, seg.text, text, language, "translated",
                                              tuple(records), score, info)
    hook("translating en (Whisper)", len(todo), len(todo))
    made = {"backend": plan.WHISPER, "model": whisper.identity(), "task": "translate", "prompt": prompt_text,
            "repetition_loops": loops}
    return [s for s in out if s is not None], made


def _detect_all(wav: Path, segments: Sequence[schema.Segment], langs: Languages, whisper: speech.WhisperSpeech,
                options: TranslationOptions, hook: ProgressHook) -> None:
    todo = [i for i, s in enumerate(segments) if s.text.strip() and i not in langs.detected]
    for first in range(0, len(todo), options.batch_size):
        batch = todo[first:first + options.batch_size]
        hook("detecting languages", first, len(todo))
        encoded, _ = whisper.encode(whisper.read_clips(wav, [(segments[i].start_s, segments[i].end_s) for i in batch]))
        for i, detected in zip(batch, whisper.detect(encoded)):
            langs.detected[i] = detected


def translate_text(choice: plan.Choice, segments: Sequence[schema.Segment], found: list[list[terms.Term]],
                   langs: Languages, options: TranslationOptions,
                   hook: ProgressHook) -> tuple[list[schema.TranslatedSegment], dict[str, Any]]:
    """A transformers MT model over the segments' text, grouped by source language; and how it
    was made (keyword arguments of ``schema.stamp``)."""
    from stages.translation.mt import MTModel

    model = MTModel(choice.model, options.device, options.cpu_threads)
    target = choice.target
    out: list[schema.TranslatedSegment | None] = [None] * len(segments)
    by_language: dict[str, list[int]] = {}
    infos: dict[int, dict[str, Any]] = {}
    for i, seg in enumerate(segments):
        language, info = langs.choose(i, "transformers")
        if not seg.text.strip():
            out[i] = _empty(seg, language)
        elif language == target:
            out[i] = schema.TranslatedSegment(seg.start_s, seg.end_s, seg.text, seg.text.strip(), language, "source",
                                              info=info)
        else:
            by_language.setdefault(language, []).append(i)
            infos[i] = info
    codes_used: dict[str, schema.LanguageCodes] = {}
    forced_count = 0
    done = 0
    total = sum(len(v) for v in by_language.values())
    for language, indices in by_language.items():
        try:
            codes = model.codes(language, target)
        except InputError:
            if infos[indices[0]].get("language_from") != "detected" or language == langs.default():
                raise
            log.warning("%s has no language %s (detected in %d segment(s)): translating them from %s",
                        choice.model.name, language, len(indices), langs.default())
            for i in indices:
                infos[i] = {**infos[i], "language_from": "transcript (model lacks the detected language)",
                            "detected_language": language}
            language = langs.default()
            codes = model.codes(language, target)
        codes_used[language] = codes
        sources = [terms.spell_in_source(segments[i].text.strip(), found[i]) for i in indices]
        results = model.translate(sources, codes, options.beam_size, options.batch_size,
                                  hook=lambda d, n, done=done: hook(f"translating {target}", done + d, total))
        restored = [terms.restore(text, found[i]) for (text, _), i in zip(results, indices)]
        retry = [k for k, (_, records) in enumerate(restored) if any(not r["kept"] for r in records)]
        if retry:
            log.info("%d segment(s) lost a protected term: decoding them again with the terms forced", len(retry))
            again = model.translate([sources[k] for k in retry], codes, options.beam_size, options.batch_size,
                                    forced=[[t.spelling for t in found[indices[k]]] for k in retry])
            for k, (text, score) in zip(retry, again):
                before = {r["term"] for r in restored[k][1] if not r["kept"]}
                text, records = terms.restore(text, found[indices[k]])
                records = [{**r, "how": "forced"} if r["term"] in before and r["kept"] else r for r in records]
                restored[k] = (text, records)
                results[k] = (results[k][0], score)
                forced_count += 1
        for (text, records), (_, score), i in zip(restored, results, indices):
            seg = segments[i]
            out[i] = schema.TranslatedSegment(seg.start_s, seg.end_s, seg.text, text, language, "translated",
                                              tuple(records), score, infos[i])
        done += len(indices)
    made = {"backend": "transformers", "model": model.identity(), "codes": codes_used,
            "decoder_start_token_id": model.model.config.decoder_start_token_id, "forced_segments": forced_count}
    return [s for s in out if s is not None], made


def make_forced(inputs: dict[str, Path], transcript: schema.Transcript, found: list[list[terms.Term]],
                all_terms: Sequence[terms.Term], options: TranslationOptions, whisper: speech.WhisperSpeech | None,
                source_name: str, terms_from: str,
                hook: ProgressHook) -> tuple[schema.Translation, speech.WhisperSpeech | None, list[str]]:
    """The forced narrative translation (stages/translation/forced.py): the foreign passages in the
    main language; the Whisper model, loaded when it was needed; notes."""
    main = forced.main_language(transcript)
    reason = forced.why_none(options, transcript)
    indices = [] if reason else forced.foreign(transcript)
    if not indices:
        note = reason or f"no passage in another language than {main or 'the main one'}: the forced track is empty"
        return schema.Translation(main or "und", (), schema.stamp(STAGE, options, note=note, source=source_name)), whisper, \
            [reason] if reason == forced.NO_LANGUAGES_NOTE else []
    segments = forced.subset(transcript, indices)
    subset_found = [found[i] for i in indices]
    langs = KnownLanguages(options, transcript, segments)
    spec = plan.model_specs(options.model, (main,))[main]
    try:
        choice = plan.choose(main, spec, segments[0].language)
    except ModelNotFound as missing:
        if spec != plan.AUTO:
            raise  # a model asked for by name: its absence is the user's to fix
        # SUBTITLE_FORCED=auto makes the track when a model here can: a film in another language than
        # English, offline with no MT model, still gets its subtitles, and the summary says what is missing
        note = forced.no_model_note(main, len(segments), missing)
        log.warning("%s", note)
        return schema.Translation(main, (), schema.stamp(STAGE, options, note=note, source=source_name)), whisper, [note]
    log.info("forced track: %d passage(s) in %s, into %s (%s)", len(segments),
             ", ".join(sorted({s.language for s in segments})), main, choice.backend)
    if choice.backend == plan.WHISPER:
        if whisper is None:
            whisper = speech.WhisperSpeech(options.whisper_model, options.device, options.compute_type, options.cpu_threads)
        translated, made = translate_speech(inputs["audio"], segments, subset_found, all_terms, langs, whisper,
                                            options, hook)
    else:
        translated, made = translate_text(choice, segments, subset_found, langs, options, hook)
    kept = tuple(s for s in translated if s.method == "translated")  # only foreign speech: never the main language's
    return schema.Translation(main, kept, schema.stamp(STAGE, options, **made, model_option=choice.spec, source=source_name,
                                                       terms_from=terms_from, forced=True)), whisper, []


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: TranslationOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    check_options(options)
    targets = plan.check_targets(options.target_languages)
    folder = outputs["translations"].parent
    source_name = "corrected_transcript" if "corrected_transcript" in inputs else "transcript"  # recorded below
    transcript = schema.load(inputs["transcript"], schema.Transcript)
    all_terms, terms_from = terms.load_terms(inputs) if options.protect_names else ([], "off (TRANSLATION_PROTECT_NAMES)")
    segments = transcript.segments
    found = [terms.find(s.text, all_terms) for s in segments]
    forced_record, whisper, notes = make_forced(inputs, transcript, found, all_terms, options, None, source_name,
                                                terms_from, hook)
    schema.write(outputs["forced_translation"], forced_record)
    forced_metrics = {"forced": forced.summary(forced_record, transcript)}
    if not targets:
        schema.write(outputs["translations"],
                     schema.TranslationManifest((), schema.stamp(STAGE, options, note=NO_TARGETS_NOTE)))
        if forced_record.segments:
            notes.append(f"no TARGET_LANGUAGES: only the forced track's {len(forced_record.segments)} passage(s) "
                         f"translated into {forced_record.language}")
        return StageReport(model=model_identity(options), metrics={"languages": 0, **forced_metrics},
                           notes=[NO_TARGETS_NOTE, *notes] if not forced_record.segments else notes)

    langs = Languages(options, transcript)
    specs = plan.model_specs(options.model, targets)
    source_for_choice = langs.fixed() or langs.transcript_language or "en"
    choices = [plan.choose(t, specs[t], source_for_choice) for t in targets]

    if whisper is None and (any(c.backend == plan.WHISPER for c in choices) or options.source_language == "detect"):
        whisper = speech.WhisperSpeech(options.whisper_model, options.device, options.compute_type, options.cpu_threads)
    # Whisper targets first: their encoder pass detects the languages the MT targets may reuse
    choices.sort(key=lambda c: c.backend != plan.WHISPER)

    files: list[schema.TranslationFile] = []
    metrics: dict[str, Any] = {}
    for choice in choices:
        started = time.perf_counter()
        if choice.backend == plan.WHISPER:
            translated, made = translate_speech(inputs["audio"], segments, found, all_terms, langs, whisper,
                                                options, hook)
        else:
            if options.source_language == "detect":
                _detect_all(inputs["audio"], segments, langs, whisper, options, hook)
            translated, made = translate_text(choice, segments, found, langs, options, hook)
        name = f"{choice.target}.json"
        record = schema.Translation(choice.target, tuple(translated),
                                    schema.stamp(STAGE, options, **made, model_option=choice.spec, source=source_name,
                                                 terms_from=terms_from))
        schema.write(folder / name, record)
        files.append(schema.TranslationFile(choice.target, name, choice.backend, len(translated)))
        kept = sum(1 for s in translated for r in s.terms if r["kept"])
        protected = sum(len(s.terms) for s in translated)
        counts = {m: sum(1 for s in translated if s.method == m) for m in ("translated", "source", "empty")}
        metrics[choice.target] = {"backend": choice.backend, **counts, "terms_kept": kept, "terms_protected": protected,
                                  "wall_s": round(time.perf_counter() - started, 3)}
        if protected > kept:
            notes.append(f"{choice.target}: {protected - kept} of {protected} protected name(s) or term(s) not in "
                         f"the translation (see {name}, terms with kept=false)")
        if counts["translated"] == 0 and counts["source"]:
            notes.append(f"{choice.target}: every segment is already in {choice.target}: the source text is kept")
        if made.get("repetition_loops"):
            notes.append(f"{choice.target}: Whisper looped in {made['repetition_loops']} segment(s) "
                         f"(repetition_loop in {name}); the second pass may fix them")
    files.sort(key=lambda f: targets.index(f.language))
    schema.write(outputs["translations"],
                 schema.TranslationManifest(tuple(files), schema.stamp(STAGE, options, source=source_name)))
    log.info("translated %d segment(s) into %s", len(segments), ", ".join(targets))
    return StageReport(
        model=model_identity(options),
        metrics={"languages": len(files), "segments": len(segments), "terms_from": terms_from, **metrics, **forced_metrics},
        notes=notes,
    )
