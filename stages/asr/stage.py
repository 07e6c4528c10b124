"""Transcribe the speech regions with faster-whisper's batched pipeline.

The initial prompt and hotwords reach the model: they are passed to
``BatchedInferencePipeline.transcribe`` (which rejects unknown arguments
loudly rather than dropping them) and recorded in the transcript's producer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import schema
from shared.errors import InputError, ModelNotFound, StageFailed
from shared.log import get_logger
from shared.models import resolve_whisper
from shared.options import AsrOptions, to_dict
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.asr.chunks import Timeline, group_regions

log = get_logger("stages.asr")

SAMPLE_RATE_HZ = 16000


def resolve_device(options: AsrOptions) -> tuple[str, str]:
    """(device, compute_type): CUDA float16 when CTranslate2 sees a GPU, else CPU int8."""
    import ctranslate2

    device = options.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    elif device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
        raise InputError("ASR_DEVICE=cuda but CTranslate2 sees no CUDA device", "use ASR_DEVICE=auto or cpu")
    compute_type = options.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def model_identity(options: AsrOptions) -> dict[str, Any]:
    device, compute_type = resolve_device(options)
    return {**resolve_whisper(options.model).identity(), "device": device, "compute_type": compute_type}


def load_model(options: AsrOptions):
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    resolved = resolve_whisper(options.model)
    device, compute_type = resolve_device(options)
    log.info("loading %s (%s, %s) on %s/%s", resolved.name, resolved.source, resolved.path, device, compute_type)
    try:
        model = WhisperModel(resolved.path, device=device, compute_type=compute_type,
                             cpu_threads=options.cpu_threads, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as err:
        raise ModelNotFound(f"cannot load ASR model {resolved.name} from {resolved.path}: {err}") from None
    return BatchedInferencePipeline(model=model), resolved, device, compute_type


CHUNKS_PER_WINDOW = 40  # at most 20 min of speech in memory at once, whatever the film's length


def read_regions(path: Path, regions: list[schema.Region]):
    """The samples of ``regions``, concatenated, read straight from the WAV (never the whole file)."""
    import numpy as np
    import soundfile

    with soundfile.SoundFile(path) as wav:
        if wav.samplerate != SAMPLE_RATE_HZ or wav.channels != 1:
            raise StageFailed(f"{path} is not 16 kHz mono (got {wav.samplerate} Hz, {wav.channels} channels)",
                              "rerun demux")
        spans = [(int(round(r.start_s * SAMPLE_RATE_HZ)), min(int(round(r.end_s * SAMPLE_RATE_HZ)), wav.frames))
                 for r in regions]
        audio = np.zeros(sum(max(0, b - a) for a, b in spans), dtype=np.float32)
        cursor = 0
        for start, end in spans:
            if end > start:
                wav.seek(start)
                got = wav.read(end - start, dtype="float32", out=audio[cursor:cursor + end - start])
                cursor += len(got)
    return audio


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


def transcribe(
    wav: Path, regions: list[schema.Region], options: AsrOptions, pipeline, is_multilingual: bool,
    hook: ProgressHook = no_progress,
) -> tuple[list[schema.Segment], str, float]:
    """Transcribe the speech regions window by window; returns segments (original times), language, probability."""
    language = _language_for(options, is_multilingual)
    chunks = group_regions(regions, options.max_chunk_duration_s)
    total_speech_s = sum(c.speech_s for c in chunks)
    done_s, probability = 0.0, 1.0
    segments: list[schema.Segment] = []
    for first in range(0, len(chunks), CHUNKS_PER_WINDOW):
        window = chunks[first:first + CHUNKS_PER_WINDOW]
        window_regions = [r for c in window for r in c.regions]
        timeline = Timeline(window_regions)
        audio = read_regions(wav, window_regions)
        clips, cursor = [], 0.0
        for chunk in window:
            clips.append({"start": cursor, "end": cursor + chunk.speech_s})
            cursor += chunk.speech_s
        segments_iter, info = pipeline.transcribe(
            audio,
            language=language,
            task=options.task,
            beam_size=options.beam_size,
            batch_size=options.batch_size,
            word_timestamps=True,
            vad_filter=False,
            clip_timestamps=clips,
            initial_prompt=options.initial_prompt or None,
            hotwords=options.hotwords or None,
        )
        for seg in segments_iter:
            words = tuple(
                schema.Word(timeline.to_original(w.start), timeline.to_original(w.end, is_end=True), w.word,
                            float(w.probability))
                for w in (seg.words or ())
            )
            segments.append(schema.Segment(timeline.to_original(seg.start), timeline.to_original(seg.end, is_end=True),
                                           seg.text, words, float(seg.avg_logprob), float(seg.no_speech_prob)))
            hook("transcribing", done_s + min(seg.end, timeline.duration_s), total_speech_s)
        if language is None:  # detected on the first window; the same for the rest of the film
            language, probability = info.language, float(info.language_probability)
            log.info("language detected: %s (probability %.2f)", language, probability)
        done_s += timeline.duration_s
        hook("transcribing", done_s, total_speech_s)
        del audio
    return segments, language or "und", probability


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: AsrOptions, hook: ProgressHook = no_progress) -> StageReport:
    speech = schema.load(inputs["speech_regions"], schema.SpeechRegions)
    notes: list[str] = []
    pipeline, resolved, device, compute_type = load_model(options)
    if speech.regions:
        segments, language, probability = transcribe(inputs["audio"], list(speech.regions), options, pipeline,
                                                     pipeline.model.model.is_multilingual, hook)
    else:
        # the same refusals with or without speech; "und" when nothing was heard to detect a language from
        language = _language_for(options, pipeline.model.model.is_multilingual) or "und"
        segments, probability = [], 0.0
        notes.append("no speech found: the transcript is empty")
    producer = {"stage": "asr", "engine": "faster-whisper BatchedInferencePipeline", "model": resolved.identity(),
                "device": device, "compute_type": compute_type, "options": to_dict(options),
                "prompt_passed": bool(options.initial_prompt), "hotwords_passed": bool(options.hotwords)}
    transcript = schema.Transcript(language, probability, speech.audio_duration_s, tuple(segments), producer)
    schema.write(outputs["transcript"], transcript)
    word_count = len(transcript.words)
    if segments and word_count == 0:
        notes.append("the model returned segments without words")
    return StageReport(
        model={**resolved.identity(), "device": device, "compute_type": compute_type},
        metrics={"segments": len(segments), "words": word_count, "language": language,
                 "speech_s": round(speech.speech_duration_s, 3)},
        notes=notes,
    )
