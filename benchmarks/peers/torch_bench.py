#!/usr/bin/python3
"""The `ser bench` workload in PyTorch, for side-by-side ratios (benchmarks/peers/compare.sh runs both).

1-layer unidirectional LSTM(I->H) over full-length sequences, last hidden state -> Linear(H,128) ReLU ->
Linear(128,64) ReLU -> Linear(64,7), cross-entropy, Adam(lr=1e-3), float32, dropout off, one fixed random batch.
Prints one JSON line per shape with the same keys as `ser bench --json`. Medians of timed repetitions after warm-up.
Run with Debian's python3-torch and libopenblas0-openmp; unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in this
command only (compare.sh does), so OpenBLAS may use its AVX-512 kernels.
"""
import argparse
import json
import statistics
import time

import torch

SHAPES = {"SEED": (40, 64, 1, 256), "FRAMES": (200, 32, 40, 128), "FRAMES-L": (200, 64, 120, 256)}


class Model(torch.nn.Module):
    def __init__(self, i, h):
        super().__init__()
        self.lstm = torch.nn.LSTM(i, h)
        self.head = torch.nn.Sequential(torch.nn.Linear(h, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 7))

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def median_seconds(action, repetitions, warmup):
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(name, threads, repetitions):
    t, b, i, h = SHAPES[name]
    torch.manual_seed(42)
    model = Model(i, h)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(t, b, i) * 2 - 1
    labels = torch.arange(b) % 7
    single = x[:, :1, :].contiguous()

    def train():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()

    def infer(batch):
        with torch.no_grad():
            torch.softmax(model(batch), dim=1)

    train_s = median_seconds(train, repetitions, 3)
    infer_s = median_seconds(lambda: infer(x), repetitions, 3)
    latency_s = median_seconds(lambda: infer(single), max(repetitions, 21), 5)
    flops = 3.0 * (2.0 * t * b * 4 * h * (i + h) + 2.0 * b * (h * 128 + 128 * 64 + 64 * 7))
    return {"shape": name, "threads": threads, "train_samples_per_s": b / train_s, "infer_samples_per_s": b / infer_s,
            "latency_us": latency_s * 1e6, "gflops": flops / train_s / 1e9, "peer": f"torch {torch.__version__}"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--flush-denormal", action="store_true",
                        help="torch.set_flush_denormal(True): flush-to-zero and denormals-are-zero in the MXCSR, PyTorch's own cure for slow subnormals")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.flush_denormal and not torch.set_flush_denormal(True):
        raise SystemExit("torch.set_flush_denormal(True) is not supported on this processor")
    for name in (SHAPES if args.shape == "all" else [args.shape]):
        result = run(name, args.threads, args.repetitions)
        if args.flush_denormal:
            result["peer"] += " flush-denormal"
        print(json.dumps(result), flush=True)
