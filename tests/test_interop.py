"""celu_numba with the rest of the ecosystem: dask, xarray, pickle, processes, threads.

Everything that starts processes or many threads runs in a child interpreter with a
timeout, so that a crash or a deadlock fails one test instead of hanging the suite.
"""

import concurrent.futures
import copy
import os
import pickle
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

import celu_numba

from public_api import NAMES, NIN  # noqa: E402
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def public(name):
    return getattr(celu_numba, name)


def nin(name):
    return NIN.get(name, 2)


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def assert_same_bits(got, want):
    got, want = as_tuple(got), as_tuple(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        assert g.tobytes() == w.tobytes()


def inputs(name, n, seed=0):
    """(grad_out,) x, alpha as float64 arrays of length n."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-8, 4, n)
    alpha = 10.0 ** rng.uniform(-1, 1, n)
    if nin(name) == 3:
        return [rng.standard_normal(n), x, alpha]
    return [x, alpha]


def run_script(tmp_path, source, timeout, env=None):
    """Run `source` in a fresh interpreter (repo on the path); return stdout; fail on error."""
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(source))
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    full_env.update(env or {})
    try:
        proc = subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=str(tmp_path),
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"timed out after {timeout} s (deadlock?); output so far:\n{e.stdout}\n{e.stderr}")
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "ALL OK" in proc.stdout, proc.stdout + proc.stderr
    return proc.stdout


# ------------------------------------------------------------------------------- dask

try:
    import dask
    import dask.array as da
except ImportError:  # pragma: no cover - dask is in the test extra
    dask = da = None
needs_dask = pytest.mark.skipif(da is None, reason="dask.array is not installed")


@pytest.mark.parametrize("name", NAMES)
@needs_dask
def test_dask_array_in_dask_array_out(name):
    ops = inputs(name, 1000, seed=1)
    want = public(name)(*ops)
    lazy = [da.from_array(o, chunks=c) for o, c in zip(ops, [300, 170, 250])]
    cases = {
        "all dask": lazy,
        "x dask, alpha default": lazy[:-1],
        "x dask, scalar alpha": [*lazy[:-1], 0.5],
        "x numpy, alpha dask": [*ops[:-1], lazy[-1]],
    }
    for label, args in cases.items():
        result = public(name)(*args)
        for r in as_tuple(result):
            assert isinstance(r, da.Array), (label, type(r))
        expected = want
        if label == "x dask, alpha default":
            expected = public(name)(*ops[:-1])
        elif label == "x dask, scalar alpha":
            expected = public(name)(*ops[:-1], 0.5)
        computed = dask.compute(*as_tuple(result), scheduler="threads")
        assert_same_bits(tuple(computed), expected)
        sync = dask.compute(*as_tuple(result), scheduler="synchronous")
        assert_same_bits(tuple(sync), expected)


@needs_dask
def test_dask_alpha_keyword_and_broadcasting():
    x = np.random.default_rng(2).uniform(-5, 5, (6, 400))
    alpha = np.linspace(0.1, 3.0, 6)[:, None]
    dx = da.from_array(x, chunks=(2, 128))
    dalpha = da.from_array(alpha, chunks=(3, 1))
    got = celu_numba.celu(dx, alpha=dalpha)
    assert isinstance(got, da.Array) and got.shape == (6, 400)
    assert_same_bits(got.compute(), celu_numba.celu(x, alpha))
    got = celu_numba.celu(dx.T, dalpha.T)
    assert_same_bits(got.compute(), celu_numba.celu(x.T, alpha.T))


@needs_dask
def test_dask_large_chunks_use_threads_and_match():
    x = np.random.default_rng(3).uniform(-8, 4, 1 << 19)
    got = celu_numba.celu_grad_alpha(da.from_array(x, chunks=1 << 17), 0.7)
    assert_same_bits(got.compute(scheduler="threads"), celu_numba.celu_grad_alpha(x, 0.7))


@needs_dask
def test_dask_graph_pickles(tmp_path):
    x, alpha = inputs("celu", 500, seed=4)
    lazy = celu_numba.celu_backward(da.from_array(x, chunks=128),
                                    celu_numba.celu(da.from_array(x, chunks=100), alpha), alpha)
    restored = pickle.loads(pickle.dumps(lazy))
    want = celu_numba.celu_backward(x, celu_numba.celu(x, alpha), alpha)
    assert_same_bits(restored.compute(), want)
    # and in a fresh interpreter, where the ufuncs are not built yet
    (tmp_path / "graph.pkl").write_bytes(pickle.dumps(lazy))
    np.save(tmp_path / "want.npy", want)
    run_script(tmp_path, """
        import pickle, sys
        import numpy as np
        assert "celu_numba" not in sys.modules
        lazy = pickle.loads(open("graph.pkl", "rb").read())
        got = lazy.compute(scheduler="synchronous")
        assert got.tobytes() == np.load("want.npy").tobytes()
        print("ALL OK")
    """, timeout=300)


@needs_dask
def test_dask_process_scheduler(tmp_path):
    out = run_script(tmp_path, """
        import dask, dask.array as da, numpy as np
        import celu_numba as cn

        def main():
            rng = np.random.default_rng(5)
            x = rng.uniform(-8, 4, 200_000)
            alpha = 10.0 ** rng.uniform(-1, 1, 200_000)
            g = rng.standard_normal(200_000)
            dx = da.from_array(x, chunks=50_000)
            dalpha = da.from_array(alpha, chunks=70_000)
            dg = da.from_array(g, chunks=40_000)
            lazy = [cn.celu(dx, dalpha), cn.celu_grad(dx), cn.celu_grad_alpha(dx, 0.3),
                    cn.celu_backward(dg, dx, dalpha), cn.celu_backward_from_output(dg, dx, dalpha)]
            want = [cn.celu(x, alpha), cn.celu_grad(x), cn.celu_grad_alpha(x, 0.3),
                    cn.celu_backward(g, x, alpha), cn.celu_backward_from_output(g, x, alpha)]
            got = dask.compute(*lazy, scheduler="processes", num_workers=2)
            for k, (a, b) in enumerate(zip(got, want)):
                assert a.tobytes() == b.tobytes(), k
            print("ALL OK")

        if __name__ == "__main__":
            main()
    """, timeout=420)
    assert "ALL OK" in out


@needs_dask
def test_distributed_local_cluster(tmp_path):
    pytest.importorskip("distributed", reason="distributed is not installed")
    run_script(tmp_path, """
        import os
        import numpy as np
        import dask.array as da
        from distributed import Client, LocalCluster
        import celu_numba as cn

        def main():
            rng = np.random.default_rng(6)
            x = rng.uniform(-8, 4, 300_000)
            alpha = 10.0 ** rng.uniform(-1, 1, 300_000)
            with LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                # warming the workers (the docs' recipe): each reports its cache directory
                directories = client.run(cn.compile, ["celu", "celu_grad"], ["float64"])
                assert len(directories) == 2 and all(os.path.isdir(d) for d in directories.values())
                # dask arrays computed on the workers
                lazy = cn.celu(da.from_array(x, chunks=100_000), da.from_array(alpha, chunks=60_000))
                got = client.compute(lazy).result(timeout=300)
                assert got.tobytes() == cn.celu(x, alpha).tobytes()
                # the public objects and the raw ufuncs shipped as tasks (pickled by name)
                for f in [cn.celu, cn.celu_grad, cn.celu_grad_alpha, cn.celu.ufunc]:
                    r = client.submit(f, x, alpha).result(timeout=300)
                    assert r.tobytes() == f(x, alpha).tobytes(), f
                parts = client.map(cn.celu_and_grads, [x[:1000], x[1000:], x[:5]], [0.5, 2.0, 1.0])
                for part, (xs, a) in zip(client.gather(parts), [(x[:1000], 0.5), (x[1000:], 2.0), (x[:5], 1.0)]):
                    for p, w in zip(part, cn.celu_and_grads(xs, a)):
                        assert p.tobytes() == w.tobytes()
                g = rng.standard_normal(300_000)
                r = client.submit(cn.celu_backward_from_output, g, x, alpha).result(timeout=300)
                assert r.tobytes() == cn.celu_backward_from_output(g, x, alpha).tobytes()
            print("ALL OK")

        if __name__ == "__main__":
            main()
    """, timeout=540)


# ----------------------------------------------------------------------------- xarray

try:
    import xarray as xr
except ImportError:  # pragma: no cover - xarray is in the test extra
    xr = None
needs_xarray = pytest.mark.skipif(xr is None, reason="xarray is not installed")


def _data_array(shape=(3, 50), seed=7):
    rng = np.random.default_rng(seed)
    return xr.DataArray(
        rng.uniform(-6, 3, shape),
        dims=("channel", "time"),
        coords={"channel": ["a", "b", "c"][: shape[0]], "time": np.arange(shape[1]) * 0.1,
                "label": ("time", [f"t{i}" for i in range(shape[1])])},
        attrs={"units": "V"},
        name="signal",
    )


@pytest.mark.parametrize("name", NAMES)
@needs_xarray
def test_xarray_dataarray(name):
    x = _data_array()
    lead = [x * 0 + 1.5] if nin(name) == 3 else []
    for alpha_args in [(), (0.5,)]:
        result = public(name)(*lead, x, *alpha_args)
        want = public(name)(*[np.asarray(v) for v in lead], x.values, *alpha_args)
        for r, w in zip(as_tuple(result), as_tuple(want)):
            assert isinstance(r, xr.DataArray)
            assert r.dims == x.dims
            assert r.coords.identical(x.coords)
            assert_same_bits(r.values, w)


@needs_xarray
def test_xarray_alpha_broadcast_by_dimension_name():
    x = _data_array()
    alpha = xr.DataArray([0.25, 1.0, 4.0], dims=("channel",), coords={"channel": ["a", "b", "c"]})
    got = celu_numba.celu(x, alpha)
    assert isinstance(got, xr.DataArray) and got.dims == ("channel", "time")
    assert_same_bits(got.values, celu_numba.celu(x.values, alpha.values[:, None]))
    # alpha given along "time" only, transposed x: names, not positions, decide
    alpha_t = xr.DataArray(np.linspace(0.1, 2, 50), dims=("time",))
    got = celu_numba.celu_grad(x.transpose("time", "channel"), alpha_t)
    assert got.dims == ("time", "channel")
    assert_same_bits(got.values, celu_numba.celu_grad(x.values.T, alpha_t.values[:, None]))


@needs_dask
@needs_xarray
def test_xarray_backed_by_dask():
    x = _data_array((3, 400)).chunk({"time": 100})
    got = celu_numba.celu(x, 0.8)
    assert isinstance(got, xr.DataArray) and isinstance(got.data, da.Array)
    assert_same_bits(got.compute().values, celu_numba.celu(x.values, 0.8))


# ----------------------------------------------------------------------------- pickle


@pytest.mark.parametrize("name", NAMES)
def test_pickle_by_reference(name):
    f = public(name)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(f, protocol)) is f
        assert pickle.loads(pickle.dumps(f.ufunc, protocol)) is f.ufunc
    assert copy.copy(f) is f and copy.deepcopy(f) is f
    assert copy.deepcopy(f.ufunc) is f.ufunc
    cloudpickle = pytest.importorskip("cloudpickle")
    assert cloudpickle.loads(cloudpickle.dumps(f)) is f
    assert cloudpickle.loads(cloudpickle.dumps(f.ufunc)) is f.ufunc


def test_unpickle_in_fresh_process(tmp_path):
    blob = pickle.dumps([(public(n), public(n).ufunc) for n in NAMES])
    (tmp_path / "funcs.pkl").write_bytes(blob)
    ops = inputs("celu_backward", 100, seed=8)
    np.save(tmp_path / "ops.npy", np.array(ops))
    wants = [public(n)(*ops[-nin(n):]) for n in NAMES]
    (tmp_path / "wants.pkl").write_bytes(pickle.dumps(wants))
    run_script(tmp_path, """
        import pickle, sys
        import numpy as np
        assert "celu_numba" not in sys.modules
        funcs = pickle.loads(open("funcs.pkl", "rb").read())
        ops = list(np.load("ops.npy"))
        wants = pickle.loads(open("wants.pkl", "rb").read())
        import celu_numba
        for (f, u), want in zip(funcs, wants):
            assert f is getattr(celu_numba, f.__name__) and u is f.ufunc
            args = ops[-f.nin:]
            for got in (f(*args), u(*args)):
                got = got if isinstance(got, tuple) else (got,)
                want_t = want if isinstance(want, tuple) else (want,)
                assert all(g.tobytes() == w.tobytes() for g, w in zip(got, want_t)), f
        print("ALL OK")
    """, timeout=300)


# ------------------------------------------------------------------------------- fork


def test_fork_after_multithreaded_call(tmp_path):
    """A fork child of a process whose numba threads are running computes correctly."""
    run_script(tmp_path, """
        import multiprocessing, os, time
        import numpy as np
        import numba
        from numba.np.ufunc import parallel
        import celu_numba as cn

        rng = np.random.default_rng(9)
        BIG = rng.uniform(-8, 4, 1 << 20)
        SMALL = BIG[:777].copy()
        WANT_BIG = cn.celu(BIG, 0.6)             # a large call: the thread pool is up
        WANT_BIG_GRADS = cn.celu_and_grads(BIG[::3], 1.7)
        WANT_SMALL = cn.celu_grad(SMALL)
        assert parallel._is_initialized

        def task(k):
            if k % 3 == 0:
                return cn.celu(BIG, 0.6).tobytes() == WANT_BIG.tobytes()
            if k % 3 == 1:
                got = cn.celu_and_grads(BIG[::3], 1.7)
                return all(g.tobytes() == w.tobytes() for g, w in zip(got, WANT_BIG_GRADS))
            return cn.celu_grad(SMALL).tobytes() == WANT_SMALL.tobytes()

        def main():
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(2) as pool:
                results = pool.map_async(task, range(9)).get(timeout=180)
            assert all(results), results

            # a raw os.fork child, checked by its exit status
            pid = os.fork()
            if pid == 0:
                ok = task(0) and task(1) and task(2)
                os._exit(0 if ok else 3)
            deadline = time.monotonic() + 180
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    raise SystemExit("forked child hung")
                time.sleep(0.05)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status

            # the parent still computes in parallel, correctly
            assert cn.celu(BIG, 0.6).tobytes() == WANT_BIG.tobytes()
            print("ALL OK")

        if __name__ == "__main__":
            main()
    """, timeout=400)


# ---------------------------------------------------------------------------- threads


def test_threads_hammer(tmp_path):
    """8 Python threads mixing large (parallel) and small calls: right results, no deadlock."""
    run_script(tmp_path, """
        import concurrent.futures, threading
        import numpy as np
        import numba
        import celu_numba as cn

        rng = np.random.default_rng(10)
        NAMES = ["celu", "celu_grad", "celu_grad_alpha", "celu_backward",
                 "celu_backward_from_output", "celu_and_grads"]
        sizes = [1, 7, 300, 5000, 1 << 15, 1 << 17, 300_000]
        data = {n: (rng.standard_normal(n), rng.uniform(-8, 4, n), 10.0 ** rng.uniform(-1, 1, n))
                for n in sizes}

        def call(name, n, scalar_alpha, strided):
            g, x, a = data[n]
            if strided:
                g, x = g[::-1], x[::-1]
            alpha = 0.7 if scalar_alpha else a
            f = getattr(cn, name)
            args = (g, x, alpha) if f.nin == 3 else (x, alpha)
            r = f(*args)
            return tuple(np.ascontiguousarray(v).tobytes() for v in (r if isinstance(r, tuple) else (r,)))

        jobs = [(name, n, s, t) for name in NAMES for n in sizes for s in (True, False) for t in (False, True)]
        want = {job: call(*job) for job in jobs}       # one after another, in the main thread

        def one_thread(job):
            return call(*job)

        def single_threaded(job):
            before = numba.get_num_threads()
            numba.set_num_threads(1)
            try:
                assert numba.get_num_threads() == 1
                return call(*job)
            finally:
                numba.set_num_threads(before)

        main_threads = numba.get_num_threads()
        order = [jobs[i] for i in np.random.default_rng(11).permutation(len(jobs))] * 3
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = {}
            for i, job in enumerate(order):
                fn = single_threaded if i % 5 == 0 else one_thread
                futures[pool.submit(fn, job)] = job
            done, pending = concurrent.futures.wait(futures, timeout=300)
            assert not pending, f"{len(pending)} calls did not finish"
            for fut in done:
                assert fut.result() == want[futures[fut]], futures[fut]
        assert numba.get_num_threads() == main_threads  # set_num_threads is per thread
        print("ALL OK")
    """, timeout=420)


def test_set_num_threads_one_in_a_thread_runs_serially():
    """numba.set_num_threads(1) in a Python thread keeps that thread's calls off the pool.

    Observed through the driver's busy flag (celu_numba._threads.STATE[0], set while a
    call is split over the pool), polled by a second thread while the call runs with
    the GIL released.
    """
    from celu_numba import _threads

    if numba.get_num_threads() < 2:
        pytest.skip("one CPU thread: there is no pool to stay off")
    x = np.random.default_rng(12).uniform(-8, 4, 1 << 22)
    want = celu_numba.celu(x, 0.9)

    def watch(work):
        seen = [0]
        stop = False

        def poll():
            while not stop:
                seen[0] |= int(_threads.STATE[0])

        poller = concurrent.futures.ThreadPoolExecutor(1)
        polling = poller.submit(poll)
        try:
            with concurrent.futures.ThreadPoolExecutor(1) as worker:
                result = worker.submit(work).result(timeout=120)
        finally:
            stop = True
            polling.result(timeout=30)
            poller.shutdown()
        return result, seen[0]

    def with_pool():
        return [celu_numba.celu(x, 0.9) for _ in range(5)]

    def serial():
        numba.set_num_threads(1)
        return [celu_numba.celu(x, 0.9) for _ in range(5)]

    results, busy = watch(with_pool)
    assert busy == 1  # the control: a default thread does use the pool
    assert all(r.tobytes() == want.tobytes() for r in results)
    results, busy = watch(serial)
    assert busy == 0
    assert all(r.tobytes() == want.tobytes() for r in results)
    assert numba.get_num_threads() > 1  # the main thread's setting is untouched


@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning")  # torch's, not ours
def test_torch_tensors_go_where_their_memory_is():
    """A CPU tensor is computed by the CPU ufunc (torch wraps the result); a CUDA tensor
    (is_cuda) goes to celu_numba.cuda, decided from is_cuda alone (building a tensor's
    __cuda_array_interface__ to answer hasattr cost ~10 us per call)."""
    torch = pytest.importorskip("torch")
    from celu_numba import _api

    x = torch.linspace(-3, 3, 7, dtype=torch.float64)
    got = celu_numba.celu(x, 0.5)
    np.testing.assert_array_equal(np.asarray(got), celu_numba.celu(x.numpy(), 0.5))

    class CudaLooking(torch.Tensor):
        @property
        def is_cuda(self):
            return True

    assert not _api._on_gpu((x, 0.5))
    assert _api._on_gpu((x.as_subclass(CudaLooking), 0.5))
