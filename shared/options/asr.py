"""Options of the asr stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class AsrOptions:
    """Speech recognition with faster-whisper on CTranslate2, batched over the
    speech regions. ``device=auto`` uses CUDA when CTranslate2 sees a GPU,
    else CPU; ``compute_type=auto`` is float16 on CUDA and int8 on CPU."""

    model: str = setting("auto", "ASR_MODEL", "auto: the embedded multilingual base identifies the spoken language over 8 stretches of speech, then English (at least 0.8 of it) goes to the best English model cached (else the embedded tiny.en), anything else to the best multilingual one (else base); docs/FILM.md. Or a name: tiny.en (embedded), base (embedded multilingual), any faster-whisper name or CT2 folder")
    language: str = setting("auto", "ASR_LANGUAGE", "language code, or auto to detect it")
    task: str = setting("transcribe", "ASR_TASK", "transcribe, or translate (speech to English, multilingual models)", ("transcribe", "translate"))
    device: str = setting("auto", "ASR_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
    compute_type: str = setting("auto", "ASR_COMPUTE_TYPE", "auto (float16 on CUDA, int8 on CPU) or a CTranslate2 compute type")
    batch_size: int = setting(8, "ASR_BATCH_SIZE", "speech chunks decoded together")
    beam_size: int = setting(5, "ASR_BEAM_SIZE", "beam search width")
    repetition_penalty: float = setting(1.0, "ASR_REPETITION_PENALTY", "above 1.0, tokens already written score lower: less looping, but the prompt's names pull less too (docs/NAMES.md); 1.0 = off")
    no_repeat_ngram_size: int = setting(0, "ASR_NO_REPEAT_NGRAM_SIZE", "never repeat a run of this many tokens (0 = off)")
    cpu_threads: int = setting(0, "ASR_CPU_THREADS", "CPU threads for CTranslate2 (0 = all cores)")
    initial_prompt: str = setting("", "ASR_INITIAL_PROMPT", "text given to Whisper as preceding context (names, spelling)")
    hotwords: str = setting("", "ASR_HOTWORDS", "words Whisper should prefer, separated by spaces")
    remove_hallucinations: bool = setting(True, "ASR_REMOVE_HALLUCINATIONS", "take out text Whisper invents (no-speech segments, loops, repeats, phantom phrases, words outside speech), each removal recorded in transcript.json's removed (docs/FILM.md)")
    max_chunk_duration_s: float = setting(30.0, "ASR_MAX_CHUNK_DURATION_S", "speech regions are merged into chunks up to this long")
    segment_language: str = setting("auto", "ASR_SEGMENT_LANGUAGE", "auto: with a multilingual model, identify each segment's language from its audio (one more encoder pass per segment; the forced track needs it); off", ("auto", "off"))
