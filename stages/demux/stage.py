"""demux: probe the input, choose the audio stream, decode it to a WAV in the graph's audio format
(``shared.graph.AUDIO_FORMAT``: 16 kHz mono 16-bit PCM)."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from shared import schema
from shared.errors import InputError, StageFailed
from shared.ffmpeg import ffmpeg_version, run_ffmpeg
from shared.graph import AUDIO_FORMAT
from shared.log import get_logger
from shared.options.demux import DemuxOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.demux import decode, dialogue
from stages.demux.probe import describe_stream, probe
from stages.demux.select import choose_audio_stream

log = get_logger("stages.demux")


def model_identity(options: DemuxOptions) -> dict[str, Any]:
    """No model: the ffmpeg build that decodes (its version changes the output)."""
    return {"tool": "ffmpeg", "version": ffmpeg_version()}


def wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: DemuxOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    media = inputs["media"]
    probed = probe(media)
    if probed.duration_s is not None and probed.duration_s <= 0:
        raise InputError(f"{media.name} has zero duration", "the file holds no media; export or copy it again")
    if not probed.audio_streams:
        found = ", ".join(f"{s.kind} {s.codec}" for s in probed.streams) or "no streams"
        raise InputError(f"{media.name} has no audio stream; subtitles need speech",
                         f"it has {found}; use the file that carries the soundtrack")
    position, stream = choose_audio_stream(probed.streams, options.audio_stream)
    layout = probed.channel_layouts.get(stream.index, "")
    choice = dialogue.choose(options.dialogue, layout, stream.channels,
                             lambda channel: dialogue.speech_windows(dialogue.centre_levels_db(media, stream.index, channel),
                                                                     int(dialogue.WINDOW_S / dialogue.FRAME_S)))
    pan = choice.pan
    log.info("decoding audio stream %d (#%d in the file: %s) to %s%s", position, stream.index,
             describe_stream(stream), AUDIO_FORMAT.describe(),
             f": the centre channel alone ({choice.reason})" if choice.source == "center"
             else f" with centre-weighted {layout} downmix ({choice.reason})" if pan else "")

    run_ffmpeg(decode.decode_args(media, stream.index, outputs["audio"], AUDIO_FORMAT, pan),
               probed.duration_s, hook, step="decoding", what=f"ffmpeg decoding audio stream #{stream.index} of {media.name}")
    try:
        audio_s = wav_duration_s(outputs["audio"])
    except (OSError, EOFError, wave.Error) as err:
        raise StageFailed(f"ffmpeg wrote an unreadable WAV ({err})", "rerun demux; report it if it persists") from None
    if audio_s <= 0:
        raise InputError(f"{media.name} has zero duration: its audio stream decodes to no samples",
                         "the file holds no sound; export or copy it again")

    duration_s = probed.duration_s or audio_s
    info = schema.MediaInfo(
        source_name=media.name,
        container=probed.container,
        duration_s=duration_s,
        streams=probed.streams,
        audio_stream_index=stream.index,
        audio_language=stream.language,
    )
    schema.write(outputs["media_info"], info)

    notes = []
    audio_count = len(probed.audio_streams)
    if audio_count > 1 and options.audio_stream.strip().lower() == "auto":
        notes.append(f"{audio_count} audio streams; took {position} ({describe_stream(stream)}); "
                     f"set AUDIO_STREAM to an index or language to pick another")
    if duration_s - audio_s > max(5.0, 0.05 * duration_s):
        notes.append(f"the audio stream ends at {audio_s:.1f} s, the media at {duration_s:.1f} s")
    return StageReport(
        model=model_identity(options),
        metrics={
            "duration_s": round(duration_s, 3),
            "audio_duration_s": round(audio_s, 3),
            "audio_stream": position,
            "audio_stream_index": stream.index,
            "codec": stream.codec,
            "channels": stream.channels,
            "channel_layout": layout,
            "downmix": pan or "ffmpeg -ac 1",
            "dialogue": choice.source,
            "dialogue_reason": choice.reason,
            "language": stream.language,
            "sample_rate_hz": AUDIO_FORMAT.sample_rate_hz,
        },
        notes=notes,
    )
