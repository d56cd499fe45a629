"""The render's compiled (numba) kernels: numpy in and out, no torch, so they can be compiled before torch loads."""
