"""Options of the lyrics-detection stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class LyricsDetectionOptions:
    """Songs: windows of the audio scored for singing over music (steady
    pitched notes, tonal spectrum, a beat, no speech pauses), raised or lowered
    by the transcript's lines there (repeated lines, short unpunctuated lines,
    music symbols); runs above ``threshold`` become regions."""

    threshold: float = setting(0.5, "LYRICS_THRESHOLD", "confidence (0-1) above which a window is song")
    min_duration_s: float = setting(4.0, "LYRICS_MIN_DURATION_S", "shorter song regions are dropped")
    max_gap_s: float = setting(2.0, "LYRICS_MAX_GAP_S", "song regions closer than this are joined")
    text_weight: float = setting(0.3, "LYRICS_TEXT_WEIGHT", "weight (0-1) of the transcript cues against the audio's")
