"""Text Whisper invents: found, taken out, and recorded with the reason.

Whisper writes fluent text over music, noise and silence ("Thank you for
watching.", a line repeated forever, credits it saw in training). Each rule
below is one function; :func:`remove` applies them in order and returns the
segments kept and a :class:`shared.schema.Removed` record for everything
taken out, so nothing disappears silently.

1. ``no_speech``: the decoder itself thought there was no speech
   (``no_speech_prob`` above ``no_speech_prob_min``) and wrote with little
   confidence (``avg_logprob`` below ``avg_logprob_max``): Whisper's own
   silence test, which the batched pipeline does not apply.
2. ``compression_ratio``: text that compresses too well (zlib, above
   ``compression_ratio_max``: Whisper's own looping test) *and* whose words
   do not read as speech: at least ``loop_anomalous_share_min`` of them
   anomalous (probability below 0.15, shorter than 0.133 s or longer than
   2 s: the word anomalies openai-whisper's hallucination check scores).
   Speech that really repeats (a looped announcement, a refrain) compresses
   as well as a loop, but its words are confident and of a spoken length.
3. ``phantom_phrase``: a segment that is only a known phantom phrase of
   its language (credits, "thanks for watching", see ``PHANTOMS``), or a
   generic one ("Thank you.", "Bye.") where the decoder doubted there was
   speech (``no_speech_prob`` above ``phantom_no_speech_prob_min``).
4. ``outside_speech``: a word that touches no speech region asr was given
   (widened by ``outside_tolerance_s``). A word kept that spans a pause of
   ``pause_s`` or more between regions is moved to the side of its
   neighbour: Whisper stretches a segment's first word back over the
   non-speech before it (a cue would start seconds early) and a line's last
   word over the pause after it. That is a correction, not a removal.
5. ``repetition``: a run of the same 1-6 words said over and over (at least
   ``min_repeats`` times in a row; ``min_repeats + 1`` for one word alone,
   since people do say "no, no, no"): the first time is kept.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from shared.schema import Region, Removed, Segment, Word

__all__ = ["PHANTOMS", "GENERIC_PHANTOMS", "Rules", "remove", "compression_ratio", "normalized"]

# Phrases Whisper writes where nobody speaks: credits and sign-offs from its training subtitles.
# Matched on whole segments, normalized (lower case, no punctuation); "*" ends a prefix.
PHANTOMS: dict[str, tuple[str, ...]] = {
    "en": ("thank you for watching", "thanks for watching", "thank you so much for watching", "thank you for listening",
           "thanks for listening", "please subscribe", "please like and subscribe", "like and subscribe",
           "dont forget to like and subscribe", "subscribe to my channel", "see you in the next video",
           "see you next time", "subtitles by *", "subtitled by *", "captions by *", "transcribed by *",
           "transcription by *", "translated by *", "english subtitles *", "amaraorg *", "www*",
           "copyright *"),
    "de": ("vielen dank fürs zuschauen", "danke fürs zuschauen", "vielen dank für ihre aufmerksamkeit",
           "untertitel im auftrag des zdf *", "untertitel der amaraorg community", "untertitelung *",
           "untertitel von *", "bis zum nächsten mal", "abonniert den kanal"),
    "fr": ("merci davoir regardé", "merci de votre attention", "soustitrage *", "soustitres réalisés par *",
           "soustitres par *", "abonnezvous", "à bientôt"),
    "es": ("gracias por ver", "gracias por ver el video", "gracias por su atención", "subtítulos realizados por *",
           "subtítulos por *", "suscríbete", "no olvides suscribirte"),
    "it": ("grazie per la visione", "sottotitoli creati dalla comunità amaraorg", "sottotitoli a cura di *",
           "iscriviti al canale"),
}
# Short phrases people do say: phantoms only where the decoder doubted there was speech.
GENERIC_PHANTOMS: dict[str, tuple[str, ...]] = {
    "en": ("thank you", "thanks", "thank you very much", "bye", "bye bye", "you", "oh", "okay", "so", "hmm", "music",
           "applause", "laughter"),
    "de": ("danke", "vielen dank", "tschüss"),
    "fr": ("merci", "merci beaucoup", "au revoir"),
    "es": ("gracias", "muchas gracias", "adiós"),
    "it": ("grazie", "grazie mille", "ciao"),
}


@dataclass(frozen=True)
class Rules:
    """Thresholds of the rules. ``no_speech_prob_min`` 0.6 and ``avg_logprob_max`` -1.0 and
    ``compression_ratio_max`` 2.4 are Whisper's own (its ``no_speech_threshold``,
    ``logprob_threshold``, ``compression_ratio_threshold``); ``outside_tolerance_s`` covers
    Whisper's word edges drifting past a region's end (20 ms steps, a word's tail)."""

    no_speech_prob_min: float = 0.6
    avg_logprob_max: float = -1.0
    compression_ratio_max: float = 2.4
    loop_anomalous_share_min: float = 0.25
    phantom_no_speech_prob_min: float = 0.3
    outside_tolerance_s: float = 0.3
    pause_s: float = 0.5
    min_repeats: int = 3
    max_repeat_words: int = 6


def normalized(text: str) -> str:
    """Lower case, letters, digits and single spaces only (accents kept)."""
    text = unicodedata.normalize("NFC", text.casefold())
    text = re.sub(r"[^\w\s]", "", text)
    return " ".join(text.replace("_", " ").split())


def compression_ratio(text: str) -> float:
    """UTF-8 bytes over zlib-compressed bytes, as Whisper computes it."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def anomalous_share(words: Sequence[Word]) -> float:
    """The share of words that do not read as speech: improbable, or too short or too long to be
    spoken (openai-whisper's word anomalies). No word times: 1.0, nothing speaks for the text."""
    if not words:
        return 1.0
    odd = sum(1 for w in words if w.probability < 0.15 or not 0.133 <= w.end_s - w.start_s <= 2.0)
    return odd / len(words)


def _matches(text: str, phrases: Sequence[str]) -> bool:
    for phrase in phrases:
        if phrase.endswith("*"):
            stem = phrase[:-1].strip()
            if text == stem or text.startswith(stem + " ") or (not phrase.endswith(" *") and text.startswith(stem)):
                return True
        elif text == phrase:
            return True
    return False


def _record(segment_or_words: Segment | Sequence[Word], reason: str, detail: str) -> Removed:
    if isinstance(segment_or_words, Segment):
        s = segment_or_words
        return Removed(s.text.strip(), s.start_s, s.end_s, reason, detail)
    words = list(segment_or_words)
    return Removed("".join(w.text for w in words).strip(), words[0].start_s, words[-1].end_s, reason, detail)


def _segment_reason(segment: Segment, language: str, rules: Rules) -> tuple[str, str] | None:
    """The reason a whole segment is invented, with its figures, or None."""
    if segment.no_speech_prob > rules.no_speech_prob_min and segment.avg_logprob < rules.avg_logprob_max:
        return "no_speech", f"no_speech_prob {segment.no_speech_prob:.2f}, avg_logprob {segment.avg_logprob:.2f}"
    ratio = compression_ratio(segment.text.strip())
    if ratio > rules.compression_ratio_max:
        share = anomalous_share(segment.words)
        if share >= rules.loop_anomalous_share_min:
            return "compression_ratio", f"compression ratio {ratio:.2f}, {share:.0%} of its words anomalous"
    text = normalized(segment.text)
    base = language.split("-")[0].lower()
    if text and _matches(text, PHANTOMS.get(base, ()) + (PHANTOMS["en"] if base != "en" else ())):
        return "phantom_phrase", f"known phantom phrase ({base})"
    if text and segment.no_speech_prob > rules.phantom_no_speech_prob_min and _matches(text, GENERIC_PHANTOMS.get(base, ())):
        return "phantom_phrase", f"generic phrase where speech is doubtful (no_speech_prob {segment.no_speech_prob:.2f})"
    return None


def _touched(start_s: float, end_s: float, regions: Sequence[Region], starts: Sequence[float], tol: float) -> list[Region]:
    """The regions (widened by ``tol``) that [start_s, end_s] touches, in time order."""
    import bisect

    k = bisect.bisect_right(starts, end_s + tol) - 1
    touched = []
    while k >= 0 and regions[k].end_s + tol >= start_s:
        touched.append(regions[k])
        k -= 1
    return touched[::-1]


def _placed(words: Sequence[Word], i: int, regions: Sequence[Region], starts: Sequence[float], rules: Rules) -> Word | None:
    """``words[i]`` as it stays: None when it touches no speech region (widened by the tolerance).
    A word that spans a pause of ``pause_s`` or more between two regions is Whisper stretching it
    over non-speech: it goes to the side its neighbour is on (the next word in the later region
    and no previous word in the earlier one: it starts at the later region; the other way round:
    it ends with the earlier region); with neighbours on both sides or none it stays as it is."""
    tol = rules.outside_tolerance_s
    word = words[i]
    touched = _touched(word.start_s, word.end_s, regions, starts, tol)
    if not touched:
        return None
    early, late = touched[0], touched[-1]
    if len(touched) < 2 or late.start_s - early.end_s < rules.pause_s:
        return word
    before = i > 0 and bool(_touched(words[i - 1].start_s, words[i - 1].end_s, [early], [early.start_s], tol))
    after = i + 1 < len(words) and bool(_touched(words[i + 1].start_s, words[i + 1].end_s, [late], [late.start_s], tol))
    if after and not before and late.start_s < word.end_s:
        return Word(late.start_s, word.end_s, word.text, word.probability)
    if before and not after and early.end_s > word.start_s:
        return Word(word.start_s, early.end_s, word.text, word.probability)
    return word


def _repeats(tokens: list[str], rules: Rules) -> list[bool]:
    """Which tokens repeat a run of 1..max_repeat_words tokens said at least min_repeats times in a row."""
    drop = [False] * len(tokens)
    i = 0
    while i < len(tokens):
        best = None
        for size in range(1, rules.max_repeat_words + 1):
            unit = tokens[i:i + size]
            if len(unit) < size or not all(unit):
                break
            count = 1
            while tokens[i + count * size:i + (count + 1) * size] == unit:
                count += 1
            needed = rules.min_repeats + (1 if size == 1 else 0)
            if count >= needed and (best is None or count * size > best[0] * best[1]):
                best = (count, size)
        if best is None:
            i += 1
            continue
        count, size = best
        for k in range(i + size, i + count * size):
            drop[k] = True
        i += count * size
    return drop


def _rebuild(segment: Segment, words: Sequence[Word]) -> Segment:
    return Segment(words[0].start_s, max(w.end_s for w in words), "".join(w.text for w in words), tuple(words),
                   segment.avg_logprob, segment.no_speech_prob)


def remove(segments: Sequence[Segment], regions: Sequence[Region], language: str,
           rules: Rules = Rules()) -> tuple[list[Segment], list[Removed]]:
    """The segments with invented text taken out, and a record of each removal (in time order)."""
    removed: list[Removed] = []
    kept: list[Segment] = []
    for segment in segments:
        why = _segment_reason(segment, language, rules)
        if why:
            removed.append(_record(segment, *why))
        else:
            kept.append(segment)

    ordered = sorted(regions, key=lambda r: r.start_s)
    starts = [r.start_s for r in ordered]
    inside: list[Segment] = []
    for segment in kept:
        if not segment.words:
            inside.append(segment)
            continue
        words, out = [], []
        for i, w in enumerate(segment.words):
            placed = _placed(segment.words, i, ordered, starts, rules)
            if placed is None:
                out.append(w)
            else:
                words.append(placed)
        if out:
            removed.append(_record(out, "outside_speech", f"{len(out)} word(s) outside every speech region "
                                                          f"(±{rules.outside_tolerance_s:g} s)"))
        if words:
            inside.append(_rebuild(segment, words) if words != list(segment.words) else segment)

    # repetition over the word stream, across segment boundaries
    stream = [(i, w) for i, s in enumerate(inside) for w in s.words]
    drop = _repeats([normalized(w.text) for _, w in stream], rules)
    if any(drop):
        by_segment: dict[int, list[Word]] = {}
        run: list[Word] = []
        for (i, w), gone in zip(stream, drop):
            if gone:
                run.append(w)
            else:
                by_segment.setdefault(i, []).append(w)
                if run:
                    removed.append(_record(run, "repetition", f"{len(run)} word(s) repeating the words before them"))
                    run = []
        if run:
            removed.append(_record(run, "repetition", f"{len(run)} word(s) repeating the words before them"))
        inside = [(_rebuild(s, by_segment[i]) if len(by_segment[i]) != len(s.words) else s)
                  for i, s in enumerate(inside) if not s.words or i in by_segment]
    removed.sort(key=lambda r: (r.start_s, r.end_s))
    return inside, removed
