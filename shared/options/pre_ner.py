"""Options of the pre-ner stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class PreNerOptions:
    """Names for the ASR: spaCy NER over the job's metadata and glossary, ranked
    into an initial prompt and hotwords that together fit Whisper's 223-token
    prompt window, counted with the Whisper model's own tokenizer."""

    spacy_model: str = setting("auto", "PRE_NER_SPACY_MODEL", "auto (the metadata language, else en: embedded en_core_web_sm), a language code, a spaCy pipeline name in the model cache, or a folder")
    tokenizer_model: str = setting("auto", "PRE_NER_TOKENIZER_MODEL", "Whisper model whose tokenizer counts the prompt budget; auto = the asr stage's model (ASR_MODEL, the job config or --asr-model); with ASR_MODEL=auto the multilingual base's tokenizer")
    max_prompt_tokens: int = setting(223, "PRE_NER_MAX_PROMPT_TOKENS", "prompt plus hotwords, in Whisper tokens (Whisper reads at most 223)")
    max_hotword_tokens: int = setting(48, "PRE_NER_MAX_HOTWORD_TOKENS", "the part of that budget for hotwords (glossary spellings and terms)")
