"""The one place TensorFlow and Keras are imported, on first use, quietly."""

from __future__ import annotations

import os
from typing import Any


def keras() -> Any:
    """The keras module, importing TensorFlow (about 7 s) the first time it is needed."""
    # TensorFlow's C++ start-up notes (CPU features, oneDNN) are not for analysts' logs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras as keras_module

    return keras_module


def tensorflow() -> Any:
    keras()
    import tensorflow as tf

    return tf
