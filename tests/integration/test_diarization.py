"""Speakers for real: the embedded diarization on sample.wav (DER against its RTTM),
speaker-attributed words against its STM, a flite two-voice dialogue turn by turn,
and the stages run as users run them, with and without diarization."""

from __future__ import annotations

import json
import shutil

import pytest

from bench import eval_speakers as ev
from host.jobs import create_job
from shared import schema
from shared.speakers import Diarization, SpeakerTranscript, parse_rttm
from tests.conftest import run_stage

pytestmark = pytest.mark.integration

DER_LIMIT = 0.10
OFF = "shots,pre-ner,post-ner,translation,second-pass-translation,lyrics-detection"  # not what these tests are about


@pytest.fixture(scope="module")
def sample_chain(eval_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample-chain")
    return ev.run_chain(eval_data / "sample.wav", folder, ("silero-vad", "pyannote-vad", "diarization", "asr", "speakers"))


def test_embedded_diarization_der_on_sample_wav(sample_chain, eval_data):
    found = schema.load(sample_chain["diarization"], Diarization)
    reference = parse_rttm((eval_data / "sample.rttm").read_text())["sample"]
    der = ev.diarization_error_rate(reference, found.turns)
    print(f"\nsample.wav DER {der['der'] * 100:.2f} % (missed {der['missed'] * 100:.2f}, false alarm "
          f"{der['false_alarm'] * 100:.2f}, confusion {der['confusion'] * 100:.2f})")
    assert len(found.speakers) == 2
    assert der["der"] <= DER_LIMIT
    # pyannote.metrics maps the two found speakers one to one onto the reference's two
    assert sorted(der["mapping"].values()) == sorted({t.speaker for t in reference})
    rttm = parse_rttm(sample_chain["diarization_rttm"].read_text())["audio"]
    assert len(rttm) == len(found.turns)
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(found.exclusive, found.exclusive[1:]))


def test_speaker_attributed_words_against_sample_stm(sample_chain, eval_data):
    words = schema.load(sample_chain["speaker_words"], SpeakerTranscript)
    result = ev.speaker_word_accuracy(ev.parse_stm((eval_data / "sample.stm").read_text()),
                                      [(w.text, w.speaker) for w in words.words])
    print(f"\nsample.stm: word accuracy {result['word_accuracy'] * 100:.1f} %, speaker right on "
          f"{result['speaker_accuracy_of_aligned'] * 100:.1f} % of aligned words, speaker-attributed word accuracy "
          f"{result['speaker_attributed_word_accuracy'] * 100:.1f} % ({words.timing['method']} times)")
    assert result["speaker_accuracy_of_aligned"] >= 0.85
    assert {w.assignment for w in words.words} <= {"turn", "overlap", "gap"}


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory):
    if not ev.flite_available():
        pytest.skip("flite (apt-get install flite) or ffmpeg is not installed")
    return ev.make_dialogue(tmp_path_factory.mktemp("dialogue"))


def test_flite_two_voice_dialogue_gets_every_turn_right(dialogue, tmp_path):
    wav, turns = dialogue
    paths = ev.run_chain(wav, tmp_path, ("silero-vad", "pyannote-vad", "diarization"))
    found = schema.load(paths["diarization"], Diarization)
    result = ev.turn_accuracy(turns, found.exclusive)
    assert result["speakers_found"] == 2
    assert result["right"] == result["turns"], result


def test_stages_as_users_run_them_with_names_and_without_diarization(dialogue, tmp_path):
    wav, turns = dialogue
    jobs = tmp_path / "jobs"
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"speakers": {"SPEAKER_00": "Alice", "SPEAKER_01": "Bob"}}))
    job = create_job(wav, jobs_dir=jobs, job_id="dialogue", metadata=metadata)
    for stage in ("demux", "silero-vad", "asr", "pyannote-vad", "diarization", "speakers", "subtitles"):
        done = run_stage(stage, job.id, jobs, SKIP_STAGES=OFF)
        assert done.returncode == 0, f"{stage}: {done.stderr[-2000:]}"
    lock = json.loads((job.root / "speakers" / "lock.json").read_text())
    assert json.dumps(lock).count('"alignment"') >= 1  # the lock says which word times were used
    words = schema.load(job.root / "speakers" / "words.json", SpeakerTranscript)
    assert words.names == {"SPEAKER_00": "Alice", "SPEAKER_01": "Bob"}
    srt = next((job.root / "subtitles").glob("*.srt")).read_text()
    assert "[Alice]" in srt and "[Bob]" in srt
    manifest = schema.load(job.root / "subtitles" / "manifest.json", schema.SubtitleManifest)
    assert manifest.for_format("rttm")

    # diarization switched off: speakers and subtitles still run, without speakers
    skip = OFF + ",diarization"
    refused = run_stage("diarization", job.id, jobs, SKIP_STAGES=skip)
    assert refused.returncode != 0 and "SKIP_STAGES" in refused.stderr
    for stage in ("speakers", "subtitles"):
        done = run_stage(stage, job.id, jobs, SKIP_STAGES=skip)
        assert done.returncode == 0, f"{stage}: {done.stderr[-2000:]}"
    words = schema.load(job.root / "speakers" / "words.json", SpeakerTranscript)
    assert {w.speaker for w in words.words} == {""}
    srt = next((job.root / "subtitles").glob("*.srt")).read_text()
    assert "[Alice]" not in srt and srt.strip()
    manifest = schema.load(job.root / "subtitles" / "manifest.json", schema.SubtitleManifest)
    assert not manifest.for_format("rttm")

    # the speakers stage switched off too: subtitles read the transcript
    skip += ",speakers"
    done = run_stage("subtitles", job.id, jobs, SKIP_STAGES=skip)
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.rmtree(jobs)
