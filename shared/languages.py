"""Language codes: Whisper and file names use ISO 639-1 (``en``); containers
tag streams with ISO 639-2 (``eng``). One table converts between them."""

from __future__ import annotations

# ISO 639-1 -> ISO 639-2/B as used in Matroska and MP4 language tags.
_ISO1_TO_ISO2 = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "ca": "cat", "cs": "cze", "cy": "wel", "da": "dan",
    "de": "ger", "el": "gre", "en": "eng", "es": "spa", "et": "est", "fa": "per", "fi": "fin", "fr": "fre",
    "gu": "guj", "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "is": "ice", "it": "ita",
    "ja": "jpn", "kn": "kan", "ko": "kor", "lt": "lit", "lv": "lav", "mk": "mac", "ml": "mal", "mr": "mar",
    "ms": "may", "nl": "dut", "no": "nor", "pa": "pan", "pl": "pol", "pt": "por", "ro": "rum", "ru": "rus",
    "sk": "slo", "sl": "slv", "sr": "srp", "sv": "swe", "sw": "swa", "ta": "tam", "te": "tel", "th": "tha",
    "tl": "tgl", "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "chi",
}
# ISO 639-2/T variants that containers also carry.
_ISO2T = {"deu": "de", "fra": "fr", "zho": "zh", "nld": "nl", "ces": "cs", "ell": "el", "fas": "fa", "isl": "is",
          "mkd": "mk", "msa": "ms", "ron": "ro", "slk": "sk", "cym": "cy"}
_ISO2_TO_ISO1 = {v: k for k, v in _ISO1_TO_ISO2.items()} | _ISO2T


def to_iso639_2(code: str) -> str:
    """``en`` -> ``eng``; unknown or empty -> ``und`` (undetermined)."""
    code = (code or "").strip().lower()
    if len(code) == 3:
        return code
    return _ISO1_TO_ISO2.get(code, "und")


def to_iso639_1(code: str) -> str:
    """``eng``/``en`` -> ``en``; unknown -> the code as given, empty -> ``und``."""
    code = (code or "").strip().lower()
    if len(code) == 2:
        return code
    return _ISO2_TO_ISO1.get(code, code or "und")


def same_language(a: str, b: str) -> bool:
    return bool(a) and bool(b) and to_iso639_1(a) == to_iso639_1(b)
