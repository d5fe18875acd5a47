"""A spec's network as it runs: the built torch module, the exported ONNX network, and the network in
the precisions a search chose (fake-quantized in torch, or one QDQ ONNX file)."""
