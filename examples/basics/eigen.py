"""Exercise 1 - Eigenvalues and Eigenvectors.

From the exercise sheet:

    You are given the following set of eigenvalues and eigenvectors. Compute the
    corresponding matrix.

        lambda_1 = 1, lambda_2 = 2,
        v_1 = (sqrt(0.5), sqrt(0.5))^T, v_2 = (sqrt(0.5), -sqrt(0.5))^T.

    First, remember that the normalized eigenvectors of a symmetric matrix are orthogonal.

A note on the sheet's solution: it writes the spectral decomposition of a symmetric
matrix as "A = QQ^T", where Q holds one unit-length eigenvector per column. The
eigenvalues are missing there; what is meant is A = Q Lambda Q^T with
Lambda = diag(lambda_1, ..., lambda_n).

Compute the sheet's 2x2 matrix by hand and write it in ``answers.yaml`` (key
``eigen_matrix``), then implement the general case below. Run ``python3 eigen.py`` to
try your function on the sheet's example.
"""

import math

import torch


def matrix_from_eigendecomposition(
    eigenvalues: torch.Tensor, eigenvectors: torch.Tensor
) -> torch.Tensor:
    """Return the symmetric matrix with the given eigenvalues and eigenvectors.

    Args:
        eigenvalues: shape ``(n,)``; ``eigenvalues[i]`` is lambda_i.
        eigenvectors: shape ``(n, n)``, orthonormal; **column** ``i``
            (``eigenvectors[:, i]``) is the unit eigenvector v_i belonging to lambda_i.

    Returns:
        The matrix A of shape ``(n, n)``, same dtype as the inputs, with
        ``A @ eigenvectors[:, i] == eigenvalues[i] * eigenvectors[:, i]`` for every i.
        A is symmetric.
    """
    Q = eigenvectors
    Lam = torch.diag(eigenvalues)
    # A = Q Lambda Q^T (the sheet forgot the Lambda)
    A = Q @ Lam @ Q.T
    return A


if __name__ == "__main__":
    # The sheet's example; the columns of `eigenvectors` are v_1 and v_2.
    eigenvalues = torch.tensor([1.0, 2.0])
    s = math.sqrt(0.5)
    eigenvectors = torch.tensor([[s, s], [s, -s]])
    try:
        A = matrix_from_eigendecomposition(eigenvalues, eigenvectors)
    except NotImplementedError:
        print(
            "matrix_from_eigendecomposition is not implemented yet: "
            "fill in the TODO in eigen.py."
        )
    else:
        print("A =")
        print(A)
        for i in range(len(eigenvalues)):
            v = eigenvectors[:, i]
            print(f"A v_{i + 1} = {(A @ v).tolist()}")
            print(f"lambda_{i + 1} v_{i + 1} = {(eigenvalues[i] * v).tolist()}")
        print("A is symmetric:", torch.allclose(A, A.T))
