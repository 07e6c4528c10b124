"""shared.devices on this machine (no GPU): auto falls back to CPU, cuda is refused naming the setting."""

import pytest

from shared.devices import ctranslate2_device, torch_cpu_threads, torch_device
from shared.errors import InputError


def test_ctranslate2_auto_is_cpu_int8_without_a_gpu():
    assert ctranslate2_device("auto", "auto", "ASR_DEVICE") == ("cpu", "int8")
    assert ctranslate2_device("cpu", "float32", "ASR_DEVICE") == ("cpu", "float32")
    with pytest.raises(InputError, match="ASR_DEVICE=cuda but CTranslate2 sees no CUDA device"):
        ctranslate2_device("cuda", "auto", "ASR_DEVICE")


def test_torch_auto_is_cpu_without_a_gpu():
    pytest.importorskip("torch")
    assert torch_device("auto", "DIARIZATION_DEVICE") == "cpu"
    with pytest.raises(InputError, match="DIARIZATION_DEVICE=cuda but torch sees no CUDA device"):
        torch_device("cuda", "DIARIZATION_DEVICE")


def test_torch_cpu_threads_are_set_on_the_cpu_only():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert torch_cpu_threads(0, "cpu") == 2  # 0: torch's default is left alone
        assert torch_cpu_threads(1, "cuda") == 2  # a GPU model's CPU threads are not ours to set
        assert torch_cpu_threads(1, "cpu") == 1 == torch.get_num_threads()
        with pytest.raises(InputError, match="cannot be negative"):
            torch_cpu_threads(-1, "cpu")
    finally:
        torch.set_num_threads(before)
