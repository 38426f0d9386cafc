"""MAT v5 files written byte by byte, for structures scipy cannot write (thousands of nested cells, objects)."""

import struct
import zlib


def _tag(kind, data):
    return struct.pack("<II", kind, len(data)) + data + b"\0" * (-len(data) % 8)


def _header(cls, name, *dims):
    flags = _tag(6, struct.pack("<II", cls, 0))  # miUINT32 array flags
    return flags + _tag(5, struct.pack("<" + "i" * len(dims), *dims)) + _tag(1, name.encode())


def _matrix(body):
    return struct.pack("<II", 14, len(body)) + body


def double(value=1.0, name=""):
    return _matrix(_header(6, name, 1, 1) + _tag(9, struct.pack("<d", value)))


def nested_cells(depth, name="x"):
    """A cell holding a cell ... ``depth`` deep, around one double (built outside in, without recursion)."""
    inner, heads = double(), []
    size = len(inner)
    for k in range(depth):
        head = _header(1, name if k == depth - 1 else "", 1, 1)
        size += len(head)
        heads.append(struct.pack("<II", 14, size) + head)
        size += 8
    return b"".join(reversed(heads)) + inner


def matlab_object(name="obj", classname="Scene", field="data"):
    """A MATLAB (old-style) object of class ``classname`` with one field holding a double."""
    body = _header(3, name, 1, 1) + _tag(1, classname.encode())
    body += struct.pack("<I", (4 << 16) | 5) + struct.pack("<i", 32)  # small element: field-name length 32
    body += _tag(1, field.encode().ljust(32, b"\0")) + double()
    return _matrix(body)


def mat_file(path, *elements, compress=True):
    head = b"MATLAB 5.0 MAT-file, written by DeepUnmix's tests".ljust(116, b" ") + b"\0" * 8
    out = [head + struct.pack("<H", 0x0100) + b"IM"]
    for e in elements:
        if compress:
            z = zlib.compress(e)
            e = struct.pack("<II", 15, len(z)) + z
        out.append(e)
    with open(path, "wb") as fh:
        fh.write(b"".join(out))
    return path
