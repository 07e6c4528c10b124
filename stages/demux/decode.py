"""Decode one audio stream to mono PCM WAV with ffmpeg, streaming.

ffmpeg reads the input and writes the WAV itself; Python only reads
ffmpeg's ``-progress`` lines (a few bytes a second), so memory does not grow
with the length of the film.

Downmix
-------
Stereo (and any layout without a front-centre channel) is folded with
ffmpeg's own ``-ac 1`` (``0.5*L + 0.5*R``): dialogue panned to the middle
keeps its level and there is no channel to favour.

Layouts with a front-centre channel (5.1, 5.1(side), 7.1, 3.0, ...) get an
explicit ``pan`` instead. In film and TV mixes the dialogue lives in the
centre channel; music and effects live in the fronts and the surrounds.
ffmpeg's default ``-ac 1`` matrix (measured with ffmpeg 5.1) puts the
centre only 3 dB above each front channel and, after its normalisation,
about 10.6 dB below its input level — the dialogue ends up quiet and masked
by the score. Speech recognition and voice activity detection care about
the speech-to-background ratio, so we weight the centre:

* FC at 0.707 (-3 dB): a full-scale line of dialogue alone cannot clip;
* the other front channels (FL, FR, and FLC/FRC, WL/WR where present)
  share 0.707, i.e. 0.354 (-9 dB) each in 5.1: 6 dB under the dialogue;
* every surround, back and height channel shares 0.5 (0.25, -12 dB, each
  in 5.1);
* LFE is dropped: it carries no speech, only rumble.

The gains sum to at most 1.91, so only simultaneous full-scale peaks in
several channels can clip, and then by the s16 conversion's saturation,
not by wrap-around.

Timeline
--------
``aresample=first_pts=0`` pads (or trims) the start so that sample 0 of the
WAV is time 0 of the container: when the audio starts after the video
(a delayed track), subtitles timed on the WAV still line up with the video
the mux stage puts them on. ``tests/integration/test_video_clock.py`` proves it
for MP4 and Matroska, audio starting after and before the video, streams that
do not start at zero (MPEG-TS, a shifted Matroska file), an MP4 cut by stream
copy (an edit list into the media) and AAC priming, within 1 ms where the
container signals the priming (MP4's edit list) and 23 ms where it does not
(Matroska, MPEG-TS: players play those 1024 samples too).
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from shared.ffmpeg import FFMPEG
from shared.graph import AudioFormat

FFMPEG_CODECS = {"PCM_16": "pcm_s16le"}  # soundfile's sample encoding -> ffmpeg's WAV codec
CENTRE = "FC"
FRONTS = {"FL", "FR", "FLC", "FRC", "WL", "WR"}
SILENT = {"LFE", "LFE2"}
CENTRE_GAIN = 0.707
FRONTS_TOTAL = 0.707
OTHERS_TOTAL = 0.5


@lru_cache(maxsize=1)
def standard_layouts() -> dict[str, tuple[str, ...]]:
    """ffmpeg's standard channel layouts, ``{"5.1(side)": ("FL", "FR", ...)}``,
    read from ``ffmpeg -layouts`` so that they match the ffmpeg in use."""
    try:
        out = subprocess.run([FFMPEG, "-hide_banner", "-layouts"], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    table: dict[str, tuple[str, ...]] = {}
    in_layouts = False
    for line in out.splitlines():
        if line.startswith("Standard channel layouts"):
            in_layouts = True
            continue
        parts = line.split()
        if in_layouts and len(parts) == 2 and parts[0] != "NAME":
            table[parts[0]] = tuple(parts[1].split("+"))
    return table


def layout_channels(layout: str, channels: int) -> tuple[str, ...] | None:
    """Channel names in order for ``layout`` (a standard name or ``FL+FR+FC``), if known."""
    layout = (layout or "").strip()
    if "+" in layout:
        names = tuple(layout.split("+"))
    else:
        names = standard_layouts().get(layout, ())
    return names if names and len(names) == channels else None


def _gain(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def downmix_filter(layout: str, channels: int) -> str | None:
    """The ``pan`` filter for a layout with a centre channel, else None (use ``-ac 1``).

    Channels are addressed by position (``c2``), so the filter does not
    depend on how ffmpeg names the layout."""
    names = layout_channels(layout, channels)
    if channels < 3 or not names or CENTRE not in names:
        return None
    fronts = [i for i, n in enumerate(names) if n in FRONTS]
    others = [i for i, n in enumerate(names) if n not in FRONTS and n not in SILENT and n != CENTRE]
    terms = [f"{_gain(CENTRE_GAIN)}*c{names.index(CENTRE)}"]
    terms += [f"{_gain(FRONTS_TOTAL / len(fronts))}*c{i}" for i in fronts]
    terms += [f"{_gain(OTHERS_TOTAL / len(others))}*c{i}" for i in others]
    return "pan=mono|c0=" + "+".join(terms)


def decode_args(media: Path, stream_index: int, out_wav: Path, fmt: AudioFormat, pan: str | None) -> list[str]:
    """ffmpeg arguments (after the global ones) decoding one stream to a WAV in format ``fmt``."""
    filters = ([pan] if pan else []) + [f"aresample={fmt.sample_rate_hz}:first_pts=0"]
    return [
        "-i", str(media.absolute()),
        "-map", f"0:{stream_index}",
        "-af", ",".join(filters),
        "-ac", str(fmt.channels), "-ar", str(fmt.sample_rate_hz),
        "-c:a", FFMPEG_CODECS[fmt.subtype],
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "wav", "-y", str(out_wav.absolute()),
    ]
