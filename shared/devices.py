"""Which device a stage computes on: ``auto`` takes CUDA when the library sees
a GPU, ``cuda`` without one is refused with the setting to change. The
libraries are imported here only when asked, so shared/ stays free of them."""

from __future__ import annotations

from shared.errors import InputError


def torch_device(option: str, setting: str) -> str:
    """``auto``/``cpu``/``cuda`` for a torch model; ``setting`` names the option (``DIARIZATION_DEVICE``)."""
    import torch

    cuda = torch.cuda.is_available()
    if option == "cuda" and not cuda:
        raise InputError(f"{setting}=cuda but torch sees no CUDA device", f"use {setting}=auto or cpu")
    return ("cuda" if cuda else "cpu") if option == "auto" else option


def torch_cpu_threads(threads: int, device: str) -> int:
    """Set torch's intra-op CPU threads to ``threads`` (0: leave torch's default, one per core) when
    ``device`` is the CPU; returns the count torch now uses. On a shared or busy CPU, several
    OpenMP threads per op cost far more CPU than one (threads spin at every op's barrier
    waiting for one that is descheduled): docs/SPEAKERS.md, "Threads"."""
    import torch

    if threads < 0:
        raise InputError("CPU threads cannot be negative (0 means torch's default)")
    if device == "cpu" and threads > 0:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def ctranslate2_device(option: str, compute_type: str, setting: str) -> tuple[str, str]:
    """(device, compute_type) for a CTranslate2 model: ``auto`` compute is float16 on CUDA, int8 on CPU."""
    import ctranslate2

    cuda = ctranslate2.get_cuda_device_count() > 0
    if option == "cuda" and not cuda:
        raise InputError(f"{setting}=cuda but CTranslate2 sees no CUDA device", f"use {setting}=auto or cpu")
    device = ("cuda" if cuda else "cpu") if option == "auto" else option
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type
