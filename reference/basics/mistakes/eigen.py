"""Catalogued mistakes for Exercise 1 (``eigen``): ``matrix_from_eigendecomposition``.

Each variant is what a student actually wrote instead of ``Q diag(lambda) Q^T`` with
the eigenvectors as the columns of Q. Note for the checks: for a symmetric Q the
variants ``eigenvectors_as_rows`` and ``transpose_missing`` give the right matrix. The
sheet's Q is symmetric, and so is every 2x2 Q that ``torch.linalg.qr`` returns (a
single Householder reflection); draw n >= 3, or flip the sign of one column of a 2x2 Q
to make it a rotation.
"""

import torch

from grader.catalogue import Mistake


def _eigenvectors_as_rows(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> torch.Tensor:
    # Q^T diag(lambda) Q: the eigenvectors are taken to be the rows of the matrix.
    return eigenvectors.T @ torch.diag(eigenvalues) @ eigenvectors


def _eigenvalues_ignored(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> torch.Tensor:
    # The sheet's "A = QQ^T" taken literally: always the identity for orthonormal Q.
    return eigenvectors @ eigenvectors.T


def _rows_scaled(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> torch.Tensor:
    # diag(lambda) Q Q^T = diag(lambda): the same as returning torch.diag(eigenvalues).
    return (eigenvectors * eigenvalues[:, None]) @ eigenvectors.T


def _transpose_missing(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> torch.Tensor:
    # Q diag(lambda) Q: the final transpose forgotten.
    return eigenvectors @ torch.diag(eigenvalues) @ eigenvectors


def _diag_missing(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> torch.Tensor:
    # Q @ lambda is a matrix-vector product, so the result is a vector of shape (n,).
    return eigenvectors @ eigenvalues @ eigenvectors.T


MISTAKES: list[Mistake] = [
    Mistake(
        id="eigenvectors_as_rows",
        function="matrix_from_eigendecomposition",
        hint=(
            "Your result matches Q^T diag(lambda) Q, which treats the eigenvectors as the rows "
            "of the matrix; here they are its columns (eigenvectors[:, i] is v_i), so the "
            "transposes belong the other way round."
        ),
        impl=_eigenvectors_as_rows,
    ),
    Mistake(
        id="eigenvalues_ignored",
        function="matrix_from_eigendecomposition",
        hint=(
            "Your result matches Q Q^T, which is the identity for orthonormal Q: the sheet's "
            "'A = QQ^T' leaves out the eigenvalues, and the decomposition is Q Lambda Q^T."
        ),
        impl=_eigenvalues_ignored,
    ),
    Mistake(
        id="rows_scaled",
        function="matrix_from_eigendecomposition",
        hint=(
            "Your result is just diag(lambda): the eigenvectors cancelled out. That happens when "
            "the eigenvalues scale the rows of Q (lam[:, None]) instead of its columns; lambda_i "
            "belongs to column i, the eigenvector v_i."
        ),
        impl=_rows_scaled,
    ),
    Mistake(
        id="transpose_missing",
        function="matrix_from_eigendecomposition",
        hint=(
            "Your result matches Q diag(lambda) Q, without a transpose on the last factor; "
            "check that A v_i = lambda_i v_i for a column v_i of Q."
        ),
        impl=_transpose_missing,
    ),
    Mistake(
        id="diag_missing",
        function="matrix_from_eigendecomposition",
        hint=(
            "Your result is a vector, not an (n, n) matrix: multiplying by the 1-D tensor of "
            "eigenvalues is a matrix-vector product. Turn the eigenvalues into a diagonal matrix "
            "(or scale the columns of Q) first."
        ),
        impl=_diag_missing,
    ),
]
