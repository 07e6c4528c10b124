"""How the asr stage combines the user's prompt and hotwords with pre-ner's names (stages.asr.stage.with_names)."""

import json
from pathlib import Path

import pytest

from shared.models import resolve_whisper
from shared.options.asr import AsrOptions
from stages.asr.stage import WHISPER_PROMPT_TOKENS, with_names


@pytest.fixture(scope="module")
def model_path():
    return resolve_whisper("tiny.en").path


@pytest.fixture(scope="module")
def count(model_path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    return lambda text: len(tokenizer.encode(" " + text, add_special_tokens=False).ids) if text else 0


def prompt_file(tmp_path, prompt_items, hotword_items=()):
    path = tmp_path / "prompt.json"
    path.write_text(json.dumps({"prompt_items": list(prompt_items), "hotword_items": list(hotword_items)}))
    return path


def test_users_text_first_then_pre_ners_names(tmp_path, model_path):
    options = AsrOptions(initial_prompt="A film about Heat.", hotwords="Kevlar")
    decoded, record, notes = with_names(options, prompt_file(tmp_path, ["Diane", "New Jersey"], ["ComfyUI"]), model_path)
    assert decoded.initial_prompt == "A film about Heat. Diane, New Jersey."
    assert decoded.hotwords == "Kevlar ComfyUI"
    assert record["from_user"] == {"initial_prompt": "A film about Heat.", "hotwords": "Kevlar"}
    assert record["from_pre_ner"]["prompt_items"] == ["Diane", "New Jersey"] and not notes
    assert decoded.beam_size == options.beam_size  # nothing else changes


def test_pre_ners_lowest_ranked_names_give_way_never_the_users(tmp_path, model_path, count):
    user = "Vincent Hanna and Neil McCauley " * 8
    names = [f"Zorvath Quillibrand{n}" for n in range(60)]
    decoded, record, notes = with_names(AsrOptions(initial_prompt=user), prompt_file(tmp_path, names), model_path)
    assert decoded.initial_prompt.startswith(user.strip())
    assert count(decoded.initial_prompt) + count(decoded.hotwords) <= WHISPER_PROMPT_TOKENS == record["budget"]
    kept = record["from_pre_ner"]["prompt_items"]
    assert kept == names[:len(kept)] and record["from_pre_ner"]["left_out"] == names[len(kept):]
    assert notes and "left out" in notes[0]


def test_without_pre_ner_the_users_options_pass_as_they_are(model_path):
    options = AsrOptions(initial_prompt="ComfyUI", hotwords="ComfyUI")
    decoded, record, notes = with_names(options, None, model_path)
    assert decoded == options and record["from_pre_ner"] is None and not notes
