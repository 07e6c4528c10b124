"""Language codes: Whisper and file names use ISO 639-1 (``en``); containers
tag streams with ISO 639-2 (``eng``, or ``deu`` beside ``ger``). These tables
convert between them and name the language for track titles."""

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
# ISO 639-2/B -> 639-2/T where they differ. QuickTime MOV stores languages by
# the Macintosh table, which ffmpeg spells in one form or the other ("ger",
# but "fra"): a tag MOV drops is retried in the other form.
TERMINOLOGIC = {
    "alb": "sqi", "arm": "hye", "baq": "eus", "bur": "mya", "chi": "zho", "cze": "ces", "dut": "nld", "fre": "fra",
    "geo": "kat", "ger": "deu", "gre": "ell", "ice": "isl", "mac": "mkd", "mao": "mri", "may": "msa", "per": "fas",
    "rum": "ron", "slo": "slk", "tib": "bod", "wel": "cym",
}
_ISO2B_TO_ISO1 = {v: k for k, v in _ISO1_TO_ISO2.items()}
# the 639-2/T forms that containers also carry ("deu") map to 639-1 as their /B twins do
_ISO2_TO_ISO1 = _ISO2B_TO_ISO1 | {t: _ISO2B_TO_ISO1[b] for b, t in TERMINOLOGIC.items() if b in _ISO2B_TO_ISO1}

# English names, for subtitle track titles ("English").
LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French", "gu": "Gujarati", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
    "ml": "Malayalam", "mr": "Marathi", "ms": "Malay", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}


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


def language_name(code: str) -> str:
    """``en``/``eng`` -> ``English``; an unknown code is returned as given, empty -> ``Subtitles``."""
    code = (code or "").strip()
    if not code or code.lower() == "und":
        return "Subtitles"
    return LANGUAGE_NAMES.get(to_iso639_1(code), code)
