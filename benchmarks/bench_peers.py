"""celu against its peers on the same data: the NumPy expression, torch's ELU kernel
(aten.elu.out with input_scale 1/alpha, i.e. CELU) and jax.nn.celu; and the peers' bare
exp and expm1.  torch and jax are not dependencies: when one is not importable its
benchmarks are skipped."""

from . import common


class TimePeers:
    params = (common.PEERS, common.DTYPES, (100_000, common.LARGE))
    param_names = ("peer", "dtype", "n")
    timeout = common.TIMEOUT

    def setup(self, peer, dtype, n):
        common.check_parallel_enabled()
        self.call = common.peer_case(peer, n, dtype)
        self.call()

    def time_celu(self, peer, dtype, n):
        self.call()


class TimeExponentials:
    """The peers' bare exp and expm1 (``common.exponential_case``), 10M elements: what
    their vectorized arithmetic alone costs, against which celu and celu_grad's time over
    the copy reference can be read (ratios.py prints both in one run)."""

    params = (common.EXPONENTIALS, common.DTYPES)
    param_names = ("exponential", "dtype")
    timeout = common.TIMEOUT

    def setup(self, name, dtype):
        common.check_parallel_enabled()
        self.fn, self.args = common.exponential_case(name, common.LARGE, dtype)
        self.fn(*self.args)

    def time_exponential(self, name, dtype):
        self.fn(*self.args)
