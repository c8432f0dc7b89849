"""celu against its peers on the same data: the NumPy expression, torch's ELU kernel
(aten.elu.out with input_scale 1/alpha, i.e. CELU) and jax.nn.celu.  torch and jax are
not dependencies: when one is not importable its benchmarks are skipped."""

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
