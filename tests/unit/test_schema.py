"""The typed producer record: stamped one way, the same JSON as before, older files still load."""

from __future__ import annotations

import json

import pytest

from shared import schema
from shared.options import to_dict
from shared.options.translation import TranslationOptions
from shared.speakers import Diarization


def test_stamp_types_the_common_fields_and_keeps_the_stages_own():
    options = TranslationOptions(target_languages=("es",))
    codes = schema.LanguageCodes("marian", "", "", ">>es<< ", None)
    producer = schema.stamp("translation", options, {"name": "opus-mt-de-es", "path": "/m"}, backend="transformers",
                            codes={"de": codes}, decoder_start_token_id=0, forced_segments=2)
    assert producer.options == to_dict(options) and producer.codes["de"] is codes
    assert (producer.model_name, producer.model_path) == ("opus-mt-de-es", "/m")
    assert producer.to_json() == {
        "stage": "translation", "model": {"name": "opus-mt-de-es", "path": "/m"}, "options": to_dict(options),
        "backend": "transformers", "decoder_start_token_id": 0, "forced_segments": 2,
        "codes": {"de": {"family": "marian", "source": "", "target": "", "source_prefix": ">>es<< ",
                         "forced_bos_token_id": None}}}
    assert schema.Producer.from_json(producer.to_json()) == producer


def test_a_record_it_refines_is_kept_as_json():
    asr = schema.stamp("asr", model={"name": "tiny.en"}, compute_type="int8")
    corrected = schema.stamp("post-ner", asr=asr)
    assert corrected.details["asr"] == {"stage": "asr", "model": {"name": "tiny.en"}, "compute_type": "int8"}


def test_older_files_and_plain_dicts_load():
    old = {"stage": "translation", "backend": "whisper", "model": {"name": "base"}, "prompt": "Names: Kevlar.",
           "something_new": [1, 2], "codes": {"de": {"source": "deu_Latn", "unknown_key": 1}}}
    record = schema.Translation.from_json({"language": "en", "segments": [], "producer": old})
    assert record.producer.backend == "whisper" and record.producer.model_path == ""
    assert record.producer.details == {"prompt": "Names: Kevlar.", "something_new": [1, 2]}
    assert record.producer.codes["de"] == schema.LanguageCodes(source="deu_Latn")
    assert schema.Transcript("en", 1.0, 1.0, (), {"stage": "asr"}).producer == schema.Producer("asr")
    assert schema.TranslationManifest(()).to_json()["producer"] == {}
    assert Diarization((), (), (), (), 0.0, {"stage": "diarization"}).producer.stage == "diarization"
    assert schema.SpeechRegions.from_json({"regions": [], "audio_duration_s": 1.0}).producer == schema.Producer()


def test_shot_changes_round_trip_with_a_rational_frame_rate(tmp_path):
    rate = schema.FrameRate(24000, 1001)
    assert (rate.frame_at(1668.3), rate.ms_of(40), rate.frame_at(rate.ms_of(262))) == (40, 1668, 262)
    record = schema.ShotChanges(rate, 0, 292, (40, 262), (85.547, 66.016), "ffmpeg scdet", 10.0,
                                schema.stamp("shots", {"threshold_percent": 10.0}))
    schema.write(tmp_path / "shots.json", record)
    data = json.loads((tmp_path / "shots.json").read_text())
    assert data["frame_rate"] == {"num": 24000, "den": 1001, "fps": 23.976024}
    assert data["cuts"][0] == {"frame": 40, "time_s": 1.668333, "score": 85.547}
    assert schema.load(tmp_path / "shots.json", schema.ShotChanges) == record
    empty = schema.ShotChanges(None, None, 0, (), (), "ffmpeg scdet", 10.0)
    assert schema.ShotChanges.from_json(empty.to_json()) == empty and empty.cut_times_s == ()
    with pytest.raises(ValueError):
        schema.FrameRate(0, 1)
