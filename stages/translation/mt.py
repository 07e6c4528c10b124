"""The transformers backend: any seq2seq MT model from the cache (NLLB-200,
M2M100, mBART-50, opus-mt, or a model of your own), batched, on CUDA in
float16 when torch sees a GPU, else on CPU in float32 (loaded by
shared/seq2seq.py, as the second pass loads it).

Segments are translated one text each, batched by length. A segment whose
protected terms the model dropped is decoded again with them forced into
the output: beam search may not end (EOS is barred) until every term's
tokens have appeared, a term once begun must be finished, and a term is
begun when just enough length is left for it. Nothing beyond
``prefix_allowed_tokens_fn`` of transformers' ``generate`` is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.devices import torch_device
from shared.errors import InputError
from shared.log import get_logger
from shared.models import ResolvedModel
from shared.schema import LanguageCodes
from shared.seq2seq import Seq2SeqModel
from stages.translation import languages

log = get_logger("stages.translation.mt")


def pick_device(option: str) -> str:
    return torch_device(option, "TRANSLATION_DEVICE")


class MTModel(Seq2SeqModel):
    def __init__(self, resolved: ResolvedModel, device: str = "auto", cpu_threads: int = 0):
        super().__init__(resolved, pick_device(device), cpu_threads)
        self.family = self._family()

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "family": self.family}

    def _family(self) -> str:
        kind = self.model.config.model_type
        if kind == "m2m_100":
            return "nllb" if "eng_Latn" in self.vocab else "m2m100"
        if kind == "mbart" and "en_XX" in self.vocab:
            return "mbart50"
        if kind == "marian":
            return "marian"
        return "generic"

    def codes(self, source: str, target: str) -> LanguageCodes:
        """The model's spelling of the pair; InputError when it does not have one of the languages."""
        unknown = []
        src = tgt = prefix = ""
        bos = None
        if self.family == "nllb":
            src, tgt = languages.nllb_code(source, self.vocab) or "", languages.nllb_code(target, self.vocab) or ""
        elif self.family == "mbart50":
            src, tgt = languages.mbart_code(source, self.vocab) or "", languages.mbart_code(target, self.vocab) or ""
        elif self.family == "m2m100":
            src = source if f"__{source}__" in self.vocab else ""
            tgt = target if f"__{target}__" in self.vocab else ""
        if self.family in ("nllb", "mbart50", "m2m100"):
            unknown = [code for code, spelt in ((source, src), (target, tgt)) if not spelt]
            if not unknown:
                bos = self.vocab[f"__{tgt}__"] if self.family == "m2m100" else self.vocab[tgt]
        elif self.family == "marian" and languages.has_target_tokens(self.vocab):
            token = languages.marian_target_token(target, self.vocab)
            if token is None:
                unknown = [target]
            else:
                prefix = token + " "
        if unknown:
            raise InputError(f"translation model {self.resolved.name} ({self.family}) has no language "
                             f"{', '.join(unknown)}", "pick a model that covers the pair (docs/TRANSLATION.md)")
        return LanguageCodes(self.family, src, tgt, prefix, bos)

    # --- generation -------------------------------------------------------------------------

    def term_tokens(self, term: str) -> list[int]:
        """The target-side token ids of a term, as it is written mid-sentence."""
        return [i for i in self.target_tokens(term) if i != self.tokenizer.unk_token_id]

    def translate(self, texts: Sequence[str], codes: LanguageCodes, beam_size: int = 4, batch_size: int = 8,
                  forced: Sequence[Sequence[str]] | None = None, hook=None) -> list[tuple[str, float]]:
        """(translation, mean log-probability per token) for each text, in order.
        ``forced``: per text, terms the output must contain."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: list[tuple[str, float]] = [("", 0.0)] * len(texts)
        for start in range(0, len(order), max(1, batch_size)):
            batch = order[start:start + max(1, batch_size)]
            inputs = self.encode([texts[i] for i in batch], codes)
            source_len = int(inputs["attention_mask"].sum(dim=1).max())
            required = [[self.term_tokens(t) for t in forced[i]] for i in batch] if forced else None
            extra = sum(len(r) for item in required for r in item) if required else 0
            max_new = min(self.max_positions() - 2, int(source_len * 2.5) + 10 + extra)
            kwargs: dict[str, Any] = {"num_beams": max(1, beam_size), "max_new_tokens": max(1, max_new),
                                      "output_scores": True, "return_dict_in_generate": True}
            if codes.forced_bos_token_id is not None:
                kwargs["forced_bos_token_id"] = codes.forced_bos_token_id
            if required and any(required):
                kwargs["prefix_allowed_tokens_fn"] = ForcedSpans(required, self._vocab_size(), self.eos_ids(),
                                                                 max_new + 1)
            with torch.inference_mode():
                out = self.model.generate(**inputs, **kwargs)
            texts_out = self.tokenizer.batch_decode(out.sequences, skip_special_tokens=True)
            scores = self._scores(out, kwargs["num_beams"])
            for k, i in enumerate(batch):
                results[i] = (" ".join(texts_out[k].split()), scores[k])
            if hook is not None:
                hook(min(start + len(batch), len(order)), len(order))
        return results

    def _vocab_size(self) -> int:
        return int(self.model.get_output_embeddings().weight.shape[0])

    def _scores(self, out, num_beams: int) -> list[float]:
        if num_beams > 1 and getattr(out, "sequences_scores", None) is not None:
            return [float(s) for s in out.sequences_scores]
        steps = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        pad = self.tokenizer.pad_token_id
        generated = out.sequences[:, -steps.shape[1]:]
        values = []
        for row, ids in zip(steps, generated):
            keep = [float(v) for v, t in zip(row, ids) if int(t) != pad and float(v) > float("-inf")]
            values.append(sum(keep) / len(keep) if keep else 0.0)
        return values


class ForcedSpans:
    """``prefix_allowed_tokens_fn`` that makes every hypothesis of batch item b contain each
    token sequence of ``required[b]`` before it may end."""

    def __init__(self, required: list[list[list[int]]], vocab_size: int, eos_ids: list[int], max_len: int):
        import torch

        self.required = [[r for r in item if r] for item in required]
        self.max_len = max_len  # decoder length at which generation stops (start token included)
        self.all = torch.arange(vocab_size)
        keep = torch.ones(vocab_size, dtype=torch.bool)
        for eos in eos_ids:
            if 0 <= eos < vocab_size:
                keep[eos] = False
        self.all_but_eos = self.all[keep]

    @staticmethod
    def _has(seq: list[int], sub: list[int]) -> bool:
        n = len(sub)
        return any(seq[i:i + n] == sub for i in range(len(seq) - n + 1))

    def __call__(self, batch_id: int, input_ids) -> Any:
        seq = input_ids.tolist()
        undone = [r for r in self.required[batch_id] if not self._has(seq, r)]
        if not undone:
            return self.all
        for r in sorted(undone, key=len, reverse=True):  # a term once begun is finished
            for k in range(len(r) - 1, 0, -1):
                if seq[-k:] == r[:k]:
                    return [r[k]]
        if self.max_len - len(seq) <= sum(len(r) for r in undone) + 1:  # the last step may be kept for EOS
            return [undone[0][0]]  # just enough room left: begin the next term now
        return self.all_but_eos
