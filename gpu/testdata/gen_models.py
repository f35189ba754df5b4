#!/usr/bin/env python3
"""Writes the small ONNX models gpu/'s tests use, with Debian's python3-onnx
(apt-get install python3-onnx). Run from this directory:

    /usr/bin/python3 gen_models.py

The outputs are committed; tests never run this. Each model is one or two
standard operators, so the tests can compute the expected outputs
independently (in Go, and with a plain onnxruntime_go session).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def save(graph, name):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="wasinfer gen_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, name)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


# float16 in and out, a fixed row shape: Y = X * 2, Z = X + X (float16 [N,3]).
two = numpy_helper.from_array(np.array(2, dtype=np.float16), "two")
save(helper.make_graph(
    [helper.make_node("Mul", ["X", "two"], ["Y"]), helper.make_node("Add", ["X", "X"], ["Z"])],
    "float16_scale", [vi("X", TensorProto.FLOAT16, ["N", 3])],
    [vi("Y", TensorProto.FLOAT16, ["N", 3]), vi("Z", TensorProto.FLOAT16, ["N", 3])], [two]),
    "float16_scale.onnx")

# int32 and int64: C = Cast<int64>(A) + Unsqueeze(B, 1) (int64 [N,4]); D = A * A (int32 [N,4]).
axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
save(helper.make_graph(
    [helper.make_node("Cast", ["A"], ["A64"], to=TensorProto.INT64),
     helper.make_node("Unsqueeze", ["B", "axes"], ["B2"]),
     helper.make_node("Add", ["A64", "B2"], ["C"]),
     helper.make_node("Mul", ["A", "A"], ["D"])],
    "ints", [vi("A", TensorProto.INT32, ["N", 4]), vi("B", TensorProto.INT64, ["N"])],
    [vi("C", TensorProto.INT64, ["N", 4]), vi("D", TensorProto.INT32, ["N", 4])], [axes]),
    "ints.onnx")

# A dynamic sequence length: Y = X * 3 (float32 [N,len]), S = ReduceSum(X, axis 1) (float32 [N]).
three = numpy_helper.from_array(np.array(3, dtype=np.float32), "three")
save(helper.make_graph(
    [helper.make_node("Mul", ["X", "three"], ["Y"]),
     helper.make_node("ReduceSum", ["X", "axes"], ["S"], keepdims=0)],
    "dynamic_len", [vi("X", TensorProto.FLOAT, ["N", "len"])],
    [vi("Y", TensorProto.FLOAT, ["N", "len"]), vi("S", TensorProto.FLOAT, ["N"])], [three, axes]),
    "dynamic_len.onnx")

# bool in and out: P = X > 0 (bool [N]), Q = Not(B) (bool [N,2]).
zero = numpy_helper.from_array(np.array(0, dtype=np.float32), "zero")
save(helper.make_graph(
    [helper.make_node("Greater", ["X", "zero"], ["P"]), helper.make_node("Not", ["B"], ["Q"])],
    "bools", [vi("X", TensorProto.FLOAT, ["N"]), vi("B", TensorProto.BOOL, ["N", 2])],
    [vi("P", TensorProto.BOOL, ["N"]), vi("Q", TensorProto.BOOL, ["N", 2])], [zero]),
    "bools.onnx")


def external(name, location):
    """Y = X + W, W float32 [4] kept in external data at location."""
    w = numpy_helper.from_array(np.array([1, 2, 3, 4], dtype=np.float32), "W")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "16")):
        e = w.external_data.add()
        e.key, e.value = k, v
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "W"], ["Y"])], "external",
        [vi("X", TensorProto.FLOAT, ["N", 4])], [vi("Y", TensorProto.FLOAT, ["N", 4])], [w])
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="wasinfer gen_models.py")
    model.ir_version = 8
    onnx.save(model, name)  # not checked: the checker would open the data


external("external.onnx", "external.bin")
with open("external.bin", "wb") as f:
    f.write(np.array([1, 2, 3, 4], dtype=np.float32).tobytes())
external("escape_dotdot.onnx", "../outside.bin")
external("escape_absolute.onnx", "/etc/hostname")
external("external_missing.onnx", "missing.bin")

for n in sorted(os.listdir(".")):
    if n.endswith(".onnx"):
        print(n, os.path.getsize(n))
