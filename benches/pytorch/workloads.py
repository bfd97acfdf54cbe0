#!/usr/bin/env python3
"""The benchmark workloads of docs/workloads.md in PyTorch (eager, CPU, f32; W3f64 in f64).

    python3 benches/pytorch/workloads.py --threads 1 --workloads W1,W2,W3,W4
    python3 benches/pytorch/workloads.py --threads 1 --workloads W5      # the LSTM
    python3 benches/pytorch/workloads.py --threads 1 --workloads W6      # the digits CNN
    python3 benches/pytorch/workloads.py --threads 1 --workloads W3f64   # W3 in float64

Prints one JSON object per timed run to stdout (WORKLOADS.md section 6) and
checks every checksum against the reference values of section 6 (a mismatch
is an error); progress and the checks go to stderr.

Data, initial weights and shuffle orders come from SplitMix64 streams
(section 1), produced a whole stream at a time with numpy: the k-th output
of a generator seeded with `seed` is mix(seed + k * GAMMA).
"""

import argparse
import copy
import json
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# ---- section 1: SplitMix64 ----

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


class SplitMix64:
    """A SplitMix64 stream; `next_u64(n)` returns its next n outputs at once."""

    def __init__(self, seed):
        self.seed = np.uint64(seed)
        self.count = 0  # outputs drawn so far

    def next_u64(self, n):
        k = np.arange(self.count + 1, self.count + n + 1, dtype=np.uint64)
        self.count += n
        with np.errstate(over="ignore"):
            z = self.seed + k * GAMMA  # wraps mod 2^64
            z = (z ^ (z >> np.uint64(30))) * M1
            z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))

    def unit(self, n):
        """f64 in [0, 1), multiples of 2^-24."""
        return (self.next_u64(n) >> np.uint64(40)).astype(np.float64) * 2.0**-24

    def sym(self, n):
        """f64 in [-1, 1), exactly representable in f32."""
        return 2.0 * self.unit(n) - 1.0


def check_generator():
    got = [int(v) for v in SplitMix64(0).next_u64(3)]
    want = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert got == want, f"SplitMix64 reference values: got {[hex(v) for v in got]}"


# ---- section 2: data ----
# "f64 accumulation": numpy elementwise f64 ops, one term at a time in the
# written order, vectorised over the samples (numpy never fuses a * b + c).


def regression_data(w):
    n, d = (100, 10) if w == 1 else (8192, 10)
    rng = SplitMix64(1000 + w)
    x = rng.sym(n * d).reshape(n, d)  # exact in f32
    acc = np.zeros(n)
    if w == 1:
        wt = rng.sym(d)
        bt = rng.sym(1)[0]
        e = rng.sym(n)
        for j in range(d):
            acc = acc + wt[j] * x[:, j]
        acc = acc + bt
        acc = acc + 0.1 * e
    else:
        a = rng.sym(d)
        c = rng.sym(d)
        e = rng.sym(n)
        for j in range(d):
            acc = acc + a[j] * x[:, j]
        for j in range(d):
            acc = acc + (c[j] * x[:, j]) * x[:, (j + 1) % d]
        acc = acc + 0.1 * e
    x = x.astype(np.float32)
    y = acc.astype(np.float32).reshape(n, 1)
    data_ck = [float(np.sum(x, dtype=np.float64)), float(np.sum(y, dtype=np.float64))]
    return x, y, data_ck


def classification_data(w):
    n, d, c = (16384, 784, 10) if w == 3 else (4096, 1024, 10)
    rng = SplitMix64(1000 + w)
    x = rng.unit(n * d) if w == 3 else rng.sym(n * d)
    x = x.reshape(n, d)
    t = rng.sym(c * d).reshape(c, d)
    xc = np.asfortranarray(x - 0.5 if w == 3 else x)  # exact in f64; columns contiguous
    s = np.zeros((n, c))
    for j in range(d):
        s = s + xc[:, j : j + 1] * t[None, :, j]
    labels = np.argmax(s, axis=1)  # the first of equal maxima: the smallest c
    x = x.astype(np.float32)
    data_ck = [float(np.sum(x, dtype=np.float64)), float(np.sum(labels))]
    return x, labels.astype(np.int64), data_ck


# ---- section 3: models and initial weights ----

LAYERS = {
    1: [10, 1],
    2: [10, 64, 64, 1],
    3: [784, 256, 128, 10],
    4: [1024, 1024, 1024, 10],
}


def sequence_data():
    """W5: 2048 sequences of 50 steps of 32 features (docs/workloads.md)."""
    n, t, f = 2048, 50, 32
    rng = SplitMix64(1005)
    x = rng.sym(n * t * f).astype(np.float32).reshape(n, t * f)
    a = rng.sym(f)
    e = rng.sym(n)  # drawn after a, one per sample, as the Rust harness
    acc = np.zeros(n)
    for step in range(t):
        decay = 0.9 ** (t - 1 - step)
        for j in range(f):
            acc = acc + a[j] * x[:, step * f + j].astype(np.float64) * decay / 10.0
    acc = acc + 0.1 * e
    y = acc.astype(np.float32).reshape(n, 1)
    data_ck = [float(np.sum(x, dtype=np.float64)), float(np.sum(y, dtype=np.float64))]
    return x, y, data_ck


def digits_data():
    """W6: the 1797 images of data/digits.csv in the file's order, pixels / 16."""
    path = pathlib.Path(__file__).resolve().parents[2] / "data" / "digits.csv"
    raw = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    x = (raw[:, :64] / 16.0).astype(np.float32)  # exact: pixels 0..16
    labels = raw[:, 64].astype(np.int64)
    data_ck = [float(np.sum(x, dtype=np.float64)), float(np.sum(labels))]
    return x, labels, data_ck


def build_cnn_model():
    """W6: the digits CNN without dropout; Conv2d and Linear drawn from INIT in order."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),  # rows of 64 pixels -> [b, 1, 8, 8]
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),  # gamma 1, beta 0, eps 1e-5, momentum 0.1
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(512, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )
    rng = SplitMix64(2006)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                shape = tuple(layer.weight.shape)  # [out, in(, kh, kw)], row-major
                k = 1.0 / np.sqrt(float(np.prod(shape[1:])))  # 1 / sqrt(fan_in)
                weight = (k * rng.sym(int(np.prod(shape)))).astype(np.float32).reshape(shape)
                bias = (k * rng.sym(shape[0])).astype(np.float32)
                layer.weight.copy_(torch.from_numpy(weight))
                layer.bias.copy_(torch.from_numpy(bias))
    # Every parameter tensor in order, batch norm's scales and shifts too.
    init_ck = sum(float(np.sum(p.detach().numpy(), dtype=np.float64)) for p in model.parameters())
    return model, init_ck


class Sequence(torch.nn.Module):
    """W5: LSTM(32 -> 128), its last step, Linear(128, 1)."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(32, 128, batch_first=True)
        self.linear = torch.nn.Linear(128, 1)

    def forward(self, x):
        out, _ = self.lstm(x.view(x.shape[0], 50, 32))
        return self.linear(out[:, -1, :])


def build_sequence_model():
    rng = SplitMix64(2005)
    k = 1.0 / np.sqrt(128.0)
    model = Sequence()
    init_ck = 0.0
    shapes = [(512, 32), (512, 128), (512,), (512,)]
    tensors = [model.lstm.weight_ih_l0, model.lstm.weight_hh_l0, model.lstm.bias_ih_l0, model.lstm.bias_hh_l0]
    shapes += [(1, 128), (1,)]
    tensors += [model.linear.weight, model.linear.bias]
    with torch.no_grad():
        for shape, tensor in zip(shapes, tensors):
            values = (k * rng.sym(int(np.prod(shape)))).astype(np.float32).reshape(shape)
            init_ck += float(np.sum(values, dtype=np.float64))
            tensor.copy_(torch.from_numpy(values))
    return model, init_ck


def build_model(w):
    sizes = LAYERS[w]
    rng = SplitMix64(2000 + w)
    modules = []
    init_ck = 0.0
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        k = 1.0 / np.sqrt(float(fan_in))
        weight = (k * rng.sym(fan_out * fan_in)).astype(np.float32).reshape(fan_out, fan_in)
        bias = (k * rng.sym(fan_out)).astype(np.float32)
        init_ck += float(np.sum(weight, dtype=np.float64)) + float(np.sum(bias, dtype=np.float64))
        layer = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
        modules.append(layer)
        if i + 2 < len(sizes):
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules), init_ck


# ---- section 4: loss, optimiser, schedule ----

SPECS = {
    # w: (name, n, batch, epochs, shuffle, loss, optimiser); W3f64 trains W3 in float64
    1: ("W1", 100, 100, 2000, False, F.mse_loss, lambda p: torch.optim.SGD(p, lr=0.01)),
    2: ("W2", 8192, 32, 10, True, F.mse_loss, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-8)),
    3: (
        "W3",
        16384,
        128,
        2,
        True,
        F.cross_entropy,
        lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    ),
    4: ("W4", 4096, 256, 1, True, F.cross_entropy, lambda p: torch.optim.SGD(p, lr=0.01)),
    5: ("W5", 2048, 64, 1, True, F.mse_loss, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-8)),
    6: ("W6", 1797, 32, 20, True, F.cross_entropy, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-8)),
    "W3f64": (
        "W3f64",
        16384,
        128,
        2,
        True,
        F.cross_entropy,
        lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    ),
}


def permutations(w, n, epochs):
    """Every epoch's permutation, each from the identity, one stream for all."""
    rng = SplitMix64(3000 + w)
    perms = []
    i = np.arange(n - 1, 0, -1, dtype=np.uint64)  # N-1 down to 1
    for _ in range(epochs):
        js = (rng.next_u64(n - 1) % (i + np.uint64(1))).tolist()
        perm = list(range(n))
        for i_, j in zip(range(n - 1, 0, -1), js):
            perm[i_], perm[j] = perm[j], perm[i_]
        perms.append(perm)
    return perms


# ---- section 6: reference checksums ----

REFERENCE = {
    "W1": ([33.98326635360718, 53.35515632061288], 0.07563572376966476),
    "W2": ([-85.38839077949524, -132.913627857979], 1.1786496655549854),
    "W3": ([6422391.343975067, 73351.0], -3.283050441470934),
    "W4": ([-78.91989254951477, 18227.0], -16.27435266971588),
    "W5": ([2523.3240003585815, -2.884976402245229], 2.706436992494467),
    "W6": ([35107.375, 8070.0], 40.4003912466747),
    "W3f64": ([6422391.343975067, 73351.0], -3.283050441470934),
}
FIRST_PERM = {
    "W2": [1300, 4685, 7497],
    "W3": [6690, 4830, 2789],
    "W4": [3459, 2050, 2434],
    "W5": [640, 266, 131],
    "W6": [1749, 1042, 407],
    "W3f64": [6690, 4830, 2789],
}


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def check(name, data_ck, init_ck, perms):
    want_data, want_init = REFERENCE[name]
    ok = all(close(a, b) for a, b in zip(data_ck, want_data)) and close(init_ck, want_init)
    exact = data_ck == want_data and init_ck == want_init
    if name in FIRST_PERM:
        ok = ok and perms[0][:3] == FIRST_PERM[name]
    print(
        f"{name}: data_ck {data_ck} init_ck {init_ck!r} first perm {perms[0][:3] if perms else '-'}: "
        f"{'match' if ok else 'MISMATCH'} the reference{' (bit for bit)' if exact else ' (within 1e-9 relative)' if ok else ''}",
        file=sys.stderr,
    )
    assert ok, f"{name}: checksums differ from WORKLOADS.md section 6"


# ---- section 5: timing ----


def train(model, opt, loss_fn, x, y, batches, epochs):
    """The timed loop: gather, forward, loss, backward, step, read the loss back.

    An epoch's loss is its batches' losses weighed by their samples (W6's
    last batch holds 5): with equal batches, the plain mean, bit for bit.
    """
    losses = []
    for e in range(epochs):
        total = 0.0
        seen = 0
        for idx in batches[e]:
            if idx is None:  # W1: the full batch in stored order, no gather
                xb, yb = x, y
            else:
                xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
            seen += xb.shape[0]
        losses.append(total / seen)
    return losses


def run(w, threads):
    name, n, batch, epochs, shuffle, loss_fn, make_opt = SPECS[w]
    f64 = w == "W3f64"
    seed_w = 3 if f64 else w  # W3f64 uses W3's generators
    # Untimed: data, permutations, model, warm-up.
    if w == 5:
        x_np, y_np, data_ck = sequence_data()
        y = torch.from_numpy(y_np)
    elif w == 6:
        x_np, y_np, data_ck = digits_data()
        y = torch.from_numpy(y_np)
    elif seed_w <= 2:
        x_np, y_np, data_ck = regression_data(w)
        y = torch.from_numpy(y_np)
    else:
        x_np, y_np, data_ck = classification_data(seed_w)
        y = torch.from_numpy(y_np)
    if f64:
        x_np = x_np.astype(np.float64)  # exact
        data_ck[0] = float(np.sum(x_np))
    x = torch.from_numpy(x_np)
    perms = permutations(seed_w, n, epochs) if shuffle else []
    if shuffle:
        batches = [
            list(torch.tensor(p, dtype=torch.int64).split(batch)) for p in perms
        ]
    else:
        batches = [[None]] * epochs  # W1: one full batch per epoch
    if w == 5:
        model, init_ck = build_sequence_model()
    elif w == 6:
        model, init_ck = build_cnn_model()
    else:
        model, init_ck = build_model(seed_w)
    if f64:
        model = model.double()  # the f64 of every f32 initial value
    check(name, data_ck, init_ck, perms)

    warm = copy.deepcopy(model)
    warm_batches = [batches[0][:5] if shuffle else [None] * 5]  # a few steps
    train(warm, make_opt(warm.parameters()), loss_fn, x, y, warm_batches, 1)
    del warm

    opt = make_opt(model.parameters())
    start = time.perf_counter()
    losses = train(model, opt, loss_fn, x, y, batches, epochs)
    seconds = time.perf_counter() - start

    if w == 1:
        rate, unit = epochs / seconds, "steps/s"
    else:
        rate, unit = epochs * n / seconds, "samples/s"
    return {
        "impl": "pytorch",
        "version": f"torch {torch.__version__}",
        "workload": name,
        "threads": threads,
        "seconds": seconds,
        "rate": rate,
        "unit": unit,
        "epoch_losses": losses,
        "data_ck": data_ck,
        "init_ck": init_ck,
        "final_loss": losses[-1],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    check_generator()
    for name in args.workloads.split(","):
        name = name.strip()
        w = "W3f64" if name.upper() == "W3F64" else int(name.upper().lstrip("W"))
        result = run(w, args.threads)
        print(json.dumps(result), flush=True)
        print(
            f"{result['workload']} threads={args.threads}: {result['rate']:.1f} {result['unit']} "
            f"({result['seconds']:.3f} s), final loss {result['final_loss']:.6f}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
