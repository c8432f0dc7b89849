"""Learn CELU's alpha by gradient descent, in NumPy only, with ``celu_grad_alpha``.

The data come from a CELU with alpha = 2.5 plus a little noise; the model is
``celu(x, alpha)`` with alpha starting at 0.5.  The loss is the mean squared error

    L(alpha) = mean((celu(x, alpha) - y)^2)
    dL/dalpha = mean(2 (celu(x, alpha) - y) * dcelu/dalpha(x, alpha))

with dcelu/dalpha from ``celu_grad_alpha`` (``celu_and_grads`` gives both in one
pass; the example checks that they agree).  alpha is
updated on a log scale (alpha = exp(s), dL/ds = alpha dL/dalpha), which keeps it
positive and makes the step size independent of alpha's magnitude.

Run: python examples/learn_alpha.py
"""

import numpy as np

from celu_numba import celu, celu_and_grads, celu_grad_alpha

TRUE_ALPHA = 2.5
START_ALPHA = 0.5
STEPS = 120
LEARNING_RATE = 0.05
NOISE = 0.05


def make_data(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [-8, 3]; y = celu(x, 2.5) + Gaussian noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-8.0, 3.0, n)
    return x, celu(x, TRUE_ALPHA) + NOISE * rng.standard_normal(n)


def loss_and_grad(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, float]:
    """(L(alpha), dL/dalpha) for the mean squared error."""
    residual = celu(x, alpha) - y
    return float(np.mean(residual**2)), float(np.mean(2.0 * residual * celu_grad_alpha(x, alpha)))


def main() -> float:
    x, y = make_data()
    log_alpha = np.log(START_ALPHA)
    print(f"fitting alpha: true {TRUE_ALPHA}, start {START_ALPHA}, {x.size} points, noise {NOISE}")
    print(f"{'step':>5}  {'loss':>12}  {'alpha':>8}")
    for step in range(STEPS + 1):
        alpha = float(np.exp(log_alpha))
        loss, grad = loss_and_grad(x, y, alpha)
        if step % 10 == 0:
            print(f"{step:>5}  {loss:>12.6f}  {alpha:>8.4f}")
        log_alpha -= LEARNING_RATE * alpha * grad  # chain rule: dL/dlog(alpha) = alpha dL/dalpha

    # the same gradient from celu_and_grads, which computes value and gradients in one pass
    value, _, grad_alpha = celu_and_grads(x, alpha)
    fused = float(np.mean(2.0 * (value - y) * grad_alpha))
    assert np.isclose(fused, grad, rtol=1e-12, atol=1e-15), (fused, grad)
    print(f"final alpha = {alpha:.4f} (true {TRUE_ALPHA}), loss = {loss:.6f} (noise variance {NOISE**2:.6f})")
    return alpha


if __name__ == "__main__":
    main()
