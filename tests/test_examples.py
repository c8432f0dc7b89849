"""Each program in examples/ runs as a user would run it, and prints what it promises."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
TIMEOUT = 180  # each example runs in well under a minute on 2 cores; this allows a loaded machine


def run_example(name, env=None):
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, name)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_every_example_is_tested():
    tested = {"learn_alpha.py", "two_layer_net.py", "dask_xarray.py", "gpu_zero_copy.py", "numba_interop.py"}
    assert {f for f in os.listdir(EXAMPLES) if f.endswith(".py")} == tested


def test_learn_alpha_converges_to_the_true_alpha():
    out = run_example("learn_alpha.py")
    rows = [tuple(map(float, m.groups())) for m in re.finditer(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)]
    assert len(rows) >= 5, out
    steps, losses, alphas = zip(*rows)
    assert alphas[0] == 0.5
    assert all(b >= a for a, b in zip(alphas, alphas[1:])), alphas  # climbs from 0.5 towards 2.5
    assert all(b <= a + 1e-9 for a, b in zip(losses, losses[1:])), losses
    final = re.search(r"final alpha = ([\d.]+) \(true 2\.5\), loss = ([\d.]+) \(noise variance ([\d.]+)\)", out)
    assert final, out
    alpha, loss, noise_variance = map(float, final.groups())
    assert abs(alpha - 2.5) < 0.01
    assert loss < 1.1 * noise_variance  # only the noise is left


def test_two_layer_net_gradient_check_passes_and_it_learns():
    out = run_example("two_layer_net.py")
    per_param = dict(re.findall(r"^\s+(W1|b1|alpha|W2|b2)\s+\d+ entries\s+max relative error (\S+)$", out, re.M))
    assert set(per_param) == {"W1", "b1", "alpha", "W2", "b2"}, out
    assert all(float(v) < 1e-6 for v in per_param.values()), per_param
    check = re.search(r"^gradient check passed: max relative error (\S+) < 1e-06$", out, re.M)
    assert check, out
    assert float(check.group(1)) == max(float(v) for v in per_param.values())
    trained = re.search(r"^trained: loss (\S+) -> (\S+), alpha (\S+)$", out, re.M)
    assert trained, out
    first, last, alpha = map(float, trained.groups())
    assert last < first / 10
    assert alpha > 0 and alpha != 1.0  # alpha was learned


def test_dask_xarray_example():
    pytest.importorskip("dask.array")
    pytest.importorskip("xarray")
    out = run_example("dask_xarray.py")
    assert re.search(r"out-of-core: celu\(Array \(4000, 2500\) float32, 16 chunks\) -> Array float32 \(lazy\)", out)
    assert "checked a chunk against NumPy" in out
    assert "mean celu matches its exact expectation" in out
    assert "dims ('x', 'alpha'), shape (7, 3)" in out
    assert "chunked DataArray: celu_grad -> Array (lazy)" in out
    assert out.rstrip().endswith("dask and xarray examples passed")


def test_gpu_example_runs_or_skips_with_a_reason():
    from celu_numba import _cli_env

    out = run_example("gpu_zero_copy.py")
    usable, _ = _cli_env.cuda_status()
    if usable:
        assert "GPU example passed" in out
    else:
        assert re.match(r"no CUDA GPU: skipping the GPU example \(.+\)$", out.strip()), out


def test_numba_interop_example():
    import importlib.util

    out = run_example("numba_interop.py")
    assert "fused dense + celu: (200, 8) float64, same bits as the ufunc on the same sums" in out
    assert re.search(r"^fused dense \+ celu_backward: grad_b\[:3\] = \[.+\]$", out, re.M), out
    assert re.search(r"^(CUDA kernel on the GPU: |no CUDA GPU: skipping|no numba-cuda: skipping)", out, re.M), out
    assert out.rstrip().endswith("numba interop example passed")
    if importlib.util.find_spec("numba_cuda") is not None:  # the CUDA part, on the simulator
        out = run_example("numba_interop.py", env=dict(os.environ, NUMBA_ENABLE_CUDASIM="1"))
        assert "CUDA kernel on the CUDA simulator: celu and celu_grad of 1000 float32" in out, out
