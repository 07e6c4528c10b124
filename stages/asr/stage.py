"""Transcribe the speech regions with faster-whisper's batched pipeline.

The initial prompt and hotwords reach the model: they are passed to
``BatchedInferencePipeline.transcribe`` (which rejects unknown arguments
loudly rather than dropping them) and recorded in the transcript's producer.
"""

from __future__ import annotations

import bisect
import dataclasses
from pathlib import Path
from typing import Any

from shared import audio, schema, whisper
from shared.devices import ctranslate2_device
from shared.errors import InputError
from shared.log import get_logger
from shared.models import resolve_whisper
from shared.options.asr import AsrOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.asr import hallucinations, languages, model_choice
from stages.asr.chunks import Chunk, Timeline, group_regions, untranscribed_tail

log = get_logger("stages.asr")


def resolve_device(options: AsrOptions) -> tuple[str, str]:
    """(device, compute_type): CUDA float16 when CTranslate2 sees a GPU, else CPU int8."""
    return ctranslate2_device(options.device, options.compute_type, "ASR_DEVICE")


def model_identity(options: AsrOptions) -> dict[str, Any]:
    device, compute_type = resolve_device(options)
    # auto: the listening model and both possible picks, so a model newly cached makes asr stale
    found = model_choice.identity() if options.model == model_choice.AUTO else resolve_whisper(options.model).identity()
    return {**found, "device": device, "compute_type": compute_type}


def choose_model(options: AsrOptions, wav: Path, regions: list[schema.Region], device: str, compute_type: str,
                 hook: ProgressHook = no_progress) -> tuple[model_choice.Choice, Any]:
    """ASR_MODEL=auto: the model for the film's language (stages/asr/model_choice.py), and the
    detection model when it is the one chosen (loaded once). A given ASR_LANGUAGE, or
    ASR_TASK=translate, decides without listening."""
    import time

    import numpy as np

    if options.language != "auto" or options.task == "translate" or not regions:
        given = options.language != "auto"
        language = options.language if given else "und"
        # no speech to listen to: the English pick (cheapest to load; the transcript is empty anyway)
        picked = model_choice.pick(language if given else "en", options.task)
        return model_choice.Choice(language, 1.0 if given else 0.0, picked), None
    started = time.monotonic()
    detector_resolved = resolve_whisper(model_choice.DETECTION_MODEL)
    detector = whisper.load_model(detector_resolved, device, compute_type, options.cpu_threads, what="language ID")
    hook("identifying the language", 0, 1)
    spread = model_choice.windows(regions)
    clips = [read_regions(wav, list(w.regions)) if w.regions else np.zeros(1, np.float32) for w in spread]
    language, probability, per_window = model_choice.detect(detector, clips, [w.speech_s for w in spread])
    hook("identifying the language", 1, 1)
    picked = model_choice.pick(model_choice.model_language(language, probability), options.task)
    used = tuple({"start_s": w.regions[0].start_s, "end_s": w.regions[-1].end_s, "speech_s": round(w.speech_s, 3),
                  "languages": {k: round(v, 4) for k, v in p.items()}} for w, p in zip(spread, per_window))
    choice = model_choice.Choice(language, probability, picked, detector_resolved.name, used, time.monotonic() - started)
    log.info("%s (%d window(s), %.1f s)", choice.line(), len(used), choice.seconds)
    return choice, detector if picked.path == detector_resolved.path else None


def load_model(options: AsrOptions, wav: Path, regions: list[schema.Region], hook: ProgressHook = no_progress):
    """The batched pipeline, the resolved model, device, compute type, and with ASR_MODEL=auto
    what was chosen (else None)."""
    from faster_whisper import BatchedInferencePipeline

    device, compute_type = resolve_device(options)
    choice: model_choice.Choice | None = None
    model = None
    if options.model == model_choice.AUTO:
        choice, model = choose_model(options, wav, regions, device, compute_type, hook)
        resolved = choice.model
    else:
        resolved = resolve_whisper(options.model)
    if model is None:
        model = whisper.load_model(resolved, device, compute_type, options.cpu_threads, what="ASR")
    return BatchedInferencePipeline(model=model), resolved, device, compute_type, choice


CLIP_ROUNDING_S = 0.05  # Whisper's times are 20 ms steps: a segment may start a hair before its clip
CHUNKS_PER_WINDOW = 40  # at most 20 min of speech in memory at once, whatever the film's length


def read_regions(path: Path, regions: list[schema.Region]):
    """The samples of ``regions``, concatenated, read straight from the WAV (never the whole file)."""
    import numpy as np

    with audio.AudioFile(path) as wav:
        spans = [(wav.sample(r.start_s), min(wav.sample(r.end_s), wav.frames)) for r in regions]
        samples = np.zeros(sum(max(0, b - a) for a, b in spans), dtype=np.float32)
        cursor = 0
        for start, end in spans:
            if end > start:
                got = wav.read(start, end, out=samples[cursor:cursor + end - start])
                cursor += len(got)
    return samples


def _language_for(options: AsrOptions, is_multilingual: bool) -> str | None:
    language = None if options.language == "auto" else options.language
    if not is_multilingual:
        if language not in (None, "en"):
            raise InputError(f"model {options.model} is English-only but ASR_LANGUAGE={options.language}",
                             "use a multilingual model (ASR_MODEL=base)")
        if options.task == "translate":
            raise InputError(f"ASR_TASK=translate needs a multilingual model, not {options.model}", "use ASR_MODEL=base")
        language = "en"
    return language


def _decode_window(pipeline, wav: Path, chunks: list[Chunk], language: str | None, options: AsrOptions,
                   on_segment, multilingual: bool = False) -> tuple[list[schema.Segment], Any]:
    """One batched call over ``chunks``: their speech concatenated, silences cut out; times mapped back."""
    regions = [r for c in chunks for r in c.regions]
    samples = read_regions(wav, regions)
    clips, timelines, cursor = [], [], 0.0
    for chunk in chunks:
        clips.append({"start": cursor, "end": cursor + chunk.speech_s})
        timelines.append(Timeline(chunk.regions))
        cursor += chunk.speech_s
    clip_starts = [c["start"] for c in clips]
    segments_iter, info = pipeline.transcribe(
        samples,
        language=language,
        task=options.task,
        beam_size=options.beam_size,
        repetition_penalty=options.repetition_penalty,
        no_repeat_ngram_size=options.no_repeat_ngram_size,
        batch_size=options.batch_size,
        word_timestamps=True,
        vad_filter=False,
        clip_timestamps=clips,
        initial_prompt=options.initial_prompt or None,
        hotwords=options.hotwords or None,
        # each chunk decoded in the language its own audio is in (a foreign scene is transcribed, not translated)
        multilingual=multilingual,
    )
    segments = []
    for seg in segments_iter:
        # every segment comes from one clip: its times map into that chunk only, never into a neighbour
        index = max(0, bisect.bisect_right(clip_starts, seg.start + CLIP_ROUNDING_S) - 1)
        offset, timeline = clip_starts[index], timelines[index]

        def film(t: float, is_end: bool = False, timeline=timeline, offset=offset) -> float:  # this segment's chunk
            return timeline.to_original(t - offset, is_end)

        words = tuple(schema.Word(film(w.start), film(w.end, True), w.word, float(w.probability)) for w in (seg.words or ()))
        segments.append(schema.Segment(film(seg.start), film(seg.end, True), seg.text, words,
                                       float(seg.avg_logprob), float(seg.no_speech_prob)))
        on_segment(min(seg.end, cursor))
    return segments, info


def transcribe(
    wav: Path, regions: list[schema.Region], options: AsrOptions, pipeline, is_multilingual: bool,
    hook: ProgressHook = no_progress,
) -> tuple[list[schema.Segment], str, float, float]:
    """Transcribe the speech regions window by window, then once more the speech at the end of
    any chunk that Whisper stopped short of. Returns segments (film times), language, its
    probability, and the seconds of speech decoded a second time."""
    language = _language_for(options, is_multilingual)
    # with ASR_LANGUAGE=auto, each chunk is decoded in the language Whisper identifies in it
    multilingual = language is None and options.segment_language == "auto" and options.task == "transcribe"
    duration_s = audio.duration_s(wav)
    regions = [schema.Region(max(0.0, r.start_s), min(r.end_s, duration_s)) for r in regions
               if min(r.end_s, duration_s) - max(0.0, r.start_s) > 0.01]  # regions never run past the audio
    chunks = group_regions(regions, options.max_chunk_duration_s)
    total_speech_s = sum(c.speech_s for c in chunks)
    done_s, probability = 0.0, 1.0
    segments: list[schema.Segment] = []
    for first in range(0, len(chunks), CHUNKS_PER_WINDOW):
        window = chunks[first:first + CHUNKS_PER_WINDOW]
        window_segments, info = _decode_window(pipeline, wav, window, language, options,
                                               lambda t, done_s=done_s: hook("transcribing", done_s + t, total_speech_s),
                                               multilingual)
        if language is None:  # detected on the first window; the same for the rest of the film
            language, probability = info.language, float(info.language_probability)
            log.info("language detected: %s (probability %.2f)", language, probability)
        segments += window_segments
        done_s += sum(c.speech_s for c in window)
        hook("transcribing", done_s, total_speech_s)
    retry = [piece for chunk in chunks for piece in group_regions(untranscribed_tail(chunk, segments),
                                                                   options.max_chunk_duration_s)]
    retried_s = sum(c.speech_s for c in retry)
    if retry:
        log.info("Whisper stopped short in %d chunk(s): decoding their last %.1f s of speech again", len(retry), retried_s)
        for first in range(0, len(retry), CHUNKS_PER_WINDOW):
            more, _ = _decode_window(pipeline, wav, retry[first:first + CHUNKS_PER_WINDOW], language, options,
                                     lambda t: None, multilingual)
            segments += more
        segments.sort(key=lambda s: (s.start_s, s.end_s))
    return segments, language or "und", probability, retried_s


WHISPER_PROMPT_TOKENS = 223  # Whisper reads at most this much preceding context (prompt and hotwords together)


def with_names(options: AsrOptions, prompt_path: Path | None, model_path: str) -> tuple[AsrOptions, dict[str, Any], list[str]]:
    """The options the model is called with: the user's ASR_INITIAL_PROMPT and ASR_HOTWORDS first,
    then pre-ner's names (prompt.json: initial prompt ``", ".join(prompt_items) + "."``, hotwords
    joined by spaces), its lowest-ranked names dropped until both fit Whisper's 223 tokens as
    counted by this model's own tokenizer. Returns the options, what was passed, and notes."""
    from shared.fsio import read_json

    user_prompt, user_hotwords = options.initial_prompt.strip(), options.hotwords.strip()
    prompt_items: list[str] = []
    hotword_items: list[str] = []
    if prompt_path is not None:
        names = read_json(prompt_path)
        prompt_items = [str(i) for i in names.get("prompt_items", [])]
        hotword_items = [str(i) for i in names.get("hotword_items", []) if str(i).casefold() not in user_hotwords.casefold()]

    def texts() -> tuple[str, str]:
        prompt = " ".join(filter(None, [user_prompt, ", ".join(prompt_items) + "." if prompt_items else ""]))
        return prompt, " ".join(filter(None, [user_hotwords, *hotword_items]))

    tokenizer_file = Path(model_path) / "tokenizer.json"
    count = None
    if tokenizer_file.is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        count = lambda text: len(tokenizer.encode(" " + text, add_special_tokens=False).ids) if text else 0  # noqa: E731
    notes, dropped = [], []
    prompt, hotwords = texts()
    while count is not None and count(prompt) + count(hotwords) > WHISPER_PROMPT_TOKENS and (prompt_items or hotword_items):
        dropped.insert(0, (prompt_items or hotword_items).pop())
        prompt, hotwords = texts()
    tokens = count(prompt) + count(hotwords) if count is not None else None
    if dropped:
        notes.append(f"{len(dropped)} pre-ner name(s) left out of the ASR prompt to fit {WHISPER_PROMPT_TOKENS} tokens")
    if tokens is not None and tokens > WHISPER_PROMPT_TOKENS:
        notes.append(f"ASR_INITIAL_PROMPT and ASR_HOTWORDS take {tokens} tokens; Whisper reads {WHISPER_PROMPT_TOKENS}")
    record = {"initial_prompt": prompt, "hotwords": hotwords, "tokens": tokens, "budget": WHISPER_PROMPT_TOKENS,
              "from_user": {"initial_prompt": user_prompt, "hotwords": user_hotwords},
              "from_pre_ner": None if prompt_path is None else
              {"prompt_items": prompt_items, "hotword_items": hotword_items, "left_out": dropped}}
    return dataclasses.replace(options, initial_prompt=prompt, hotwords=hotwords), record, notes


def check_options(options: AsrOptions) -> None:
    """Refuse decoding settings the model would take and misuse, before it loads."""
    if options.repetition_penalty <= 0:
        raise InputError(f"ASR_REPETITION_PENALTY is {options.repetition_penalty}: use 1.0 (off) or a bit more, e.g. 1.1")
    if options.no_repeat_ngram_size < 0:
        raise InputError(f"ASR_NO_REPEAT_NGRAM_SIZE is {options.no_repeat_ngram_size}: use 0 (off) or a token count, e.g. 3")
    if options.beam_size < 1 or options.batch_size < 1:
        raise InputError("ASR_BEAM_SIZE and ASR_BATCH_SIZE must be at least 1")


def _removal_notes(removed: list[schema.Removed]) -> list[str]:
    """One line naming how much was taken out and why (logged, and in the stage's notes)."""
    if not removed:
        return []
    reasons: dict[str, int] = {}
    for r in removed:
        reasons[r.reason] = reasons.get(r.reason, 0) + len(r.text.split())
    line = (f"removed {sum(reasons.values())} invented word(s) in {len(removed)} place(s): "
            + ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
            + " (transcript.json 'removed'; ASR_REMOVE_HALLUCINATIONS=false keeps them)")
    log.info("%s", line)
    return [line]


def identify_languages(model, wav: Path, segments: list[schema.Segment], decoded_in: str, options: AsrOptions,
                       hook: ProgressHook) -> tuple[list[schema.Segment], str, dict[str, Any]]:
    """Each segment's language from its own audio (stages/asr/languages.py); the main language
    (most speech time; ASR_LANGUAGE when set); and how it was found, for the producer."""
    found = languages.detect(model, wav, segments, options.batch_size,
                             lambda done, total: hook("identifying languages", done, total))
    segments = languages.with_languages(segments, found)
    seconds = languages.speech_by_language(segments, decoded_in)
    main = decoded_in if options.language != "auto" else languages.main_language(segments, decoded_in)
    if len(seconds) > 1:
        log.info("speech by language: %s; main language %s",
                 ", ".join(f"{lang} {s:.1f} s" for lang, s in seconds.items()), main)
    record = {"method": "Whisper language ID per segment", "min_probability": languages.MIN_PROBABILITY,
              "decoded_in": decoded_in, "main": main, "speech_s": {k: round(v, 3) for k, v in seconds.items()}}
    return segments, main, record


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: AsrOptions, hook: ProgressHook = no_progress) -> StageReport:
    check_options(options)
    speech = schema.load(inputs["speech_regions"], schema.SpeechRegions)
    notes: list[str] = []
    pipeline, resolved, device, compute_type, choice = load_model(options, inputs["audio"], list(speech.regions), hook)
    asked = options  # the producer records ASR_MODEL as given (auto), its model identity the one chosen
    if choice is not None:  # decode with the chosen model as if it had been asked for
        notes.append(choice.line())
        options = dataclasses.replace(options, model=resolved.name)
    decode_options, prompt_record, prompt_notes = with_names(options, inputs.get("prompt"), resolved.path)
    notes += prompt_notes
    per_segment: dict[str, Any] = {}
    if speech.regions:
        segments, language, probability, retried_s = transcribe(
            inputs["audio"], list(speech.regions), decode_options, pipeline, pipeline.model.model.is_multilingual, hook)
        if choice is not None and choice.windows and not pipeline.model.model.is_multilingual:
            probability = choice.probability  # English by the identification, not by the model's constraint
        if segments and options.segment_language == "auto" and pipeline.model.model.is_multilingual:
            decoded_in = language
            segments, language, per_segment = identify_languages(pipeline.model, inputs["audio"], segments, language,
                                                                 options, hook)
            if language != decoded_in:  # the first window's language is not the film's: its share of the speech
                probability = per_segment["speech_s"][language] / max(1e-9, sum(per_segment["speech_s"].values()))
    else:
        # the same refusals with or without speech; "und" when nothing was heard to detect a language from
        language = _language_for(options, pipeline.model.model.is_multilingual) or "und"
        segments, probability, retried_s = [], 0.0, 0.0
        notes.append("no speech found: the transcript is empty")
    removed: list[schema.Removed] = []
    if options.remove_hallucinations:
        segments, removed = hallucinations.remove(segments, speech.regions, language)
        notes += _removal_notes(removed)
    extra: dict[str, Any] = {}
    if per_segment:
        extra["segment_languages"] = per_segment
    if choice is not None:
        extra["model_choice"] = choice.record()
    producer = schema.stamp("asr", asked, resolved.identity(), engine="faster-whisper BatchedInferencePipeline",
                            device=device, compute_type=compute_type,
                            prompt_passed=bool(decode_options.initial_prompt),
                            hotwords_passed=bool(decode_options.hotwords), prompt=prompt_record,
                            hallucination_rules=dataclasses.asdict(hallucinations.Rules()) if options.remove_hallucinations else None,
                            **extra)
    transcript = schema.Transcript(language, probability, speech.audio_duration_s, tuple(segments), producer, tuple(removed))
    schema.write(outputs["transcript"], transcript)
    word_count = len(transcript.words)
    if segments and word_count == 0:
        notes.append("the model returned segments without words")
    return StageReport(
        model={**resolved.identity(), "device": device, "compute_type": compute_type},
        metrics={"segments": len(segments), "words": word_count, "language": language,
                 **({"model_chosen": resolved.name, "language_identified": choice.language,
                     "language_identified_probability": round(choice.probability, 4),
                     "language_identification_s": round(choice.seconds, 3)} if choice is not None else {}),
                 **({"speech_s_by_language": per_segment["speech_s"]} if per_segment else {}),
                 "speech_s": round(speech.speech_duration_s, 3), "decoded_twice_s": round(retried_s, 3),
                 "removed": len(removed), "removed_words": sum(len(r.text.split()) for r in removed)},
        notes=notes,
    )
