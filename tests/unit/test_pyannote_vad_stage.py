"""pyannote-vad on real speech: the embedded segmentation-3.0 and whisperx's weights."""

from __future__ import annotations

import pytest

from shared import schema, segmentation
from shared.errors import InputError, ModelNotFound
from shared.models import resolve_pyannote_segmentation
from shared.options.pyannote_vad import PyannoteVadOptions
from shared.schema import Region, SpeechRegions
from shared.speakers import parse_rttm
from stages.diarization.turns import merge_intervals
from stages.pyannote_vad.stage import model_identity, run


def reference_speech(eval_data) -> float:
    turns = parse_rttm((eval_data / "sample.rttm").read_text())["sample"]
    return sum(b - a for a, b in merge_intervals((t.start_s, t.end_s) for t in turns))


@pytest.mark.parametrize("model", ["pyannote/segmentation-3.0", "whisperx"])
def test_refines_silero_regions_on_sample_wav(tmp_path, eval_data, model):
    silero = SpeechRegions((Region(6.584, 30.0),), 30.0, {"stage": "silero-vad"})
    schema.write(tmp_path / "speech.json", silero)
    out = tmp_path / "out"
    out.mkdir()
    report = run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"},
                 {"refined_speech": out / "speech.json", "segmentation_scores": out / "segmentation.npz"},
                 PyannoteVadOptions(model=model), lambda *a: None)
    refined = schema.load(out / "speech.json", SpeechRegions)
    assert refined.producer.stage == "pyannote-vad" and refined.producer.details["refines"] == "silero-vad"
    assert len(refined.regions) > 1  # silero's one long region is split at the pauses
    assert refined.regions[0].start_s >= 6.584 - 1.0 - 1e-6
    assert abs(refined.speech_duration_s - reference_speech(eval_data)) < 1.5
    assert report.metrics["windows"] == 1


def test_no_speech_regions_means_no_model_work(tmp_path, eval_data):
    schema.write(tmp_path / "speech.json", SpeechRegions((), 30.0, {"stage": "silero-vad"}))
    report = run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"},
                 {"refined_speech": tmp_path / "refined.json", "segmentation_scores": tmp_path / "segmentation.npz"},
                 PyannoteVadOptions(), lambda *a: None)
    assert schema.load(tmp_path / "refined.json", SpeechRegions).regions == ()
    assert report.metrics["windows"] == 0 and report.notes
    assert report.metrics["segmentation_chunks"] == 0 and segmentation.load(tmp_path / "segmentation.npz").chunks == 0


def test_models_resolve_by_name_and_path(tmp_path):
    embedded = resolve_pyannote_segmentation("pyannote/segmentation-3.0")
    assert embedded.source in ("embedded", "cache")
    assert model_identity(PyannoteVadOptions())["name"] == "pyannote/segmentation-3.0"
    assert resolve_pyannote_segmentation(embedded.path).source == "local"
    with pytest.raises(ModelNotFound, match="make models"):
        resolve_pyannote_segmentation("someone/segmentation-9")
    with pytest.raises(ModelNotFound, match="unknown"):
        resolve_pyannote_segmentation("segmentation")


def test_bad_options_fail_before_loading(tmp_path):
    from stages.pyannote_vad.stage import check_options

    with pytest.raises(InputError):
        check_options(PyannoteVadOptions(context_s=-1))
    with pytest.raises(InputError, match="segmentation_step"):
        check_options(PyannoteVadOptions(segmentation_step="0"))
    with pytest.raises(InputError, match="auto or a number"):
        check_options(PyannoteVadOptions(segmentation_step="half"))
    with pytest.raises(InputError, match="cpu_threads"):
        check_options(PyannoteVadOptions(cpu_threads=-1))


def test_the_model_runs_on_one_torch_thread_unless_asked(tmp_path, eval_data, monkeypatch):
    """Two OpenMP threads per op on a busy 2-core machine cost 10-30x the CPU of one (docs/SPEAKERS.md, "Threads")."""
    import torch
    from pyannote.audio.core.inference import Inference

    seen = []
    original = Inference.infer  # each batch of windows

    def recorded(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Inference, "infer", recorded)
    schema.write(tmp_path / "speech.json", SpeechRegions((Region(6.584, 30.0),), 30.0, {"stage": "silero-vad"}))
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # as torch starts on a 2-core machine
    try:
        report = run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"},
                     {"refined_speech": tmp_path / "refined.json", "segmentation_scores": tmp_path / "segmentation.npz"},
                     PyannoteVadOptions(), lambda *a: None)
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1} and report.metrics["cpu_threads"] == 1


def test_scores_are_what_the_diarization_pipeline_would_compute(tmp_path, eval_data, monkeypatch):
    """The published scores are pyannote's SpeakerDiarization.get_segmentations of the same
    model at diarization's step (followed from DIARIZATION_SEGMENTATION_STEP), window for window."""
    import numpy as np
    import torch

    from shared.audio import read_all
    from shared.options.diarization import DiarizationOptions
    from stages.diarization import pipeline as pipelines

    monkeypatch.setenv("DIARIZATION_SEGMENTATION_STEP", "0.5")
    schema.write(tmp_path / "speech.json", SpeechRegions((Region(6.584, 30.0),), 30.0, {"stage": "silero-vad"}))
    report = run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"},
                 {"refined_speech": tmp_path / "refined.json", "segmentation_scores": tmp_path / "segmentation.npz"},
                 PyannoteVadOptions(), lambda *a: None)
    scores = segmentation.load(tmp_path / "segmentation.npz")
    assert scores.step == 0.5 and report.metrics["segmentation_step"] == 0.5
    assert schema.load(tmp_path / "refined.json", SpeechRegions).producer.options["segmentation_step"] == 0.5
    assert scores.model == model_identity(PyannoteVadOptions())
    assert scores.audio_samples == 30 * 16000 and scores.sample_rate_hz == 16000

    options = DiarizationOptions(model="embedded", segmentation_step=0.5)
    choice = pipelines.choose(options)
    assert pipelines.reuse_reason(choice, options, scores, scores.audio_samples) == ""
    pipeline = pipelines.load(choice, options, "cpu")
    waveform = torch.from_numpy(read_all(eval_data / "sample.wav")).unsqueeze(0)
    own = pipeline.get_segmentations({"waveform": waveform, "sample_rate": 16000})
    assert own.data.shape == scores.scores.shape and scores.chunks == 5  # 10 s windows every 5 s over 30 s
    assert np.allclose(own.data, scores.scores, atol=1e-5)
    window = own.sliding_window
    assert (window.start, window.duration, window.step) == (scores.chunk_start_s, scores.chunk_duration_s, scores.chunk_step_s)


def test_intersect_keeps_pyannote_speech_inside_the_silero_windows_only(tmp_path, eval_data):
    silero = SpeechRegions((Region(12.0, 18.0),), 30.0, {"stage": "silero-vad"})
    schema.write(tmp_path / "speech.json", silero)
    paths = {"refined_speech": tmp_path / "refined.json", "segmentation_scores": tmp_path / "segmentation.npz"}
    run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"}, paths,
        PyannoteVadOptions(context_s=0.5), lambda *a: None)
    inside = schema.load(paths["refined_speech"], SpeechRegions)
    assert inside.regions and inside.regions[0].start_s >= 11.5 - 1e-6 and inside.regions[-1].end_s <= 18.5 + 1e-6
    run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"}, paths,
        PyannoteVadOptions(context_s=0.5, combine="pyannote"), lambda *a: None)
    everywhere = schema.load(paths["refined_speech"], SpeechRegions)
    assert everywhere.speech_duration_s > inside.speech_duration_s + 10


def test_combine_pyannote_finds_speech_where_silero_found_none(tmp_path, eval_data):
    schema.write(tmp_path / "speech.json", SpeechRegions((), 30.0, {"stage": "silero-vad"}))
    report = run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"},
                 {"refined_speech": tmp_path / "refined.json", "segmentation_scores": tmp_path / "segmentation.npz"},
                 PyannoteVadOptions(combine="pyannote"), lambda *a: None)
    assert abs(schema.load(tmp_path / "refined.json", SpeechRegions).speech_duration_s - reference_speech(eval_data)) < 1.5
    assert report.metrics["windows"] == 0 and segmentation.load(tmp_path / "segmentation.npz").chunks == 9  # 10 s windows every 2.5 s over 30 s


def test_window_starts_are_where_pyannote_slides_its_windows():
    from stages.pyannote_vad.stage import window_starts

    assert window_starts(100, 40, 10) == ([0, 10, 20, 30, 40, 50, 60], None)  # the last window ends on the last sample
    assert window_starts(105, 40, 10) == ([0, 10, 20, 30, 40, 50, 60], 70)  # 5 samples left: one padded window more
    assert window_starts(30, 40, 10) == ([], 0)  # shorter than a window: one padded window
    assert window_starts(40, 40, 10) == ([0], None)


def test_scores_are_made_a_batch_of_windows_at_a_time_as_pyannote_slides_them(tmp_path, eval_data, monkeypatch):
    """On 3 minutes of audio (69 whole windows, in batches of 32, 32 and 5, and a last padded one) the
    scores are pyannote's ``Inference`` over the whole waveform, and no read is longer than one
    batch of windows: the stage's memory does not grow with the audio."""
    import numpy as np
    import soundfile
    import torch
    from pyannote.audio.core.inference import Inference

    from shared.audio import AudioFile, read_all
    from stages.pyannote_vad.stage import BATCH_SIZE, load_model, segment

    samples = np.tile(read_all(eval_data / "sample.wav"), 7)[:int(181.3 * 16000)]
    soundfile.write(tmp_path / "long.wav", samples, 16000, subtype="PCM_16")
    model, _ = load_model(PyannoteVadOptions(), "cpu")
    reads = []
    original = AudioFile.read

    def recorded(self, start=0, stop=None, out=None):
        got = original(self, start, stop, out)
        reads.append(len(got))
        return got

    monkeypatch.setattr(AudioFile, "read", recorded)
    with AudioFile(tmp_path / "long.wav") as wav, torch.inference_mode():
        ours = segment(model, wav, 0.25)
    monkeypatch.undo()
    inference = Inference(model, duration=10.0, step=2.5, skip_aggregation=True, batch_size=BATCH_SIZE)
    with torch.inference_mode():
        theirs = inference({"waveform": torch.from_numpy(read_all(tmp_path / "long.wav")).unsqueeze(0),
                            "sample_rate": 16000})
    assert ours.data.shape == theirs.data.shape == (70, 589, 3)
    assert np.allclose(ours.data, theirs.data, atol=1e-6)
    assert (ours.sliding_window.start, ours.sliding_window.duration, ours.sliding_window.step) == \
        (theirs.sliding_window.start, theirs.sliding_window.duration, theirs.sliding_window.step)
    assert len(reads) == 4 and max(reads) <= (BATCH_SIZE - 1) * 40000 + 160000  # 87.5 s, not the file's 181.3 s
