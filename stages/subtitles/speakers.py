"""Speakers in subtitles: labels, dialogue dashes, and the files that carry them.

When the speakers stage ran, its words (final times, a speaker name each)
replace the transcript's. Words are cut into runs at every change of
speaker before layout (:mod:`stages.subtitles.tracks`), so a cue never
starts with one speaker and runs on into another. Then, by
``SUBTITLE_SPEAKER_STYLE``:

- ``label``: a cue whose speaker differs from the previous cue's opens with
  ``[Name] `` on its first line. When the label makes that line too long,
  the cue is laid out again ``len(label)`` characters narrower (which may
  split it) and only its first part is labelled.
- ``dash``: two neighbouring cues of two different speakers are joined into
  one dialogue cue, ``- `` before each speaker's line, when each fits on one
  line with its dash, the profile allows two lines, no long pause lies
  between them and the joined cue stays within the longest duration and
  the reading-speed cap (Netflix's rule for two speakers in one subtitle).
- ``none``: speakers are ignored.

ASS gets one style per speaker (a colour each); the JSON format carries the
speaker of every cue and word; and ``<stem>.rttm`` lists the speaker turns
with the names shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from shared import schema
from shared.options.subtitles import SubtitleOptions
from shared.speakers import SpeakerTranscript, to_rttm
from stages.subtitles.cues import Cue, CueWord

DASH = "- "


def load(inputs: dict[str, Path]) -> SpeakerTranscript | None:
    """The speakers stage's words, or None when it did not run."""
    if "speaker_words" not in inputs:
        return None
    return schema.load(inputs["speaker_words"], SpeakerTranscript)


def transcript_and_names(record: SpeakerTranscript) -> tuple[schema.Transcript, list[str]]:
    """The words as a transcript (their final times) and each word's speaker name."""
    return record.to_transcript(), [record.name(w.speaker) for w in record.words]


def rttm_text(record: SpeakerTranscript, uri: str) -> str:
    """The turns words were assigned from, with the names shown (spaces become ``_``)."""
    return to_rttm(record.turns, uri, record.names)


def active(words: Sequence[CueWord], options: SubtitleOptions) -> bool:
    """Whether speakers shape the cues: a style is chosen and at least two people talk.
    One voice all through (a monologue, a narrator) gets plain subtitles: a label on
    every turn of the only speaker tells the viewer nothing."""
    if options.speaker_style == "none":
        return False
    return len({w.speaker for w in words if w.speaker}) >= 2


def cue_speaker(cue: Cue) -> str:
    """The cue's speaker: the first named one (a cue holds one speaker's turn)."""
    return next((w.speaker for w in cue.words if w.speaker), "")


def decorate(cues: list[Cue], options: SubtitleOptions, relayout) -> list[Cue]:
    """Labels or dashes on laid-out cues (before retiming); ``relayout(words, options)``
    lays words out again (the layout function, bound to its other arguments)."""
    if options.speaker_style == "label":
        return _label(cues, options, relayout)
    if options.speaker_style == "dash":
        return _dash(cues, options)
    return cues


def _label(cues: list[Cue], options: SubtitleOptions, relayout) -> list[Cue]:
    out: list[Cue] = []
    previous = ""
    for cue in cues:
        speaker = cue_speaker(cue)
        if not speaker or speaker == previous:
            out.append(cue)
            previous = speaker or previous
            continue
        label = f"[{speaker}] "
        labelled = dataclasses.replace(cue, line_prefixes=(label,))
        if max(len(line) for line in labelled.lines) > options.max_chars_per_line and \
                options.max_chars_per_line - len(label) >= 8:
            narrow = dataclasses.replace(options, max_chars_per_line=options.max_chars_per_line - len(label))
            parts = [dataclasses.replace(c, lyric=cue.lyric) for c in relayout(list(cue.words), narrow)]
            labelled = dataclasses.replace(parts[0], line_prefixes=(label,))
            out.append(labelled)
            out.extend(parts[1:])
        else:
            out.append(labelled)
        previous = speaker
    return out


def _one_line(cue: Cue, options: SubtitleOptions) -> bool:
    return len(cue.line_sizes) == 1 and len(DASH) + len(cue.lines[0]) <= options.max_chars_per_line


def _dash(cues: list[Cue], options: SubtitleOptions) -> list[Cue]:
    out: list[Cue] = []
    k = 0
    while k < len(cues):
        cue = cues[k]
        if k + 1 < len(cues) and options.max_lines >= 2:
            nxt = cues[k + 1]
            a, b = cue_speaker(cue), cue_speaker(nxt)
            joined = Cue(cue.start_ms, max(cue.end_ms, nxt.end_ms), cue.words + nxt.words,
                         (len(cue.words), len(nxt.words)), cue.lyric, (DASH, DASH))
            # the time it can be shown: up to the cue after it, within the longest duration
            room_end = cues[k + 2].start_ms - options.min_gap_ms if k + 2 < len(cues) else joined.start_ms + options.max_duration_ms
            shown_ms = max(joined.end_ms, min(room_end, joined.start_ms + options.max_duration_ms)) - joined.start_ms
            if (a and b and a != b and cue.lyric == nxt.lyric and _one_line(cue, options) and _one_line(nxt, options)
                    and nxt.start_ms - cue.end_ms < options.pause_break_ms
                    and joined.end_ms - joined.start_ms <= options.max_duration_ms
                    and shown_ms > 0 and joined.chars * 1000.0 / shown_ms <= options.max_chars_per_s):
                out.append(joined)
                k += 2
                continue
        out.append(cue)
        k += 1
    return out


# --- ASS styles ----------------------------------------------------------------------------------

# Distinct, readable primary colours (R, G, B) for speakers, in order of first appearance.
PALETTE = ((255, 255, 255), (255, 235, 120), (140, 220, 255), (180, 255, 160), (255, 170, 200), (210, 180, 255))


def style_name(speaker: str) -> str:
    """An ASS style name for a speaker (commas end a field in ASS)."""
    return speaker.replace(",", " ").strip() or "Default"


def speaker_styles(cues: Sequence[Cue]) -> dict[str, int]:
    """Speaker -> colour index, in order of first appearance."""
    order: dict[str, int] = {}
    for cue in cues:
        for speaker in cue.speakers:
            order.setdefault(speaker, len(order) % len(PALETTE))
    return order
