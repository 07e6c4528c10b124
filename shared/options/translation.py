"""Options of the translation stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.options import setting


@dataclass(frozen=True)
class TranslationOptions:
    """Segment-by-segment translation into ``target_languages`` (docs/TRANSLATION.md).
    ``model=auto`` translates into English with Whisper speech translation
    (the multilingual ``whisper_model``, from each segment's audio with its
    language forced) and into any other language with the first
    transformers MT model found in the cache. Names and glossary terms are
    kept verbatim and forced into the output when a model drops them.

    ``forced=auto`` also translates the passages spoken in another language
    than the film's main one into the main language, for the forced track
    (docs/TRACKS.md); it needs each segment's language, which the asr stage
    records only with a multilingual model, so with an English-only
    ``asr_model`` (``tiny.en``, the default) it has nothing to do."""

    # the fields that decide whether the stage has anything to do (graph: enabled_by, switched_off)
    ENABLING_FIELDS: ClassVar[tuple[str, ...]] = ("target_languages", "forced", "asr_model")
    ENABLING_HINT: ClassVar[str] = "TARGET_LANGUAGES (or, for the forced track, a multilingual ASR_MODEL with SUBTITLE_FORCED=auto)"

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
    forced: str = setting("auto", "SUBTITLE_FORCED", "auto: passages in another language than the film's main one get a forced track, translated into the main language (needs a multilingual ASR_MODEL); off", ("auto", "off"))
    asr_model: str = setting("auto", "TRANSLATION_ASR_MODEL", "the Whisper model the transcript came from; auto = the asr stage's (ASR_MODEL): an English-only one (*.en, distil-*) has no foreign passages to find; ASR_MODEL=auto may pick a multilingual one (asr:auto)")

    @property
    def forced_possible(self) -> bool:
        """Whether a forced track can be made: on, and the transcript can tell languages apart."""
        name = self.asr_model.rstrip("/").rsplit("/", 1)[-1].lower()
        if name == "auto":  # not followed to the asr stage's model: that model's default, tiny.en
            return False
        # ASR_MODEL=auto as followed (graph.OptionLink.carried; shared/models.py WHISPER_AUTO_FOLLOWED, not
        # imported: every stage reads these options, and a resolver change must not make them all stale)
        if name == "asr:auto":  # a multilingual model may be chosen
            return self.forced == "auto"
        return self.forced == "auto" and not name.endswith(".en") and not name.startswith("distil-")

    @property
    def enabled(self) -> bool:
        """The stage has work: target languages, or a forced track to make."""
        return bool(self.target_languages) or self.forced_possible
