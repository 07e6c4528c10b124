"""Cues to file text, one function per format.

SRT, WebVTT and ASS are written by pysubs2. Text is protected from markup
first: a backslash (``\\N``, ``\\h`` are commands to pysubs2 and ASS) becomes
U+2216, ASS override braces become parentheses, and WebVTT gets ``&``, ``<``
and ``>`` as entities. JSON, TXT and TSV mean our own things, so they are
written here: JSON is the cue list with times in ms and the words; TXT is
the cue lines, a blank line between cues; TSV is ``start_ms``, ``end_ms``,
``text`` (one line) under a header row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pysubs2

from stages.subtitles.cues import Cue

SCHEMA_VERSION = 1


def _no_backslash(text: str) -> str:
    return text.replace("\\", "\u2216")


def _ssa_file(cues: Sequence[Cue], line_text: Callable[[str], str],
              lyric_lines: Callable[[list[str]], list[str]] | None = None) -> pysubs2.SSAFile:
    """``lyric_lines`` marks the (escaped) lines of a sung cue."""
    subs = pysubs2.SSAFile()
    for cue in cues:
        lines = [line_text(line) for line in cue.lines]
        if cue.lyric and lyric_lines is not None and lines:
            lines = lyric_lines(lines)
        subs.append(pysubs2.SSAEvent(start=cue.start_ms, end=cue.end_ms, text="\\N".join(lines)))
    return subs


# Sung cues: a music note at both ends of each line in SRT (players differ in italics), italics in VTT and ASS.
def _srt_lyric(lines: list[str]) -> list[str]:
    return [f"\u266a {line} \u266a" for line in lines]


def _vtt_lyric(lines: list[str]) -> list[str]:
    return [f"<i>{line}</i>" for line in lines]


def _ass_lyric(lines: list[str]) -> list[str]:
    marked = list(lines)
    marked[0] = "{\\i1}" + marked[0]
    marked[-1] = marked[-1] + "{\\i0}"
    return marked


def write_srt(cues: Sequence[Cue], language: str, title: str = "") -> str:
    return _ssa_file(cues, _no_backslash, _srt_lyric).to_string("srt", keep_ssa_tags=True)


def _vtt_escape(line: str) -> str:
    return _no_backslash(line).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_vtt(cues: Sequence[Cue], language: str, title: str = "") -> str:
    return _ssa_file(cues, _vtt_escape, _vtt_lyric).to_string("vtt", keep_ssa_tags=True)


def _ass_escape(line: str) -> str:
    return _no_backslash(line).replace("{", "(").replace("}", ")")


def _ass_speaker_styles(subs: pysubs2.SSAFile, cues: Sequence[Cue]) -> None:
    """One style per speaker (a colour each, stages/subtitles/speakers.py); a dialogue cue's
    second speaker switches style at their line."""
    from stages.subtitles.speakers import PALETTE, speaker_styles, style_name

    colours = speaker_styles(cues)
    for speaker, k in colours.items():
        style = subs.styles["Default"].copy() if "Default" in subs.styles else pysubs2.SSAStyle()
        style.primarycolor = pysubs2.Color(*PALETTE[k])
        subs.styles[style_name(speaker)] = style
    for event, cue in zip(subs.events, cues):
        names = cue.speakers
        if names:
            event.style = style_name(names[0])
        if len(names) > 1 and len(cue.line_sizes) > 1 and cue.words[cue.line_sizes[0]].speaker != names[0]:
            lines = event.text.split("\\N")
            lines[1] = "{\\r" + style_name(cue.words[cue.line_sizes[0]].speaker) + "}" + lines[1]
            event.text = "\\N".join(lines)


def write_ass(cues: Sequence[Cue], language: str, title: str = "") -> str:
    subs = _ssa_file(cues, _ass_escape, _ass_lyric)
    _ass_speaker_styles(subs, cues)
    if title:
        subs.info["Title"] = title
    if language:
        subs.info["Language"] = language
    return subs.to_string("ass")


def write_json(cues: Sequence[Cue], language: str, title: str = "") -> str:
    record = {
        "schema": SCHEMA_VERSION,
        "language": language,
        "cues": [
            {
                "index": k + 1,
                "start_ms": cue.start_ms,
                "end_ms": cue.end_ms,
                "text": cue.text,
                "lines": list(cue.lines),
                **({"lyric": True} if cue.lyric else {}),
                **({"speakers": list(cue.speakers)} if cue.speakers else {}),
                "words": [
                    {"start_ms": w.start_ms, "end_ms": w.end_ms, "text": w.text, "probability": round(w.probability, 4),
                     **({"speaker": w.speaker} if w.speaker else {})}
                    for w in cue.words
                ],
            }
            for k, cue in enumerate(cues)
        ],
    }
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def write_txt(cues: Sequence[Cue], language: str, title: str = "") -> str:
    return "".join(("\n" if k else "") + cue.text + "\n" for k, cue in enumerate(cues))


def write_tsv(cues: Sequence[Cue], language: str, title: str = "") -> str:
    rows = ["start_ms\tend_ms\ttext"]
    rows.extend(f"{cue.start_ms}\t{cue.end_ms}\t{cue.plain}" for cue in cues)
    return "\n".join(rows) + "\n"


WRITERS: dict[str, Callable[[Sequence[Cue], str, str], str]] = {
    "srt": write_srt,
    "vtt": write_vtt,
    "ass": write_ass,
    "json": write_json,
    "txt": write_txt,
    "tsv": write_tsv,
}
FORMATS = tuple(WRITERS)
