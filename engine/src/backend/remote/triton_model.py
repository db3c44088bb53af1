"""Triton Python-backend model for a Redance (Dance Diffusion) ONNX graph.

Written by `redance model serve-config --backend python` beside model.onnx, for Triton builds without
the onnxruntime backend (PyPI's nvidia-pytriton ships only the Python backend). It runs the same ONNX
file with the onnxruntime package; requests that Triton's dynamic batcher hands over together are
run as one batch when their shapes agree.
"""

import json
import os

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.audio = config["input"][0]["name"]
        self.t = config["input"][1]["name"]
        self.output = config["output"][0]["name"]
        params = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
        options = ort.SessionOptions()
        threads = int(params.get("redance_intra_threads", "0") or 0)
        if threads > 0:
            options.intra_op_num_threads = threads
        path = os.path.join(args["model_repository"], args["model_version"], "model.onnx")
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def execute(self, requests):
        inputs = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, self.audio).as_numpy()
            t = pb_utils.get_input_tensor_by_name(request, self.t).as_numpy().reshape(-1)
            inputs.append((x, t))
        # One model call per group of requests with the same shape (Triton batches only those
        # anyway); the outputs are split back in request order.
        outputs = [None] * len(requests)
        groups = {}
        for i, (x, _) in enumerate(inputs):
            groups.setdefault(x.shape[1:], []).append(i)
        for members in groups.values():
            x = np.concatenate([inputs[i][0] for i in members]).astype(np.float32, copy=False)
            t = np.concatenate([inputs[i][1] for i in members]).astype(np.float32, copy=False)
            v = self.session.run([self.output], {self.audio: x, self.t: t})[0]
            start = 0
            for i in members:
                n = inputs[i][0].shape[0]
                outputs[i] = v[start : start + n]
                start += n
        return [
            pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(self.output, v)]) for v in outputs
        ]
