"""The minimal FFmpeg of the images (docker/ffmpeg/configure-minimal.sh) does what
demux, shots and mux ask of it on the formats films and TV come in: probe, decode the audio
to 16 kHz mono WAV (with the centre-weighted downmix), find hard cuts at their exact
frames in H.264, MPEG-2, MPEG-4 and VP9 video, and add text subtitle tracks
to MP4, MOV, MKV and WebM with every other stream copied. The fixtures are made
with the host's full ffmpeg; the commands are the stages' own (decode_args)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.ffmpeg import ffmpeg_command
from shared.graph import AUDIO_FORMAT
from stages.demux.decode import decode_args, downmix_filter
from stages.demux.dialogue import centre_analysis_args, centre_index
from stages.shots.detect import detect_args, parse_metadata
from stages.shots.video import choose, video_streams
from tests.unit.test_shots_stage import cut_frames, cut_video

VIDEO = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2"]
TONE = ["-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=48000"]
SURROUND = ["-filter_complex", "[1:a]aformat=channel_layouts=5.1[a]", "-map", "0:v", "-map", "[a]"]
# name -> how the host's ffmpeg makes it (audio codec in the name)
FIXTURES = {
    "h264-aac.mp4": [*VIDEO, *TONE, "-c:v", "libx264", "-c:a", "aac"],
    "mono-aac.m4a": [*TONE, "-ac", "1", "-c:a", "aac"],
    "h264-ac3-5.1.mkv": [*VIDEO, *TONE, *SURROUND, "-c:v", "libx264", "-c:a", "ac3"],
    "eac3-5.1.mkv": [*TONE, "-ac", "6", "-c:a", "eac3"],
    "dts.mkv": [*TONE, "-ac", "2", "-c:a", "dca", "-strict", "-2"],
    "truehd.mkv": [*TONE, "-c:a", "truehd", "-strict", "-2"],
    "vp9-opus.webm": [*VIDEO, *TONE, "-c:v", "libvpx-vp9", "-c:a", "libopus"],
    "alac.mov": [*TONE, "-c:a", "alac"],
    "mpeg2-mp2.ts": [*VIDEO, *TONE, "-c:v", "mpeg2video", "-c:a", "mp2"],
    "mpeg4-mp3.avi": [*VIDEO, *TONE, "-c:v", "mpeg4", "-c:a", "libmp3lame"],
    "wmav2.wma": [*TONE, "-c:a", "wmav2"],
    "vorbis.ogg": [*TONE, "-c:a", "libvorbis"],
    "flac.flac": [*TONE, "-c:a", "flac"],
    "pcm.wav": [*TONE, "-c:a", "pcm_s24le"],
}
SRT = "1\n00:00:00,500 --> 00:00:01,500\nHello there\n"
# container -> (input fixture, subtitle encoder, codec ffprobe reports)
MUXES = {
    "out.mp4": ("h264-aac.mp4", "mov_text", "mov_text"),
    "out.mov": ("alac.mov", "mov_text", "mov_text"),
    "out.mkv": ("h264-ac3-5.1.mkv", "srt", "subrip"),
    "out-ass.mkv": ("mpeg2-mp2.ts", "ass", "ass"),
    "out.webm": ("vp9-opus.webm", "webvtt", "webvtt"),
}


def docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*(os.environ.get("DOCKER") or "docker").split(), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("the host's ffmpeg makes the fixtures")
    folder = tmp_path_factory.mktemp("formats")
    for name, args in FIXTURES.items():
        made = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(folder / name)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"the host's ffmpeg cannot make {name}: {made.stderr.strip()[:200]}")
    (folder / "subs.srt").write_text(SRT)
    folder.chmod(0o755)
    return folder


def in_image(ref: str, folder: Path, script: str) -> subprocess.CompletedProcess:
    return docker("run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
                  "-v", f"{folder}:/in:ro", "--entrypoint", "bash", ref, "-c", script)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_demux_probes_and_decodes_the_audio(cpu_images, media, name):
    probe = in_image(cpu_images["demux"], media, f"ffprobe -v error -print_format json -show_streams /in/{name}")
    assert probe.returncode == 0, probe.stderr
    audio = next(s for s in json.loads(probe.stdout)["streams"] if s["codec_type"] == "audio")
    pan = downmix_filter(audio.get("channel_layout", ""), audio["channels"])
    args = decode_args(Path(f"/in/{name}"), audio["index"], Path("/tmp/out.wav"), AUDIO_FORMAT, pan)
    script = (f"ffmpeg -nostdin -loglevel error {shlex.join(args)} && "
              "python -c \"import soundfile; i = soundfile.info('/tmp/out.wav'); print(i.samplerate, i.channels, i.frames)\"")
    decoded = in_image(cpu_images["demux"], media, script)
    assert decoded.returncode == 0, decoded.stderr
    rate, channels, frames = map(int, decoded.stdout.split())
    assert (rate, channels) == (16000, 1) and abs(frames - 32000) < 1600, decoded.stdout
    if audio["channels"] == 6:
        assert pan, "a 5.1 layout gets the centre-weighted downmix"
    centre = centre_index(audio.get("channel_layout", ""), audio["channels"])
    if centre is not None:  # AUDIO_DIALOGUE=auto reads the centre channel's speech band as raw PCM first
        analysed = in_image(cpu_images["demux"], media,
                            f"{shlex.join(ffmpeg_command(centre_analysis_args(Path(f'/in/{name}'), audio['index'], centre)))} | wc -c")
        # 2 s of 16-bit samples at 8 kHz, give or take the codec's last frame (AC-3: 1536 samples, 32 ms)
        assert analysed.returncode == 0 and abs(int(analysed.stdout) - 2 * 8000 * 2) <= 0.05 * 8000 * 2, \
            analysed.stdout + analysed.stderr


@pytest.mark.parametrize("out", sorted(MUXES))
def test_mux_adds_a_text_track_and_copies_the_rest(cpu_images, media, out):
    source, encoder, codec = MUXES[out]
    script = (f"ffmpeg -nostdin -loglevel error -i /in/{source} -i /in/subs.srt -map 0 -map 1 -c copy "
              f"-c:s {encoder} /tmp/{out} && ffprobe -v error -print_format json -show_streams /tmp/{out}")
    muxed = in_image(cpu_images["mux"], media, script)
    assert muxed.returncode == 0, muxed.stderr
    streams = json.loads(muxed.stdout)["streams"]
    assert [s["codec_name"] for s in streams if s["codec_type"] == "subtitle"] == [codec]
    assert any(s["codec_type"] == "audio" for s in streams)


# video with hard cuts -> (ffmpeg video encoder, frame rate)
CUT_VIDEOS = {"cuts-h264.mp4": ("libx264", "24000/1001"), "cuts-mpeg2.ts": ("mpeg2video", "25"),
              "cuts-mpeg4.avi": ("mpeg4", "25"), "cuts-vp9.webm": ("libvpx-vp9", "24000/1001")}


@pytest.mark.parametrize("name", sorted(CUT_VIDEOS))
def test_shots_finds_the_cuts_at_their_frames(cpu_images, tmp_path, name):
    codec, rate = CUT_VIDEOS[name]
    try:
        cut_video(tmp_path / name, rate, codec=codec)
    except subprocess.CalledProcessError:
        pytest.skip(f"the host's ffmpeg cannot encode {codec}")
    tmp_path.chmod(0o755)
    (tmp_path / name).chmod(0o644)
    probe = in_image(cpu_images["shots"], tmp_path, f"ffprobe -v error -print_format json -show_streams /in/{name}")
    assert probe.returncode == 0, probe.stderr
    stream = choose(video_streams(json.loads(probe.stdout)["streams"]), "auto")
    assert stream is not None
    found = in_image(cpu_images["shots"], tmp_path, shlex.join(ffmpeg_command(detect_args(Path(f"/in/{name}"), stream, 10.0))))
    assert found.returncode == 0, found.stderr
    assert parse_metadata(found.stdout.splitlines(), stream).cut_frames == cut_frames()


def test_torchcodec_loads_the_same_ffmpeg(cpu_images, media):
    """pyannote.audio decodes through torchcodec, which loads FFmpeg's shared libraries."""
    ref = cpu_images.get("pyannote-vad")
    if ref is None:
        pytest.skip("pyannote-vad is switched off (SKIP_STAGES)")
    script = ("python -c \"from torchcodec.decoders import AudioDecoder; "
              "s = AudioDecoder('/in/flac.flac').get_all_samples(); print(s.sample_rate, s.data.shape[-1])\"")
    decoded = in_image(ref, media, script)
    assert decoded.returncode == 0, decoded.stderr
    rate, samples = map(int, decoded.stdout.split()[-2:])
    assert rate == 48000 and abs(samples - 96000) < 2000
