"""An MT model with context: the source of the previous segments and the
segment go in together, the previous segments' translations are forced as
the start of the output, and what the model writes after them is the
segment's translation in context. Both candidates are scored the same way:
the mean log-probability of their tokens (and the end of sentence) after
that forced start, given that source.

The model and its language codes are the ones the first pass recorded.
"""

from __future__ import annotations

from typing import Any

from shared.devices import torch_device
from shared.errors import ModelNotFound
from shared.log import get_logger
from shared.models import ResolvedModel

log = get_logger("stages.second_pass_translation.mt")

MAX_SOURCE_TOKENS = 400


def pick_device(option: str) -> str:
    return torch_device(option, "SECOND_PASS_DEVICE")


class MTContext:
    def __init__(self, resolved: ResolvedModel, device: str = "auto", cpu_threads: int = 0):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.resolved = resolved
        self.device = pick_device(device)
        if cpu_threads > 0:
            torch.set_num_threads(cpu_threads)
        dtype = torch.float16 if self.device == "cuda" else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(resolved.path, local_files_only=True)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(resolved.path, local_files_only=True, dtype=dtype)
        except (OSError, ValueError, KeyError) as err:
            raise ModelNotFound(f"cannot load translation model {resolved.name} from {resolved.path}: "
                                f"{str(err).splitlines()[0]}") from None
        self.model.to(self.device).eval()

    def identity(self) -> dict[str, Any]:
        return {**self.resolved.identity(), "device": self.device}

    def _eos(self) -> int:
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.model.config.eos_token_id
        return eos if isinstance(eos, int) else list(eos)[0]

    def _source(self, text: str, codes: dict[str, Any]):
        if codes.get("source") and hasattr(self.tokenizer, "src_lang"):
            self.tokenizer.src_lang = codes["source"]
        if codes.get("target") and hasattr(self.tokenizer, "tgt_lang"):
            self.tokenizer.tgt_lang = codes["target"]
        limit = min(MAX_SOURCE_TOKENS, int(getattr(self.model.config, "max_position_embeddings", 1024) or 1024))
        encoded = self.tokenizer([codes.get("source_prefix", "") + text], return_tensors="pt", truncation=True,
                                 max_length=limit)
        return {k: encoded[k].to(self.device) for k in ("input_ids", "attention_mask")}

    def target_tokens(self, text: str) -> list[int]:
        if not text.strip():
            return []
        return list(self.tokenizer(text_target=text.strip(), add_special_tokens=False)["input_ids"])

    def _start(self, context_translation: str, codes: dict[str, Any], decoder_start: int | None) -> list[int]:
        start = [decoder_start if decoder_start is not None else self.model.config.decoder_start_token_id]
        if codes.get("forced_bos_token_id") is not None:
            start.append(int(codes["forced_bos_token_id"]))
        return start + self.target_tokens(context_translation)

    def translate(self, context_source: str, source: str, context_translation: str, codes: dict[str, Any],
                  decoder_start: int | None, beam_size: int) -> str:
        """The segment's translation, continuing the forced translation of its context."""
        import torch

        inputs = self._source((context_source + " " + source).strip(), codes)
        start = self._start(context_translation, codes, decoder_start)
        limit = int(getattr(self.model.config, "max_position_embeddings", 1024) or 1024)
        max_new = max(1, min(limit - len(start) - 1, int(len(self.target_tokens(source)) * 2.5) + 10))
        with torch.inference_mode():
            out = self.model.generate(**inputs, decoder_input_ids=torch.tensor([start], device=self.device),
                                      num_beams=max(1, beam_size), max_new_tokens=max_new)
        return " ".join(self.tokenizer.decode(out[0][len(start):], skip_special_tokens=True).split())

    def score(self, context_source: str, source: str, context_translation: str, codes: dict[str, Any],
              decoder_start: int | None, candidate: str) -> float | None:
        import torch

        tokens = self.target_tokens(candidate)
        if not tokens:
            return None
        tokens.append(self._eos())
        inputs = self._source((context_source + " " + source).strip(), codes)
        start = self._start(context_translation, codes, decoder_start)
        decoder = torch.tensor([start + tokens[:-1]], device=self.device)
        with torch.inference_mode():
            logits = self.model(**inputs, decoder_input_ids=decoder).logits[0].float()
        logprobs = torch.log_softmax(logits[len(start) - 1:], dim=-1)
        picked = logprobs[torch.arange(len(tokens)), torch.tensor(tokens, device=logprobs.device)]
        return float(picked.mean())

