"""celu on each memory layout: contiguous, strided view x[::2], reversed view x[::-1],
an alpha array of x's shape, a per-channel alpha of shape (C, 1) (see common.layout_case)."""

from . import common


class TimeLayouts:
    params = (common.LAYOUTS, common.DTYPES, (common.LARGE,))
    param_names = ("layout", "dtype", "n")
    timeout = common.TIMEOUT

    def setup(self, layout, dtype, n):
        common.check_parallel_enabled()
        self.x, self.alpha, self.out = common.layout_case(layout, n, dtype)
        self.f = common.function("celu")
        self.f(self.x, self.alpha, out=self.out)

    def time_celu(self, layout, dtype, n):
        self.f(self.x, self.alpha, out=self.out)
