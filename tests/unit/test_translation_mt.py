"""The transformers backend, run for real on tiny randomly initialised models built here
(MarianMT with a multi-target token, and an NLLB-shaped M2M100), offline: batching, scores,
language codes, names forced into the output, and the whole stage through run()."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from shared import schema  # noqa: E402
from shared.errors import InputError  # noqa: E402
from shared.models import resolve_mt_model  # noqa: E402
from shared.options.translation import TranslationOptions  # noqa: E402
from stages.translation import terms  # noqa: E402
from stages.translation.mt import MTModel  # noqa: E402
from stages.translation.stage import run  # noqa: E402

CORPUS = ["Vincent Hanna wears Kevlar in Los Angeles.", "Ich habe die Software heute gekauft, sagte er.",
          "Hola, ¿cómo estás? Muy bien, gracias.", "ComfyUI is a tool for images.",
          string.ascii_letters + string.digits + " .,;:!?¿¡'-äöüßéáíóúñ"]


def _tokenizer(special: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(CORPUS * 3, trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "</s>", "<unk>", *special]))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    fast.model_input_names = ["input_ids", "attention_mask"]
    return fast


def build_tiny_marian(folder: Path, seed: int = 0) -> Path:
    """A 2-layer MarianMT with random weights and a BPE tokenizer with >>es<< and >>de<< target tokens."""
    from transformers import MarianConfig, MarianMTModel

    tokenizer = _tokenizer([">>es<<", ">>de<<"])
    config = MarianConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=256, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    torch.manual_seed(seed)
    model = MarianMTModel(config)
    model.generation_config.forced_eos_token_id = 1  # as opus-mt models have it: the last step is kept for EOS
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_nllb(folder: Path, seed: int = 0) -> Path:
    """An M2M100 with NLLB's FLORES language tokens: the NLLB family's code path."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    tokenizer = _tokenizer(["eng_Latn", "deu_Latn", "spa_Latn"])
    config = M2M100Config(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=256, pad_token_id=0, eos_token_id=1, bos_token_id=1,
                          decoder_start_token_id=1)
    torch.manual_seed(seed)
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def marian(tmp_path_factory) -> Path:
    return build_tiny_marian(tmp_path_factory.mktemp("tiny-marian"))


@pytest.fixture(scope="module")
def model(marian) -> MTModel:
    return MTModel(resolve_mt_model(str(marian)), device="cpu")


def test_tiny_model_translates_a_batch_with_scores(model):
    assert model.family == "marian"
    codes = model.codes("de", "es")
    assert codes.source_prefix == ">>es<< " and codes.forced_bos_token_id is None
    out = model.translate(["Ich habe die Software gekauft.", "Hola", "ja"], codes, beam_size=2, batch_size=2)
    assert len(out) == 3
    assert all(isinstance(text, str) and score < 0 for text, score in out)
    with pytest.raises(InputError, match="no language fr"):
        model.codes("de", "fr")


@pytest.mark.parametrize("beam", [1, 4])
def test_forced_spans_put_every_protected_term_in_the_output(model, beam):
    codes = model.codes("de", "es")
    sources = ["Vincent Hanna trägt Kevlar.", "Hola, ¿cómo estás?", "ComfyUI ist ein Werkzeug."]
    forced = [["Vincent Hanna", "Kevlar"], [], ["ComfyUI"]]
    plain = model.translate(sources, codes, beam_size=beam)
    assert not all(terms.contains(text, t) for (text, _), fs in zip(plain, forced) for t in fs)  # random weights drop them
    out = model.translate(sources, codes, beam_size=beam, forced=forced)
    for (text, _), required in zip(out, forced):
        for term in required:
            assert terms.contains(text, term), (term, text)


def test_nllb_family_forces_the_target_language_token(tmp_path):
    nllb = MTModel(resolve_mt_model(str(build_tiny_nllb(tmp_path / "nllb"))), device="cpu")
    assert nllb.family == "nllb"
    codes = nllb.codes("de", "es")
    assert (codes.source, codes.target) == ("deu_Latn", "spa_Latn")
    assert codes.forced_bos_token_id == nllb.vocab["spa_Latn"]
    inputs = nllb.encode(["Ich habe die Software gekauft."], codes)
    out = nllb.model.generate(**inputs, forced_bos_token_id=codes.forced_bos_token_id, max_new_tokens=5)
    assert int(out[0][1]) == nllb.vocab["spa_Latn"]
    with pytest.raises(InputError, match="no language fr"):
        nllb.codes("de", "fr")


def write_job_inputs(folder: Path) -> dict[str, Path]:
    import soundfile

    segments = (
        schema.Segment(1.0, 3.5, " Vincent Hanna trägt Kevlar."),
        schema.Segment(4.0, 6.0, " Die comfy eye Software ist gut."),
        schema.Segment(6.5, 7.0, "  "),
        schema.Segment(8.0, 11.0, " Hanna kommt morgen."),
    )
    schema.write(folder / "transcript.json", schema.Transcript("de", 0.99, 12.0, segments))
    soundfile.write(folder / "audio.wav", np.zeros(12 * 16000, dtype=np.float32), 16000, subtype="PCM_16")
    (folder / "glossary.tsv").write_text("term\tpreferred\taliases\ncomfyui\tComfyUI\tcomfy eye\n")
    (folder / "metadata.json").write_text(json.dumps({"cast": [{"actor": "Al Pacino", "character": "Vincent Hanna"}],
                                                      "terms": ["Kevlar"]}))
    return {"transcript": folder / "transcript.json", "audio": folder / "audio.wav",
            "glossary": folder / "glossary.tsv", "metadata": folder / "metadata.json"}


def test_stage_translates_keeps_times_source_text_and_names(marian, tmp_path):
    inputs = write_job_inputs(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    outputs = {"translations": out_dir / "manifest.json", "forced_translation": out_dir / "forced.json"}
    options = TranslationOptions(target_languages=("es", "de"), model=f"{marian}", beam_size=2, device="cpu")
    report = run(inputs, outputs, options)
    manifest = schema.load(outputs["translations"], schema.TranslationManifest)
    assert [(f.language, f.path, f.backend) for f in manifest.files] == [("es", "es.json", "transformers"),
                                                                          ("de", "de.json", "transformers")]
    source = schema.load(inputs["transcript"], schema.Transcript)
    spanish = schema.load(out_dir / "es.json", schema.Translation)
    assert [(s.start_s, s.end_s, s.source_text) for s in spanish.segments] == \
        [(s.start_s, s.end_s, s.text) for s in source.segments]
    assert [s.method for s in spanish.segments] == ["translated", "translated", "empty", "translated"]
    kept = {r["term"]: r for s in spanish.segments for r in s.terms}
    assert set(kept) == {"Vincent Hanna", "Kevlar", "ComfyUI", "Hanna"}
    assert all(r["kept"] for r in kept.values()), kept  # glossary names survive translation
    for seg in spanish.segments:
        for record in seg.terms:
            assert terms.contains(seg.text, record["term"])
    assert spanish.producer.codes["de"].source_prefix == ">>es<< "
    german = schema.load(out_dir / "de.json", schema.Translation)  # the transcript is German already
    assert [s.method for s in german.segments] == ["source", "source", "empty", "source"]
    assert german.segments[0].text == "Vincent Hanna trägt Kevlar."
    assert report.metrics["es"]["terms_kept"] == report.metrics["es"]["terms_protected"] == 4
    assert any("already in de" in n for n in report.notes)


def test_stage_without_targets_writes_an_empty_manifest_and_says_so(tmp_path):
    inputs = write_job_inputs(tmp_path)
    outputs = {"translations": tmp_path / "manifest.json", "forced_translation": tmp_path / "forced.json"}
    report = run(inputs, outputs, TranslationOptions())
    assert schema.load(outputs["translations"], schema.TranslationManifest).files == ()
    assert "TARGET_LANGUAGES is empty" in report.notes[0]
