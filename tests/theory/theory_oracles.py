"""Independent dense oracles (plain numpy, explicit loops) shared by the theory tests."""

import numpy as np


def dense_residual_jacobian(J):
    """J = I − N built block by block: I on the diagonal, −J_t at block (t, t−1), t = 2..T."""
    T, D, _ = J.shape
    M = np.eye(T * D)
    for t in range(1, T):
        M[t * D:(t + 1) * D, (t - 1) * D:t * D] = -J[t]
    return M


def exact_ab(J, lam):
    """Eq. (10) constants by brute force over every window inside J_2 … J_T."""
    Js = J[1:]
    ratios = [1.0]
    for i in range(len(Js)):
        P = np.eye(J.shape[-1])
        for k in range(1, len(Js) - i + 1):
            P = Js[i + k - 1] @ P
            ratios.append(np.linalg.norm(P, 2) * np.exp(-lam * k))
    return max(ratios), min(ratios)


def window_max(J):
    """g(k) = max over windows of length k (inside J_2 … J_T) of the product norm; g(0) = 1."""
    Js = J[1:]
    g = np.zeros(J.shape[0])
    g[0] = 1.0
    for i in range(len(Js)):
        P = np.eye(J.shape[-1])
        for k in range(1, len(Js) - i + 1):
            P = Js[i + k - 1] @ P
            g[k] = max(g[k], np.linalg.norm(P, 2))
    return g
