"""Shape and assembly ops: reshape, transposes, stacking and splitting, tiling, flips, rolls,
padding, and np.array of lists."""
# ruff: noqa: F821  (templates name the runtime helpers that generated code binds)

import numpy as np

from .registry import adjoint, d, nondiff, present, tangent


@adjoint(np.reshape)
def reshape(y, a, shape=None, order="C"):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.reshape)
def reshape_t(y, a, shape=None, order="C"):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.ravel)
def ravel(y, a, order="C"):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.ravel)
def ravel_t(y, a, order="C"):
    d[y] = np.ravel(d[a])


@adjoint(np.transpose)
def transpose(y, a, axes=None):
    d[a] = transpose_grad(d[y], axes)


@tangent(np.transpose)
def transpose_t(y, a, axes=None):
    d[y] = np.transpose(d[a], axes)


@adjoint(np.squeeze)
def squeeze(y, a, axis=None):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.squeeze)
def squeeze_t(y, a, axis=None):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.expand_dims)
def expand_dims(y, a, axis):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(np.expand_dims)
def expand_dims_t(y, a, axis):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.copy)
def copy(y, a, order="K", subok=False):
    d[a] = d[y]


@tangent(np.copy)
def copy_t(y, a, order="K", subok=False):
    d[y] = d[a]


@adjoint(np.stack)
def stack(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[arrays] = unstack(d[y], len(arrays), axis)


@tangent(np.stack)
def stack_t(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[y] = np.stack(d[arrays], axis=axis)


@adjoint(np.array, np.asarray)
def array(y, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, like=None):
    d[object] = array_grad(d[y], object)


@tangent(np.array, np.asarray)
def array_t(y, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, like=None):
    d[y] = np.array(d[object])


@adjoint(np.concatenate)
def concatenate(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[arrays] = concatenate_grad(d[y], arrays, axis)


@tangent(np.concatenate)
def concatenate_t(y, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    d[y] = np.concatenate(d[arrays], axis=axis)


@adjoint(np.swapaxes)
def swapaxes(y, a, axis1, axis2):
    d[a] = np.swapaxes(d[y], axis1, axis2)


@tangent(np.swapaxes)
def swapaxes_t(y, a, axis1, axis2):
    d[y] = np.swapaxes(d[a], axis1, axis2)


@adjoint(np.moveaxis)
def moveaxis(y, a, source, destination):
    d[a] = np.moveaxis(d[y], destination, source)


@tangent(np.moveaxis)
def moveaxis_t(y, a, source, destination):
    d[y] = np.moveaxis(d[a], source, destination)


@adjoint(np.rollaxis)
def rollaxis(y, a, axis, start=0):
    d[a] = rollaxis_grad(d[y], a, axis, start)


@tangent(np.rollaxis)
def rollaxis_t(y, a, axis, start=0):
    d[y] = np.rollaxis(d[a], axis, start)


@adjoint(
    np.atleast_1d,
    np.atleast_2d,
    np.atleast_3d,
    np.ascontiguousarray,
    np.asfortranarray,
    np.asanyarray,
    notes="one array argument",
)
def atleast_1d(y, a):
    d[a] = np.reshape(d[y], np.shape(a))


@tangent(
    np.atleast_1d,
    np.atleast_2d,
    np.atleast_3d,
    np.ascontiguousarray,
    np.asfortranarray,
    np.asanyarray,
)
def atleast_1d_t(y, a):
    d[y] = np.reshape(d[a], np.shape(y))


@adjoint(np.broadcast_to)
def broadcast_to(y, array, shape, subok=False):
    d[array] = unbroadcast(d[y], array)


@tangent(np.broadcast_to)
def broadcast_to_t(y, array, shape, subok=False):
    d[y] = np.broadcast_to(d[array], shape)


@adjoint(np.hstack)
def hstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] = hstack_grad(d[y], tup)


@tangent(np.hstack)
def hstack_t(y, tup, dtype=None, casting="same_kind"):
    d[y] = np.hstack(d[tup])


@adjoint(np.vstack)
def vstack(y, tup, dtype=None, casting="same_kind"):
    d[tup] = vstack_grad(d[y], tup)


@tangent(np.vstack)
def vstack_t(y, tup, dtype=None, casting="same_kind"):
    d[y] = np.vstack(d[tup])


@adjoint(np.dstack)
def dstack(y, tup):
    d[tup] = dstack_grad(d[y], tup)


@tangent(np.dstack)
def dstack_t(y, tup):
    d[y] = np.dstack(d[tup])


@adjoint(np.column_stack)
def column_stack(y, tup):
    d[tup] = column_stack_grad(d[y], tup)


@tangent(np.column_stack)
def column_stack_t(y, tup):
    d[y] = np.column_stack(d[tup])


@adjoint(np.split, np.array_split, notes="the pieces may be used or not")
def split(y, ary, indices_or_sections, axis=0):
    d[ary] = unsplit(d[y], y, axis)


@tangent(np.split, np.array_split)
def split_t(y, ary, indices_or_sections, axis=0):
    d[y] = np.array_split(d[ary], indices_or_sections, axis)


@adjoint(np.hsplit)
def hsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], y, int(np.ndim(ary) > 1))


@tangent(np.hsplit)
def hsplit_t(y, ary, indices_or_sections):
    d[y] = np.hsplit(d[ary], indices_or_sections)


@adjoint(np.vsplit)
def vsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], y, 0)


@tangent(np.vsplit)
def vsplit_t(y, ary, indices_or_sections):
    d[y] = np.vsplit(d[ary], indices_or_sections)


@adjoint(np.dsplit)
def dsplit(y, ary, indices_or_sections):
    d[ary] = unsplit(d[y], y, 2)


@tangent(np.dsplit)
def dsplit_t(y, ary, indices_or_sections):
    d[y] = np.dsplit(d[ary], indices_or_sections)


@adjoint(np.tile)
def tile(y, A, reps):
    d[A] = tile_grad(d[y], A, reps)


@tangent(np.tile)
def tile_t(y, A, reps):
    d[y] = np.tile(d[A], reps)


@adjoint(np.repeat)
def repeat(y, a, repeats, axis=None):
    d[a] = repeat_grad(d[y], a, repeats, axis)


@tangent(np.repeat)
def repeat_t(y, a, repeats, axis=None):
    d[y] = np.repeat(d[a], repeats, axis)


@adjoint(np.flip)
def flip(y, m, axis=None):
    d[m] = np.flip(d[y], axis)


@tangent(np.flip)
def flip_t(y, m, axis=None):
    d[y] = np.flip(d[m], axis)


@adjoint(np.fliplr)
def fliplr(y, m):
    d[m] = np.fliplr(d[y])


@tangent(np.fliplr)
def fliplr_t(y, m):
    d[y] = np.fliplr(d[m])


@adjoint(np.flipud)
def flipud(y, m):
    d[m] = np.flipud(d[y])


@tangent(np.flipud)
def flipud_t(y, m):
    d[y] = np.flipud(d[m])


@adjoint(np.roll)
def roll(y, a, shift, axis=None):
    d[a] = unroll(d[y], shift, axis)


@tangent(np.roll)
def roll_t(y, a, shift, axis=None):
    d[y] = np.roll(d[a], shift, axis)


@adjoint(np.rot90, zero=("k", "axes"))
def rot90(y, m, k=1, axes=(0, 1)):
    d[m] = np.rot90(d[y], -k, axes)


@tangent(np.rot90)
def rot90_t(y, m, k=1, axes=(0, 1)):
    d[y] = np.rot90(d[m], k, axes)


@adjoint(np.pad, notes="modes constant, edge, reflect, symmetric; scalar constant_values")
def pad(y, array, pad_width, mode="constant", constant_values=0):
    d[array] = pad_grad(d[y], array, pad_width, mode)
    d[constant_values] = pad_constant_grad(d[y], array, pad_width)


@tangent(np.pad)
def pad_t(y, array, pad_width, mode="constant", constant_values=0):
    d[y] = np.pad(d[array], pad_width, mode) + d[constant_values] * (
        np.pad(np.zeros_like(array), pad_width, constant_values=1.0)
    )


@adjoint(np.append)
def append(y, arr, values, axis=None):
    d[arr] = append_grad(d[y], arr, values, axis, 0)
    d[values] = append_grad(d[y], arr, values, axis, 1)


@tangent(np.append)
def append_t(y, arr, values, axis=None):
    d[y] = np.append(d[arr], d[values], axis)


@adjoint(np.real_if_close, notes="real inputs")
def real_if_close(y, a, tol=100):
    d[a] = d[y]


@tangent(np.real_if_close)
def real_if_close_t(y, a, tol=100):
    d[y] = d[a]


@adjoint(*present(np, "matrix_transpose"), *present(np.linalg, "matrix_transpose"))
def matrix_transpose(y, x):
    d[x] = np.swapaxes(d[y], -1, -2)


@tangent(*present(np, "matrix_transpose"), *present(np.linalg, "matrix_transpose"))
def matrix_transpose_t(y, x):
    d[y] = np.swapaxes(d[x], -1, -2)


@adjoint(*present(np, "unstack"))
def unstack(y, x, axis=0):
    d[x] = stack_back(d[y], y, axis)


@tangent(*present(np, "unstack"))
def unstack_t(y, x, axis=0):
    d[y] = np.unstack(d[x], axis=axis)


@adjoint(np.resize, notes="repeated entries add up")
def resize(y, a, new_shape):
    d[a] = resize_grad(d[y], a)


@tangent(np.resize)
def resize_t(y, a, new_shape):
    d[y] = np.resize(d[a], new_shape)


@adjoint(np.delete)
def delete(y, arr, obj, axis=None):
    d[arr] = delete_grad(d[y], arr, obj, axis)


@tangent(np.delete)
def delete_t(y, arr, obj, axis=None):
    d[y] = np.delete(d[arr], obj, axis)


nondiff(
    np.shape,
    np.ndim,
    np.size,
    np.argmax,
    np.argmin,
    np.argsort,
    np.nonzero,
    np.zeros,
    np.ones,
    np.empty,
    np.full,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.full_like,
    np.arange,
    np.linspace,
    np.eye,
    np.identity,
    reason="returns indices, shapes or fresh constants",
)
