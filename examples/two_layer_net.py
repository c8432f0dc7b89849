"""A two-layer network written by hand: forward and backward with CELU, checked and trained.

    h = x W1 + b1;   a = celu(h, alpha);   out = a W2 + b2;   L = mean((out - y)^2) / 2

Forward: ``celu_and_grads(h, alpha)`` gives a, da/dh and da/dalpha in one pass.
Backward: ``celu_backward(dL/da, h, alpha)`` gives dL/dh = dL/da * da/dh in one pass
(``celu_backward_from_output`` gives the same from a instead of h, with no exp), and
dL/dalpha = sum(dL/da * da/dalpha): alpha is learned with the weights.

The analytic gradient of every parameter, alpha included, is checked against central
finite differences before training.

Run: python examples/two_layer_net.py
"""

import numpy as np

from celu_numba import celu, celu_and_grads, celu_backward, celu_backward_from_output

Params = dict[str, np.ndarray]

N, D_IN, HIDDEN = 512, 3, 32
STEPS = 400
LEARNING_RATE = 0.1
FD_EPS = 1e-6
FD_TOLERANCE = 1e-6


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth target: y = sin(x0) + x1 * x2 / 2, x standard normal."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D_IN))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]
    return x, y


def init_params(seed: int = 1) -> Params:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((D_IN, HIDDEN)) / np.sqrt(D_IN),
        "b1": np.zeros(HIDDEN),
        "alpha": np.array(1.0),
        "W2": rng.standard_normal((HIDDEN, 1)) / np.sqrt(HIDDEN),
        "b2": np.zeros(1),
    }


def loss_only(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    a = celu(x @ params["W1"] + params["b1"], params["alpha"])
    out = a @ params["W2"] + params["b2"]
    return float(0.5 * np.mean((out - y) ** 2))


def loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """The loss and its gradient with respect to every parameter (forward + backward)."""
    alpha = params["alpha"]
    # forward
    h = x @ params["W1"] + params["b1"]
    a, da_dh, da_dalpha = celu_and_grads(h, alpha)
    out = a @ params["W2"] + params["b2"]
    residual = out - y
    loss = float(0.5 * np.mean(residual**2))
    # backward
    d_out = residual / y.size
    d_a = d_out @ params["W2"].T
    d_h = celu_backward(d_a, h, alpha)
    # the same dL/dh three ways: fused from h, fused from the output a, by hand
    assert np.allclose(d_h, celu_backward_from_output(d_a, a, alpha), rtol=1e-12, atol=1e-18)
    assert np.allclose(d_h, d_a * da_dh, rtol=1e-15, atol=0)
    grads = {
        "W1": x.T @ d_h,
        "b1": d_h.sum(axis=0),
        "alpha": np.array(np.sum(d_a * da_dalpha)),
        "W2": a.T @ d_out,
        "b2": d_out.sum(axis=0),
    }
    return loss, grads


def gradient_check(params: Params, x: np.ndarray, y: np.ndarray, per_param: int = 6) -> float:
    """Worst relative difference between analytic and central-difference gradients."""
    _, grads = loss_and_grads(params, x, y)
    rng = np.random.default_rng(2)
    worst = 0.0
    for name, value in params.items():
        flat = value.reshape(-1)  # a view: editing it edits the parameter
        picks = rng.choice(flat.size, size=min(per_param, flat.size), replace=False)
        errors = []
        for i in picks:
            saved = flat[i]
            flat[i] = saved + FD_EPS
            up = loss_only(params, x, y)
            flat[i] = saved - FD_EPS
            down = loss_only(params, x, y)
            flat[i] = saved
            numeric = (up - down) / (2 * FD_EPS)
            analytic = grads[name].reshape(-1)[i]
            errors.append(abs(numeric - analytic) / max(abs(numeric) + abs(analytic), 1e-8))
        print(f"  {name:<5}  {len(picks)} entries  max relative error {max(errors):.2e}")
        worst = max(worst, max(errors))
    return worst


def main() -> tuple[float, float, float]:
    x, y = make_data()
    params = init_params()
    print(f"two-layer CELU network: {D_IN} -> {HIDDEN} -> 1, {N} samples, alpha learned")
    print("gradient check against central finite differences:")
    worst = gradient_check(params, x, y)
    if worst < FD_TOLERANCE:
        print(f"gradient check passed: max relative error {worst:.2e} < {FD_TOLERANCE:g}")
    else:
        print(f"gradient check FAILED: max relative error {worst:.2e} >= {FD_TOLERANCE:g}")
        raise SystemExit(1)

    first = loss_only(params, x, y)
    print(f"{'step':>5}  {'loss':>10}  {'alpha':>7}")
    for step in range(STEPS + 1):
        loss, grads = loss_and_grads(params, x, y)
        if step % 50 == 0:
            print(f"{step:>5}  {loss:>10.6f}  {float(params['alpha']):>7.4f}")
        for name in params:
            params[name] = params[name] - LEARNING_RATE * grads[name]
        params["alpha"] = np.maximum(params["alpha"], 1e-3)  # keep alpha > 0
    print(f"trained: loss {first:.6f} -> {loss:.6f}, alpha {float(params['alpha']):.4f}")
    return worst, first, loss


if __name__ == "__main__":
    main()
