"""transformers seq2seq (encoder-decoder) MT models: what the translation stage and the second pass share.

Loading a resolved model folder offline onto a device (float16 on CUDA,
float32 on CPU), its identity, and how a source text goes in: the tokenizer
told the pair's language codes (:class:`shared.schema.LanguageCodes`, which
the first pass records and the second pass reuses), the source prefix put
before the text, and the input cut to the model's positions. Each stage keeps
its own decoding (batched with forced terms; continued after a context and
scored). transformers and torch are imported inside the methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.errors import ModelNotFound
from shared.log import get_logger
from shared.models import ResolvedModel
from shared.schema import LanguageCodes

__all__ = ["MAX_SOURCE_TOKENS", "Seq2SeqModel"]

log = get_logger("shared.seq2seq")

MAX_SOURCE_TOKENS = 400  # a subtitle segment (with its context) is far shorter; longer input is cut


class Seq2SeqModel:
    """A transformers encoder-decoder model and its tokenizer, from the cache only."""

    def __init__(self, resolved: ResolvedModel, device: str, cpu_threads: int = 0):
        """``device``: ``cpu`` or ``cuda``, already resolved (shared.devices.torch_device)."""
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.resolved = resolved
        self.device = device
        if cpu_threads > 0:
            torch.set_num_threads(cpu_threads)
        self.dtype = torch.float16 if device == "cuda" else torch.float32
        log.info("loading MT model %s (%s) on %s", resolved.name, resolved.path, device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(resolved.path, local_files_only=True)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(resolved.path, local_files_only=True, dtype=self.dtype)
        except (OSError, ValueError, KeyError) as err:
            raise ModelNotFound(f"cannot load translation model {resolved.name} from {resolved.path}: "
                                f"{str(err).splitlines()[0]}", "is it a seq2seq (encoder-decoder) MT model?") from None
        self.model.to(device).eval()
        self.vocab = self.tokenizer.get_vocab()

    def identity(self) -> dict[str, Any]:
        return {**self.resolved.identity(), "device": self.device, "dtype": str(self.dtype).removeprefix("torch.")}

    def max_positions(self) -> int:
        config = self.model.config
        return int(getattr(config, "max_position_embeddings", 0) or getattr(config, "n_positions", 0) or 1024)

    def eos_ids(self) -> list[int]:
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.model.config.eos_token_id
        return [eos] if isinstance(eos, int) else list(eos or [])

    def encode(self, texts: Sequence[str], codes: LanguageCodes) -> dict[str, Any]:
        """``input_ids`` and ``attention_mask`` of the source texts (padded to the longest), on the device."""
        if codes.source and hasattr(self.tokenizer, "src_lang"):
            self.tokenizer.src_lang = codes.source
        if codes.target and hasattr(self.tokenizer, "tgt_lang"):
            self.tokenizer.tgt_lang = codes.target
        limit = min(MAX_SOURCE_TOKENS, self.max_positions())
        encoded = self.tokenizer([codes.source_prefix + t for t in texts], return_tensors="pt", padding=True,
                                 truncation=True, max_length=limit)
        return {k: encoded[k].to(self.device) for k in ("input_ids", "attention_mask")}

    def target_tokens(self, text: str) -> list[int]:
        """The target-side token ids of ``text`` as it is written mid-sentence (no special tokens)."""
        return list(self.tokenizer(text_target=text, add_special_tokens=False)["input_ids"])
