"""Figure 1 of Barron (2017): ELU (top) and CELU (bottom), values and d/dx, for several alphas.

    ELU(x, a)  = x (x >= 0),  a (exp(x) - 1) (x < 0);    dELU/dx  = 1 or a exp(x)
    CELU(x, a) = x (x >= 0),  a (exp(x/a) - 1) (x < 0);  dCELU/dx = 1 or exp(x/a)

ELU's derivative jumps at x = 0 from a to 1 unless a == 1; CELU's is continuous
for every a.  Drawn with matplotlib's Agg backend on a Figure object (pyplot's
global state is not touched); matplotlib is the optional extra ``[plot]``.
"""

import numpy as np

import celu_numba

ALPHAS = (0.5, 1.0, 2.0, 3.0)
X_RANGE = (-4.0, 3.0)


def elu(x, alpha):
    """ELU(x, a) = x (x >= 0), a * (exp(x) - 1) (x < 0)."""
    return np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_grad(x, alpha):
    """dELU/dx = 1 (x >= 0), a * exp(x) (x < 0)."""
    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "plotting needs matplotlib: pip install 'celu-numba[plot]' (or pip install matplotlib)"
        ) from error


def figure(alphas=ALPHAS, x_range=X_RANGE, points=801):
    """The figure (a matplotlib Figure with an Agg canvas): 2 rows (ELU, CELU) x (value, d/dx)."""
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    alphas = np.asarray(alphas, dtype=np.float64)
    left = np.linspace(x_range[0], 0.0, points // 2)[:-1]  # x < 0
    right = np.linspace(0.0, x_range[1], points // 2)  # x >= 0
    x = np.concatenate([left, right])
    # a NaN between the branches, so a jump is drawn as a jump, not a vertical line
    x_gap = np.concatenate([left, [np.nan], right])

    fig = Figure(figsize=(10, 7.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2, sharex=True)
    colors = [_color(i, len(alphas)) for i in range(len(alphas))]
    rows = (
        ("ELU", elu, elu_grad),
        ("CELU", celu_numba.celu, celu_numba.celu_grad),
    )
    for (name, value, grad), (ax_value, ax_grad) in zip(rows, axes):
        for alpha, color in zip(alphas, colors):
            label = f"α = {alpha:g}"
            ax_value.plot(x, value(x, alpha), color=color, lw=2, label=label)
            ax_grad.plot(x_gap, grad(x_gap, alpha), color=color, lw=2, label=label)
            left_limit = float(grad(np.array([-1e-12]), alpha)[0])
            at_zero = float(grad(np.array([0.0]), alpha)[0])
            if abs(left_limit - at_zero) > 1e-6:  # a jump: open circle, then the value at 0
                ax_grad.plot([0], [left_limit], "o", mfc="white", mec=color, ms=7, zorder=3)
                ax_grad.plot([0], [at_zero], "o", color=color, ms=5, zorder=3)
        ax_value.set_title(f"{name}(x, α)")
        ax_grad.set_title(f"d{name}(x, α) / dx")
        ax_value.set_ylabel(name)
        ax_grad.set_ylabel(f"d{name}/dx")
        for ax in (ax_value, ax_grad):
            ax.axhline(0, color="0.6", lw=0.8)
            ax.axvline(0, color="0.6", lw=0.8)
            ax.grid(True, alpha=0.3)
        ax_value.legend(loc="upper left", frameon=False)
    axes[0, 0].set_ylim(-3.3, 3.1)
    axes[1, 0].set_ylim(-3.3, 3.1)
    top = max(1.0, float(alphas.max())) * 1.1
    axes[0, 1].set_ylim(-0.1, top)
    axes[1, 1].set_ylim(-0.1, top)
    axes[0, 1].text(
        0.03, 0.95, "jumps at 0 unless α = 1\n(open circle: limit from the left)",
        transform=axes[0, 1].transAxes, va="top", fontsize=9,
    )
    axes[1, 1].text(
        0.03, 0.95, "continuous at 0 for every α\n(0 ≤ dCELU/dx ≤ 1)",
        transform=axes[1, 1].transAxes, va="top", fontsize=9,
    )
    for ax in axes[1]:
        ax.set_xlabel("x")
    fig.suptitle("ELU (top) is not continuously differentiable; CELU (bottom) is  (Barron 2017, Fig. 1)")
    return fig


def _color(i, n):
    from matplotlib import colormaps

    return colormaps["viridis"](0.85 * i / max(n - 1, 1))


def save(path, alphas=ALPHAS, dpi=120):
    """Write the figure to ``path`` (format from its extension: png, pdf, svg, ...)."""
    fig = figure(alphas)
    fig.savefig(path, dpi=dpi)
    return path
