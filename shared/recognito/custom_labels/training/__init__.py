"""Custom labels training: heads trained on the inference layer's EfficientNet-Lite2 features.

- ``backbone``: an image's pooled features and feature map (one ONNX run, the DetectLabels model);
- ``linear``: softmax / sigmoid regression in numpy (the heads);
- ``classification`` / ``detection``: the two model kinds, trained and applied;
- ``evaluation``: F1, per-label precision / recall / assumed threshold, mAP, Rekognition's Summary;
- ``artifact``: the trained model as one ``.npz`` object under the version's OutputConfig prefix;
- ``flow``: the state machine's steps (``statemachines/custom_labels_training.asl.json``).
"""
