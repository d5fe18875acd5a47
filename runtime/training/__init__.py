"""Training a network with NAFNet's recipe, and mixed precision for its steps."""
