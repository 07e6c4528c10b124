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
from stages.asr.chunks import merge_regions

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


def read_audio(path: Path):
    import numpy as np
    import soundfile

    audio, rate = soundfile.read(path, dtype="float32", always_2d=False)
    if rate != SAMPLE_RATE_HZ or audio.ndim != 1:
        raise StageFailed(f"{path} is not 16 kHz mono (got {rate} Hz, {audio.ndim} dims): rerun demux")
    return np.ascontiguousarray(audio)


def transcribe(
    audio, regions: list[schema.Region], options: AsrOptions, pipeline, is_multilingual: bool, hook: ProgressHook = no_progress
) -> tuple[list[schema.Segment], str, float]:
    """Run the batched pipeline on the chunks; returns segments, language, its probability."""
    chunks = merge_regions(regions, options.max_chunk_duration_s)
    language = None if options.language == "auto" else options.language
    if not is_multilingual:
        if language not in (None, "en"):
            raise InputError(f"model {options.model} is English-only but ASR_LANGUAGE={options.language}",
                             "use a multilingual model (ASR_MODEL=base)")
        language = "en"
    if options.task == "translate" and not is_multilingual:
        raise InputError(f"ASR_TASK=translate needs a multilingual model, not {options.model}", "use ASR_MODEL=base")
    segments_iter, info = pipeline.transcribe(
        audio,
        language=language,
        task=options.task,
        beam_size=options.beam_size,
        batch_size=options.batch_size,
        word_timestamps=True,
        vad_filter=False,
        clip_timestamps=[{"start": c.start_s, "end": c.end_s} for c in chunks],
        initial_prompt=options.initial_prompt or None,
        hotwords=options.hotwords or None,
    )
    total_s = chunks[-1].end_s if chunks else 0.0
    segments = []
    for seg in segments_iter:
        words = tuple(
            schema.Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (seg.words or ())
        )
        segments.append(schema.Segment(float(seg.start), float(seg.end), seg.text, words,
                                       float(seg.avg_logprob), float(seg.no_speech_prob)))
        hook("transcribing", seg.end, total_s)
    hook("transcribing", total_s, total_s)
    return segments, info.language, float(info.language_probability)


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: AsrOptions, hook: ProgressHook = no_progress) -> StageReport:
    speech = schema.load(inputs["speech_regions"], schema.SpeechRegions)
    notes: list[str] = []
    pipeline, resolved, device, compute_type = load_model(options)
    if speech.regions:
        audio = read_audio(inputs["audio"])
        segments, language, probability = transcribe(audio, list(speech.regions), options, pipeline,
                                                     pipeline.model.model.is_multilingual, hook)
        del audio
    else:
        segments, probability = [], 0.0
        language = "en" if not pipeline.model.model.is_multilingual else (None if options.language == "auto" else options.language) or "und"
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
