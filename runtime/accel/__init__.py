"""Where torch work runs: the accelerator, torch's thread count, and memory checked before it is spent."""
