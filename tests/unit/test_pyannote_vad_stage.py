"""pyannote-vad on real speech: the embedded segmentation-3.0 and whisperx's weights."""

from __future__ import annotations

import pytest

from shared import schema
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
                 {"refined_speech": out / "speech.json"}, PyannoteVadOptions(model=model), lambda *a: None)
    refined = schema.load(out / "speech.json", SpeechRegions)
    assert refined.producer.stage == "pyannote-vad" and refined.producer.details["refines"] == "silero-vad"
    assert len(refined.regions) > 1  # silero's one long region is split at the pauses
    assert refined.regions[0].start_s >= 6.584 - 1.0 - 1e-6
    assert abs(refined.speech_duration_s - reference_speech(eval_data)) < 1.5
    assert report.metrics["windows"] == 1


def test_no_speech_regions_means_no_model_work(tmp_path, eval_data):
    schema.write(tmp_path / "speech.json", SpeechRegions((), 30.0, {"stage": "silero-vad"}))
    report = run({"audio": eval_data / "sample.wav", "speech_regions": tmp_path / "speech.json"},
                 {"refined_speech": tmp_path / "refined.json"}, PyannoteVadOptions(), lambda *a: None)
    assert schema.load(tmp_path / "refined.json", SpeechRegions).regions == ()
    assert report.metrics["windows"] == 0 and report.notes


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
