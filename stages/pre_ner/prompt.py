"""The ASR prompt and hotwords from the ranked entities, within Whisper's prompt window.

Whisper reads at most 223 tokens of preceding context (half its 448-token
window, less the start-of-previous token); faster-whisper puts the hotwords
and the initial prompt both into that context, so together they must fit.
Tokens are counted with the Whisper model's own tokenizer, the way
faster-whisper encodes them (with a leading space).

The initial prompt is the prompt items joined as ``", ".join(items) + "."``
(the asr stage relies on that to trim items when it adds the user's own
prompt); the hotwords are the hotword items joined by spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stages.pre_ner.entities import Entity, key

WHISPER_PROMPT_TOKENS = 223
HOTWORD_SOURCES = ("glossary", "terms")  # words Whisper cannot know: products, jargon, invented words

Counter = Callable[[str], int]


def prompt_text(items: Sequence[str]) -> str:
    return ", ".join(items) + "." if items else ""


def hotwords_text(items: Sequence[str]) -> str:
    return " ".join(items)


def token_count(count: Counter, text: str) -> int:
    """Tokens ``text`` takes in Whisper's context (faster-whisper prefixes a space)."""
    return count(" " + text.strip()) if text.strip() else 0


@dataclass
class Prompt:
    prompt_items: list[str] = field(default_factory=list)
    hotword_items: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # ranked entities that did not fit the budget
    prompt_tokens: int = 0
    hotword_tokens: int = 0

    @property
    def initial_prompt(self) -> str:
        return prompt_text(self.prompt_items)

    @property
    def hotwords(self) -> str:
        return hotwords_text(self.hotword_items)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.hotword_tokens


def _covered(text: str, items: Sequence[str]) -> bool:
    """Whether ``text`` is already spelled out, as whole words, by one of ``items``."""
    k = f" {key(text)} "
    return any(k in f" {key(item)} " for item in items)


def build(entities: Sequence[Entity], count: Counter, max_tokens: int = WHISPER_PROMPT_TOKENS,
          max_hotword_tokens: int = 48) -> Prompt:
    """Fill the budget in rank order: hotwords first (glossary and terms, up to
    ``max_hotword_tokens``), then the prompt with every entity that still fits.
    An entity already spelled out inside a higher-ranked one (``Hanna`` after
    ``Vincent Hanna``) is not repeated; one that does not fit is left out, and
    smaller ones after it may still fit."""
    max_tokens = min(max_tokens, WHISPER_PROMPT_TOKENS)
    result = Prompt()
    for entity in entities:
        if entity.source not in HOTWORD_SOURCES or _covered(entity.text, result.hotword_items):
            continue
        trial = token_count(count, hotwords_text([*result.hotword_items, entity.text]))
        if trial <= min(max_hotword_tokens, max_tokens):
            result.hotword_items.append(entity.text)
            result.hotword_tokens = trial
    for entity in entities:
        if _covered(entity.text, result.prompt_items):
            continue
        trial = token_count(count, prompt_text([*result.prompt_items, entity.text]))
        if trial + result.hotword_tokens <= max_tokens:
            result.prompt_items.append(entity.text)
            result.prompt_tokens = trial
        elif not _covered(entity.text, result.hotword_items):
            result.left_out.append(entity.text)
    return result
