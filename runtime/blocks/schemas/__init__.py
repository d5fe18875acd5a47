"""The shipped block kinds' declarations: name, params (an attrs class), MAC count, summary, and the
path of the torch builder. Torch-free, so that parsing and checking a spec never imports torch;
each kind's module under `runtime/blocks/` holds its torch module and builder."""
