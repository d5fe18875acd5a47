"""The shipped block kinds' declarations, one module per kind (the registry imports every module here):
name, params (an attrs class), MAC count, summary, the path of the torch builder, training memory and
whether it is a transformer. Torch-free, so that parsing and checking a spec never imports torch; each
kind's module under `runtime/blocks/` holds its torch module and builder."""
