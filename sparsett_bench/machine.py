"""What this machine's CPU and GPUs are, for run.json and the benchmarks' headers (no heavy imports:
`report` and its benchmark use it too)."""

from __future__ import annotations

from pathlib import Path


def cpu_model() -> str:
    """This machine's CPU as `describe_cpu` names it ("" where /proc/cpuinfo is absent)."""
    try:
        return describe_cpu(Path("/proc/cpuinfo").read_text())
    except OSError:
        return ""


def gpu_names(devices: list[str]) -> str:
    """The names of the CUDA devices among ``devices`` (``cuda:1``, ...), each name once, in
    their order; "" where there are none (a CPU run). Imports torch only for CUDA devices."""
    cuda = [device for device in devices if device.startswith("cuda")]
    if not cuda:
        return ""
    import torch

    if not torch.cuda.is_available():
        return ""
    return ", ".join(dict.fromkeys(torch.cuda.get_device_name(torch.device(d)) for d in cuda))


def cpu_vendor() -> str | None:
    """This machine's CPU vendor (``vendor_id``: "AuthenticAMD", "GenuineIntel"), None where
    /proc/cpuinfo is absent or has none. MKL picks its float32 kernels by vendor too."""
    try:
        return first_processor(Path("/proc/cpuinfo").read_text()).get("vendor_id")
    except OSError:
        return None


def first_processor(cpuinfo: str) -> dict[str, str]:
    """The ``key: value`` fields of the first processor of a /proc/cpuinfo text."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def describe_cpu(cpuinfo: str) -> str:
    """The first processor of a /proc/cpuinfo text, as ``model name (family F, model M; ISA)``.

    The family and model tell CPUs apart whose model name does not (a VM's "AMD EPYC" was a
    Zen 2 one day and a Zen 4 the next), and the widest vector instructions (AVX-512, AVX2)
    decide both the speed and the last bits of float32 sums.
    """
    fields = first_processor(cpuinfo)
    name = fields.get("model name", "")
    flags = set(fields.get("flags", "").split())
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else ""
    family, model = fields.get("cpu family"), fields.get("model")
    details = [f"family {family}, model {model}"] if family and model else []
    details += [isa] if isa else []
    return f"{name} ({'; '.join(details)})" if name and details else name
