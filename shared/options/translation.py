"""Options of the translation stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


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
