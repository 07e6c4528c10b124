"""pre-ner's prompt: ranked, deduplicated, within Whisper's 223 tokens by the model's own tokenizer."""

from pathlib import Path

import pytest

from shared.models import resolve_whisper
from stages.pre_ner.entities import Entity
from stages.pre_ner.prompt import WHISPER_PROMPT_TOKENS, build, token_count


def words(text: str) -> int:
    return len(text.split())


def entity(text, source="cast.character", weight=0.9):
    return Entity(text, "PERSON", source, weight, [source])


@pytest.fixture(scope="module")
def whisper_count():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(resolve_whisper("tiny.en").path) / "tokenizer.json"))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def test_prompt_is_the_ranked_items_as_a_list_and_hotwords_the_glossary_terms():
    prompt = build([entity("ComfyUI", "glossary", 1.0), entity("Diane"), entity("Zyntrex", "terms", 0.8),
                    entity("Chicago", "places", 0.8)], words)
    assert prompt.prompt_items == ["ComfyUI", "Diane", "Zyntrex", "Chicago"]
    assert prompt.initial_prompt == "ComfyUI, Diane, Zyntrex, Chicago."
    assert prompt.hotword_items == ["ComfyUI", "Zyntrex"] and prompt.hotwords == "ComfyUI Zyntrex"
    assert prompt.tokens == prompt.prompt_tokens + prompt.hotword_tokens


def test_a_name_inside_a_higher_ranked_one_is_not_repeated():
    prompt = build([entity("Vincent Hanna"), entity("Hanna", "synopsis", 0.3), entity("Hannah", "synopsis", 0.3)], words)
    assert prompt.prompt_items == ["Vincent Hanna", "Hannah"]


def test_the_budget_is_never_exceeded_and_lower_ranks_are_left_out(whisper_count):
    many = [entity(f"Zorvath Quillibrand{n}", weight=1.0 - n / 1000) for n in range(200)]
    prompt = build(many, whisper_count)
    assert 0 < prompt.tokens <= WHISPER_PROMPT_TOKENS
    assert token_count(whisper_count, prompt.initial_prompt) == prompt.prompt_tokens
    assert prompt.prompt_items == [e.text for e in many[:len(prompt.prompt_items)]]  # a prefix of the ranking
    assert prompt.left_out and prompt.left_out[-1] == many[-1].text


def test_hotwords_share_the_budget(whisper_count):
    many = [entity(f"Glossterm{n}", "glossary", 1.0) for n in range(100)]
    prompt = build(many, whisper_count, max_tokens=100, max_hotword_tokens=30)
    assert prompt.hotword_tokens <= 30
    assert prompt.tokens <= 100


def test_a_smaller_budget_is_honoured_and_a_larger_one_capped():
    names = [entity(f"N{n}") for n in range(400)]
    assert build(names, words, max_tokens=10).tokens <= 10
    assert build(names, words, max_tokens=10_000).tokens <= WHISPER_PROMPT_TOKENS


def test_nothing_gives_an_empty_prompt():
    prompt = build([], words)
    assert (prompt.initial_prompt, prompt.hotwords, prompt.tokens) == ("", "", 0)
