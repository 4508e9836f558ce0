"""`describe_cpu`: the CPU named in run.json and the benchmarks' headers, from /proc/cpuinfo."""

from __future__ import annotations

from sparsett_bench.machine import describe_cpu

ZEN2 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 23
model\t\t: 49
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx avx2 fma

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: another CPU
flags\t\t: avx2 avx512f
"""

XEON = """processor\t: 0
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: avx2 avx512f avx512_bf16 amx_tile
"""


def test_the_first_processor_is_named_with_family_model_and_vector_width() -> None:
    assert describe_cpu(ZEN2) == "AMD EPYC (family 23, model 49; AVX2)"
    assert describe_cpu(XEON) == "Intel(R) Xeon(R) Platinum 8480+ (family 6, model 143; AVX-512)"


def test_what_cpuinfo_does_not_give_is_left_out() -> None:
    assert describe_cpu("processor\t: 0\nmodel name\t: Some ARM core\n") == "Some ARM core"
    assert describe_cpu("model name\t: X\nmodel\t\t: 1\nflags\t\t: avx2\n") == "X (AVX2)"
    assert describe_cpu("") == ""
