"""Finding misheard names in a transcript and correcting them.

1. Candidate spans: runs of up to ``max_ngram_words`` words inside a segment,
   never across punctuation. A span is considered only when something says it
   may be a name: spaCy tagged it as one (``ner``), a word in it is
   capitalised mid-sentence or mixed-case (``capitalized``), the ASR was
   unsure of a word in it (``low-probability``), or it is exactly a glossary
   alias (``alias``). Spans made only of stop words are never changed.
2. Score (0-100): the mean of rapidfuzz's ratio on a spelling key (letters
   only, one spelling per sound: c/k, ph/f, no doubled letters) and on a
   rough sound key (its consonant skeleton), so "Kessmirth" scores high
   against "Kesmareth" and "Catrhen" against "Katrine". A name needs
   ``min_score + (1 - weight) * 20``: a less certain name (an actor, a name
   seen only in the synopsis) needs a closer match.
3. Selection: best score first, spans that do not overlap; a span that already
   spells a known name exactly is kept as it is and blocks the others.
4. Rewrite: only the words of a chosen span change; their punctuation and
   times are kept (a span of several words becomes one word from the first's
   start to the last's end, unless the name has as many words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared import schema
from stages.post_ner.lexicon import Form, letters

WEIGHT_MARGIN = 20.0  # extra score a name of weight 0 would need
MIN_FUZZY_LETTERS = 4  # shorter names are only fixed exactly (case, alias)
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "NORP"})
_WORD = re.compile(r"^(\s*[^\w]*)(.*?)((?:['’]s)?[^\w]*)$", re.DOTALL)
_BREAK = re.compile(r"[.,;:!?…\"“”()\[\]]")


@dataclass
class Token:
    segment: int
    index: int  # in its segment
    word: schema.Word
    lead: str  # leading space and punctuation
    core: str
    trail: str  # trailing possessive and punctuation
    sentence_start: bool
    stop: bool = False
    ner: bool = False

    @property
    def name_like(self) -> bool:
        core = self.core
        return bool(core) and (any(c.isupper() for c in core[1:]) or (core[0].isupper() and not self.sentence_start))


@dataclass(frozen=True)
class Span:
    tokens: tuple[Token, ...]

    @property
    def text(self) -> str:
        return " ".join(t.core for t in self.tokens)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.tokens[0].segment, self.tokens[0].index, self.tokens[-1].index)


@dataclass(frozen=True)
class Candidate:
    span: Span
    form: Form
    score: float
    needed: float
    trigger: str

    @property
    def exact(self) -> bool:
        return self.span.text == self.form.spelling

    @property
    def rule(self) -> str:
        if self.form.kind == "alias" and letters(self.span.text) == letters(self.form.text):
            return "alias"
        if letters(self.span.text) == letters(self.form.spelling):
            return "case"
        return "fuzzy"


@dataclass
class Result:
    transcript: schema.Transcript
    corrections: list[dict] = field(default_factory=list)
    near_misses: list[dict] = field(default_factory=list)
    confirmed: int = 0  # spans that already spelled a known name


def split_word(text: str) -> tuple[str, str, str]:
    m = _WORD.match(text)
    lead, core, trail = m.group(1), m.group(2), m.group(3)
    if not re.search(r"\w", core):
        return text, "", ""
    return lead, core, trail


def spelling_key(text: str) -> str:
    """Letters with one spelling per sound (c/k, ph/f, ...) and no doubled letters: "Catrhen" -> "katrhen"."""
    s = unicodedata.normalize("NFKD", letters(text))
    s = re.sub(r"(.)\1+", r"\1", "".join(c for c in s if not unicodedata.combining(c)))
    for a, b in (("ph", "f"), ("ck", "k"), ("sch", "sk"), ("ch", "k"), ("sh", "s"), ("th", "t"), ("dh", "d"),
                 ("qu", "kw"), ("q", "k"), ("x", "ks"), ("wh", "w"), ("gh", "g")):
        s = s.replace(a, b)
    s = re.sub(r"c(?=[eiy])", "s", s).replace("c", "k").replace("z", "s").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", s)


def sound(text: str) -> str:
    """A rough sound key: the spelling key's consonants after its first letter ("Kessmirth" -> "ksmrt")."""
    s = spelling_key(text)
    if not s:
        return ""
    return re.sub(r"(.)\1+", r"\1", s[0] + re.sub(r"[aeiouh]", "", s[1:]))


def tokens_of(transcript: schema.Transcript, stop_words: Iterable[str] = ()) -> list[list[Token]]:
    stops = {w.casefold() for w in stop_words}
    out = []
    for s, segment in enumerate(transcript.segments):
        row, sentence_start = [], True
        for i, word in enumerate(segment.words):
            lead, core, trail = split_word(word.text)
            row.append(Token(s, i, word, lead, core, trail, sentence_start, core.casefold() in stops))
            if core:
                sentence_start = bool(re.search(r"[.!?…]", trail))
        out.append(row)
    return out


def mark_entities(rows: list[list[Token]], nlp) -> None:
    """Flag the words spaCy puts inside a name-like entity."""
    texts, offsets = [], []
    for row in rows:
        text, spans = "", []
        for tok in row:
            start = len(text) + len(tok.word.text) - len(tok.word.text.lstrip())
            text += tok.word.text
            spans.append((start, len(text)))
        texts.append(text)
        offsets.append(spans)
    for row, spans, doc in zip(rows, offsets, nlp.pipe(texts)):
        for ent in doc.ents:
            if ent.label_ not in NAME_LABELS:
                continue
            for tok, (a, b) in zip(row, spans):
                if a < ent.end_char and ent.start_char < b:
                    tok.ner = True


def spans_of(rows: list[list[Token]], max_words: int) -> list[Span]:
    out = []
    for row in rows:
        for i, first in enumerate(row):
            if not first.core:
                continue
            run: list[Token] = []
            for tok in row[i:i + max_words]:
                if not tok.core or (run and (_BREAK.search(run[-1].trail) or _BREAK.search(tok.lead))):
                    break
                run.append(tok)
                out.append(Span(tuple(run)))
    return out


def trigger_of(span: Span, low_probability: float) -> str | None:
    """Why a span may hold a misheard name, or None."""
    if all(t.stop for t in span.tokens):
        return None
    if any(t.ner for t in span.tokens):
        return "ner"
    if any(t.name_like for t in span.tokens):
        return "capitalized"
    if any(t.word.probability < low_probability for t in span.tokens):
        return "low-probability"
    return None


def score(a: str, b: str) -> float:
    """0-100: the mean of rapidfuzz's ratio on the spelling keys and on the sound keys
    (the lower of the two when a sound key is under 3 letters); 100 for the same letters."""
    from rapidfuzz import fuzz

    if letters(a) == letters(b):
        return 100.0
    by_spelling = fuzz.ratio(spelling_key(a), spelling_key(b))
    ka, kb = sound(a), sound(b)
    by_sound = fuzz.ratio(ka, kb)
    if min(len(ka), len(kb)) < 3:  # a key that short says little when it agrees, much when it does not
        return round(min(by_spelling, by_sound), 1)
    return round((by_spelling + by_sound) / 2, 1)


def needed_score(form: Form, min_score: float) -> float:
    return min(100.0, min_score + (1.0 - form.weight) * WEIGHT_MARGIN)


def candidates(spans: Sequence[Span], forms: Sequence[Form], min_score: float, low_probability: float,
               near: float = 10.0) -> tuple[list[Candidate], list[Candidate]]:
    """Matches at or above their needed score, and near misses (within ``near`` below it).

    Exact matches (same letters) are looked up; fuzzy scores for every
    triggered span against every name are computed in one rapidfuzz matrix."""
    import numpy as np
    from rapidfuzz import fuzz, process

    by_letters: dict[str, list[Form]] = {}
    for form in forms:
        by_letters.setdefault(letters(form.text), []).append(form)
    fuzzy_forms = [f for f in forms if len(letters(f.text)) >= MIN_FUZZY_LETTERS]
    found, missed, triggered = [], [], []
    for span in spans:
        trigger = trigger_of(span, low_probability)
        for form in by_letters.get(letters(span.text), ()):  # exactly a known form: an alias, or the name in another case
            if form.kind == "alias":
                found.append(Candidate(span, form, 100.0, 100.0, "alias"))
            elif trigger in ("ner", "capitalized") or span.text == form.spelling:
                found.append(Candidate(span, form, 100.0, 100.0, trigger or "exact"))
        if trigger is not None:
            triggered.append((span, trigger))
    if not triggered or not fuzzy_forms:
        return found, missed
    span_letters = [letters(s.text) for s, _ in triggered]
    form_letters = [letters(f.text) for f in fuzzy_forms]
    span_sound = [sound(s.text) for s, _ in triggered]
    form_sound = [sound(f.text) for f in fuzzy_forms]
    by_l = process.cdist([spelling_key(s.text) for s, _ in triggered], [spelling_key(f.text) for f in fuzzy_forms],
                         scorer=fuzz.ratio, dtype=np.float32)
    by_s = process.cdist(span_sound, form_sound, scorer=fuzz.ratio, dtype=np.float32)
    short = np.minimum(np.array([len(k) for k in span_sound])[:, None], np.array([len(k) for k in form_sound])[None, :]) < 3
    combined = np.where(short, np.minimum(by_l, by_s), (by_l + by_s) / 2)
    ratio = np.array([len(k) for k in span_letters], dtype=float)[:, None] / np.array([len(k) for k in form_letters])[None, :]
    same = np.array([[a == b for b in form_letters] for a in span_letters], dtype=bool)
    combined[(ratio < 0.5) | (ratio > 2.0) | same] = 0  # far apart in length, or the same letters (handled above)
    needed = np.array([needed_score(f, min_score) for f in fuzzy_forms])[None, :]
    for i, j in zip(*np.nonzero(combined >= needed - near)):
        span, trigger = triggered[i]
        cand = Candidate(span, fuzzy_forms[j], round(float(combined[i, j]), 1), float(needed[0, j]), trigger)
        if _padded(cand):
            continue
        (found if cand.score >= cand.needed else missed).append(cand)
    return found, missed


def _padded(cand: Candidate) -> bool:
    """A span that only matches thanks to a stop word at its edge, or that holds the name's
    letters in one word already ("I hope" for Hope): the word itself decides, not the span."""
    tokens = list(cand.span.tokens)
    form = letters(cand.form.text)
    if len(tokens) > 1 and any(letters(t.core) == form for t in tokens):
        return True
    while tokens and tokens[0].stop:
        tokens.pop(0)
    while tokens and tokens[-1].stop:
        tokens.pop()
    if len(tokens) == len(cand.span.tokens):
        return False
    return not tokens or score(" ".join(t.core for t in tokens), cand.form.text) > cand.score


def select(found: Sequence[Candidate]) -> list[Candidate]:
    """Best first, no two overlapping; an exact spelling of a known name wins its words."""
    taken: set[tuple[int, int]] = set()
    chosen = []
    order = sorted(found, key=lambda c: (not c.exact, -c.score, -c.form.weight,
                                         abs(len(letters(c.span.text)) - len(letters(c.form.text))),
                                         len(c.span.tokens)))
    for cand in order:
        cells = {(t.segment, t.index) for t in cand.span.tokens}
        if cells & taken:
            continue
        taken |= cells
        chosen.append(cand)
    return chosen


def _rewrite(tokens: Sequence[Token], spelling: str) -> list[schema.Word]:
    first, last = tokens[0], tokens[-1]
    parts = spelling.split()
    if len(parts) == len(tokens) > 1:
        return [schema.Word(t.word.start_s, t.word.end_s, t.lead + p + t.trail, t.word.probability)
                for t, p in zip(tokens, parts)]
    probability = min(t.word.probability for t in tokens)
    return [schema.Word(first.word.start_s, last.word.end_s, first.lead + spelling + last.trail, probability)]


def correct(transcript: schema.Transcript, forms: Sequence[Form], nlp, stop_words: Iterable[str],
            min_score: float, max_words: int, low_probability: float) -> Result:
    rows = tokens_of(transcript, stop_words)
    if nlp is not None and forms:
        mark_entities(rows, nlp)
    spans = spans_of(rows, max_words) if forms else []
    found, missed = candidates(spans, forms, min_score, low_probability)
    chosen = select(found)
    changes = {c.span.key: c for c in chosen if not c.exact}
    result = Result(transcript, confirmed=sum(1 for c in chosen if c.exact))
    chosen_cells = {(t.segment, t.index) for c in chosen for t in c.span.tokens}
    segments = []
    for s, (segment, row) in enumerate(zip(transcript.segments, rows)):
        starts = {k[1]: c for k, c in changes.items() if k[0] == s}
        if not starts:
            segments.append(segment)
            continue
        words, i = [], 0
        while i < len(row):
            cand = starts.get(i)
            if cand is None:
                words.append(row[i].word)
                i += 1
                continue
            words += _rewrite(cand.span.tokens, cand.form.spelling)
            result.corrections.append({
                "original": cand.span.text, "corrected": cand.form.spelling, "score": cand.score,
                "needed": round(cand.needed, 1), "rule": cand.rule, "trigger": cand.trigger,
                "matched": cand.form.text, "kind": cand.form.kind, "source": cand.form.source,
                "start_s": round(cand.span.tokens[0].word.start_s, 3), "end_s": round(cand.span.tokens[-1].word.end_s, 3),
                "segment": s, "words": [cand.span.tokens[0].index, cand.span.tokens[-1].index],
            })
            i += len(cand.span.tokens)
        text = "".join(w.text for w in words)
        segments.append(schema.Segment(segment.start_s, segment.end_s, text, tuple(words),
                                       segment.avg_logprob, segment.no_speech_prob))
    result.transcript = schema.Transcript(transcript.language, transcript.language_probability,
                                          transcript.audio_duration_s, tuple(segments), transcript.producer)
    seen: set[tuple] = set()
    for cand in sorted(missed, key=lambda c: -c.score):
        cells = {(t.segment, t.index) for t in cand.span.tokens}
        if cells & chosen_cells or (cand.span.key, cand.form.spelling) in seen:
            continue
        seen.add((cand.span.key, cand.form.spelling))
        result.near_misses.append({
            "original": cand.span.text, "candidate": cand.form.spelling, "score": cand.score,
            "needed": round(cand.needed, 1), "trigger": cand.trigger,
            "start_s": round(cand.span.tokens[0].word.start_s, 3), "end_s": round(cand.span.tokens[-1].word.end_s, 3),
        })
    return result
