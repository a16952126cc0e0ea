"""Machine-learning detectors. Inference runs on onnxruntime only; every model ships with a model card."""
