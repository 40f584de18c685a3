"""Catalogued mistakes for Exercise 1 (``transposed_conv``): ``conv1d_matrix`` and
``conv_transpose1d``.

The variants are written with loops, the way students usually write them. Most of them
agree with the reference on special inputs only, so the checks need: a filter that is not
a palindrome (the ``flipped_filter`` variants), stride >= 2 (the ``stride_ignored``
variants, ``matrix_rows_shifted_by_one``), a filter longer than the stride so that copies
overlap (``transpose_overlaps_overwritten``) and a filter length different from the
stride (``transpose_output_length_m_times_stride`` cuts the tail when k > stride, pads
zeros when k < stride, and is right when k == stride). ``matrix_n_out_without_plus_one``
always loses a row.
"""

import torch

from grader.catalogue import Mistake


def _conv_matrix(w: torch.Tensor, n_cols: int, n_rows: int, step: int) -> torch.Tensor:
    """An (n_rows, n_cols) matrix whose row i holds w from column step * i on."""
    k = len(w)
    A = torch.zeros(n_rows, n_cols, dtype=w.dtype)
    for i in range(n_rows):
        A[i, step * i : step * i + k] = w
    return A


def _n_out(n: int, k: int, stride: int, padding: int) -> int:
    return (n + 2 * padding - k) // stride + 1


def _matrix_flipped_filter(
    w: torch.Tensor, n: int, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # The textbook convolution sum_m w[m] x[i - m]: the filter reversed in every row.
    return _conv_matrix(w.flip(0), n + 2 * padding, _n_out(n, len(w), stride, padding), stride)


def _matrix_stride_ignored(
    w: torch.Tensor, n: int, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # The stride-1 matrix A_1 of the sheet, without the downsampling D.
    return _conv_matrix(w, n + 2 * padding, _n_out(n, len(w), 1, padding), 1)


def _matrix_rows_shifted_by_one(
    w: torch.Tensor, n: int, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    # The right number of rows for the stride, but each row starts one column further.
    return _conv_matrix(w, n + 2 * padding, _n_out(n, len(w), stride, padding), 1)


def _matrix_n_out_without_plus_one(
    w: torch.Tensor, n: int, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    n_rows = (n + 2 * padding - len(w)) // stride
    return _conv_matrix(w, n + 2 * padding, n_rows, stride)


def _transposed(z: torch.Tensor, w: torch.Tensor, stride: int, length: int) -> torch.Tensor:
    """z[i] * w added at stride * i, into an output of the given length (cut if shorter)."""
    k = len(w)
    out = torch.zeros(max(length, (len(z) - 1) * stride + k), dtype=torch.result_type(z, w))
    for i in range(len(z)):
        out[stride * i : stride * i + k] += z[i] * w
    return out[:length]


def _transpose_flipped_filter(z: torch.Tensor, w: torch.Tensor, stride: int = 1) -> torch.Tensor:
    return _transposed(z, w.flip(0), stride, (len(z) - 1) * stride + len(w))


def _transpose_output_length_m_times_stride(
    z: torch.Tensor, w: torch.Tensor, stride: int = 1
) -> torch.Tensor:
    # "Upsampling by the stride" taken literally: len(z) * stride outputs.
    return _transposed(z, w, stride, len(z) * stride)


def _transpose_overlaps_overwritten(
    z: torch.Tensor, w: torch.Tensor, stride: int = 1
) -> torch.Tensor:
    k = len(w)
    out = torch.zeros((len(z) - 1) * stride + k, dtype=torch.result_type(z, w))
    for i in range(len(z)):
        out[stride * i : stride * i + k] = z[i] * w  # = instead of +=: the later copy wins
    return out


def _transpose_stride_ignored(z: torch.Tensor, w: torch.Tensor, stride: int = 1) -> torch.Tensor:
    return _transposed(z, w, 1, len(z) - 1 + len(w))


MISTAKES: list[Mistake] = [
    Mistake(
        id="matrix_flipped_filter",
        function="conv1d_matrix",
        hint=(
            "Your rows hold the filter reversed (w[2], w[1], w[0]); a convolutional layer "
            "computes a cross-correlation, y[i] = sum_m w[m] x~[stride*i + m], so w appears in "
            "each row in its own order."
        ),
        impl=_matrix_flipped_filter,
    ),
    Mistake(
        id="matrix_stride_ignored",
        function="conv1d_matrix",
        hint=(
            "Your matrix is the stride-1 matrix A_1, one row per filter position; with stride s "
            "only every s-th of those rows is kept (A = D A_1), so row i starts at column s*i."
        ),
        impl=_matrix_stride_ignored,
    ),
    Mistake(
        id="matrix_rows_shifted_by_one",
        function="conv1d_matrix",
        hint=(
            "Your matrix has the right shape, but each row starts only one column after the "
            "previous one; with stride s the filter for output i starts at column s*i."
        ),
        impl=_matrix_rows_shifted_by_one,
    ),
    Mistake(
        id="matrix_n_out_without_plus_one",
        function="conv1d_matrix",
        hint=(
            "Your matrix is missing its last row: the number of filter positions is "
            "(n + 2*padding - k) // stride + 1, because the first position counts too."
        ),
        impl=_matrix_n_out_without_plus_one,
    ),
    Mistake(
        id="transpose_flipped_filter",
        function="conv_transpose1d",
        hint=(
            "Your output matches the filter reversed; each input z[i] adds the copy "
            "z[i] * (w[0], w[1], ..., w[k-1]) in that order, starting at position stride*i "
            "(compare with the columns of A^T)."
        ),
        impl=_transpose_flipped_filter,
    ),
    Mistake(
        id="transpose_output_length_m_times_stride",
        function="conv_transpose1d",
        hint=(
            "Your output has len(z) * stride entries; the last copy of the filter starts at "
            "(len(z) - 1) * stride and is k long, so the output has (len(z) - 1) * stride + k."
        ),
        impl=_transpose_output_length_m_times_stride,
    ),
    Mistake(
        id="transpose_overlaps_overwritten",
        function="conv_transpose1d",
        hint=(
            "Where two copies of the filter overlap your output keeps only the later one; the "
            "overlapping contributions are summed (w[2] z[0] + w[0] z[1] in the sheet), so add "
            "with += instead of assigning."
        ),
        impl=_transpose_overlaps_overwritten,
    ),
    Mistake(
        id="transpose_stride_ignored",
        function="conv_transpose1d",
        hint=(
            "Your output is the one for stride 1 whatever the stride: with stride s the copy of "
            "the filter for z[i] starts at position s*i (zeros inserted between the inputs)."
        ),
        impl=_transpose_stride_ignored,
    ),
]
