"""Package data: the teachers that ship with archc, one folder each (see compiler/pretrained.py)."""
