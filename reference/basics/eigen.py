"""Reference solution, Exercise 1 - Eigenvalues and Eigenvectors.

A symmetric matrix with orthonormal eigenvectors q_i (the columns of Q) and eigenvalues
lambda_i is A = Q diag(lambda) Q^T = sum_i lambda_i q_i q_i^T. (The sheet writes
"A = QQ^T" and means Q Lambda Q^T.) For the sheet's example this is
[[1.5, -0.5], [-0.5, 1.5]].
"""

import math

import torch


def matrix_from_eigendecomposition(
    eigenvalues: torch.Tensor, eigenvectors: torch.Tensor
) -> torch.Tensor:
    """Return ``Q diag(eigenvalues) Q^T`` for ``Q = eigenvectors``.

    Args:
        eigenvalues: shape ``(n,)``.
        eigenvectors: shape ``(n, n)``, orthonormal, one eigenvector per column.

    Returns:
        The symmetric ``(n, n)`` matrix A with ``A q_i = lambda_i q_i``.
    """
    # Broadcasting over the last dimension scales column i of Q by lambda_i: Q diag(lambda).
    return (eigenvectors * eigenvalues) @ eigenvectors.T


if __name__ == "__main__":
    s = math.sqrt(0.5)
    print(matrix_from_eigendecomposition(torch.tensor([1.0, 2.0]), torch.tensor([[s, s], [s, -s]])))
