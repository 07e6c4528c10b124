"""An MT model with context: the source of the previous segments and the
segment go in together, the previous segments' translations are forced as
the start of the output, and what the model writes after them is the
segment's translation in context. Both candidates are scored the same way:
the mean log-probability of their tokens (and the end of sentence) after
that forced start, given that source.

The model and its language codes are the ones the first pass recorded.
"""

from __future__ import annotations

from shared.devices import torch_device
from shared.log import get_logger
from shared.models import ResolvedModel
from shared.schema import LanguageCodes
from shared.seq2seq import Seq2SeqModel

log = get_logger("stages.second_pass_translation.mt")


def pick_device(option: str) -> str:
    return torch_device(option, "SECOND_PASS_DEVICE")


class MTContext(Seq2SeqModel):
    def __init__(self, resolved: ResolvedModel, device: str = "auto", cpu_threads: int = 0):
        super().__init__(resolved, pick_device(device), cpu_threads)

    def _source(self, text: str, codes: LanguageCodes):
        return self.encode([text], codes)

    def _tokens(self, text: str) -> list[int]:
        return self.target_tokens(text.strip()) if text.strip() else []

    def _start(self, context_translation: str, codes: LanguageCodes, decoder_start: int | None) -> list[int]:
        start = [decoder_start if decoder_start is not None else self.model.config.decoder_start_token_id]
        if codes.forced_bos_token_id is not None:
            start.append(int(codes.forced_bos_token_id))
        return start + self._tokens(context_translation)

    def translate(self, context_source: str, source: str, context_translation: str, codes: LanguageCodes,
                  decoder_start: int | None, beam_size: int) -> str:
        """The segment's translation, continuing the forced translation of its context."""
        import torch

        inputs = self._source((context_source + " " + source).strip(), codes)
        start = self._start(context_translation, codes, decoder_start)
        max_new = max(1, min(self.max_positions() - len(start) - 1, int(len(self._tokens(source)) * 2.5) + 10))
        with torch.inference_mode():
            out = self.model.generate(**inputs, decoder_input_ids=torch.tensor([start], device=self.device),
                                      num_beams=max(1, beam_size), max_new_tokens=max_new)
        return " ".join(self.tokenizer.decode(out[0][len(start):], skip_special_tokens=True).split())

    def score(self, context_source: str, source: str, context_translation: str, codes: LanguageCodes,
              decoder_start: int | None, candidate: str) -> float | None:
        import torch

        tokens = self._tokens(candidate)
        if not tokens:
            return None
        tokens.append(self.eos_ids()[0])
        inputs = self._source((context_source + " " + source).strip(), codes)
        start = self._start(context_translation, codes, decoder_start)
        decoder = torch.tensor([start + tokens[:-1]], device=self.device)
        with torch.inference_mode():
            logits = self.model(**inputs, decoder_input_ids=decoder).logits[0].float()
        logprobs = torch.log_softmax(logits[len(start) - 1:], dim=-1)
        picked = logprobs[torch.arange(len(tokens)), torch.tensor(tokens, device=logprobs.device)]
        return float(picked.mean())

