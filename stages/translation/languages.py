"""Language codes as each family of MT model spells them.

Whisper and the job use ISO 639-1 (``de``). NLLB-200 uses FLORES-200 codes
(``deu_Latn``), mBART-50 ``de_DE``, M2M100 ``de`` (its tokens are ``__de__``),
multi-target opus-mt models a ``>>deu<<`` token in front of the source text.
The code is always checked against the model's own vocabulary, so a
language the model does not know is refused before any work is done.
"""

from __future__ import annotations

import re

# ISO 639-1 (and Whisper's codes) -> FLORES-200, for the languages Whisper detects that NLLB-200 has.
FLORES = {
    "af": "afr_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "as": "asm_Beng", "az": "azj_Latn", "ba": "bak_Cyrl",
    "be": "bel_Cyrl", "bg": "bul_Cyrl", "bn": "ben_Beng", "bo": "bod_Tibt", "bs": "bos_Latn", "ca": "cat_Latn",
    "cs": "ces_Latn", "cy": "cym_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn",
    "eo": "epo_Latn", "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab", "fi": "fin_Latn",
    "fo": "fao_Latn", "fr": "fra_Latn", "ga": "gle_Latn", "gl": "glg_Latn", "gu": "guj_Gujr", "ha": "hau_Latn",
    "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn", "ht": "hat_Latn", "hu": "hun_Latn", "hy": "hye_Armn",
    "id": "ind_Latn", "is": "isl_Latn", "it": "ita_Latn", "ja": "jpn_Jpan", "jw": "jav_Latn", "jv": "jav_Latn",
    "ka": "kat_Geor", "kk": "kaz_Cyrl", "km": "khm_Khmr", "kn": "kan_Knda", "ko": "kor_Hang", "lb": "ltz_Latn",
    "ln": "lin_Latn", "lo": "lao_Laoo", "lt": "lit_Latn", "lv": "lvs_Latn", "mg": "plt_Latn", "mi": "mri_Latn",
    "mk": "mkd_Cyrl", "ml": "mal_Mlym", "mn": "khk_Cyrl", "mr": "mar_Deva", "ms": "zsm_Latn", "mt": "mlt_Latn",
    "my": "mya_Mymr", "ne": "npi_Deva", "nl": "nld_Latn", "nn": "nno_Latn", "no": "nob_Latn", "oc": "oci_Latn",
    "pa": "pan_Guru", "pl": "pol_Latn", "ps": "pbt_Arab", "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl",
    "sa": "san_Deva", "sd": "snd_Arab", "si": "sin_Sinh", "sk": "slk_Latn", "sl": "slv_Latn", "sn": "sna_Latn",
    "so": "som_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "su": "sun_Latn", "sv": "swe_Latn", "sw": "swh_Latn",
    "ta": "tam_Taml", "te": "tel_Telu", "tg": "tgk_Cyrl", "th": "tha_Thai", "tk": "tuk_Latn", "tl": "tgl_Latn",
    "tr": "tur_Latn", "tt": "tat_Cyrl", "uk": "ukr_Cyrl", "ur": "urd_Arab", "uz": "uzn_Latn", "vi": "vie_Latn",
    "yi": "ydd_Hebr", "yo": "yor_Latn", "zh": "zho_Hans", "yue": "yue_Hant",
}

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def iso3(code: str) -> str:
    """``de`` -> ``deu`` (the FLORES table's ISO 639-3 part), else the code as given."""
    flores = FLORES.get(code)
    return flores.split("_")[0] if flores else code


def nllb_code(code: str, vocab: dict[str, int]) -> str | None:
    """The FLORES-200 token for ``code`` in an NLLB vocabulary, or None."""
    wanted = FLORES.get(code)
    if wanted and wanted in vocab:
        return wanted
    pattern = re.compile(rf"^{re.escape(iso3(code))}_[A-Z][a-z]{{3}}$")
    found = sorted(t for t in vocab if pattern.match(t))
    return found[0] if found else None


def mbart_code(code: str, vocab: dict[str, int]) -> str | None:
    """The mBART-50 token (``de_DE``, ``en_XX``) for ``code``, or None."""
    pattern = re.compile(rf"^{re.escape(code)}_[A-Z]{{2}}$")
    found = sorted(t for t in vocab if pattern.match(t))
    return found[0] if found else None


def marian_target_token(code: str, vocab: dict[str, int]) -> str | None:
    """The ``>>xxx<<`` token a multi-target opus-mt model wants before the source, or None."""
    for candidate in (f">>{code}<<", f">>{iso3(code)}<<", f">>{FLORES.get(code, '')}<<"):
        if candidate in vocab:
            return candidate
    return None


def has_target_tokens(vocab: dict[str, int]) -> bool:
    return any(t.startswith(">>") and t.endswith("<<") for t in vocab)
