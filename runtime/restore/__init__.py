"""Restoring user images of any size: whole-image inference and tiling."""
