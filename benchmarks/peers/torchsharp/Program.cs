// The `ser bench` workload in TorchSharp 0.107 (libtorch 2.10, CPU), for side-by-side ratios: a 1-layer
// unidirectional LSTM(I→H) over full-length sequences, its last hidden state → Linear(H,128) ReLU →
// Linear(128,64) ReLU → Linear(64,7), cross-entropy, Adam (lr 1e-3), float32, no dropout, one fixed random
// batch. Prints one JSON line per shape with the keys of `ser bench --json` (and of torch_bench.py): medians of
// timed repetitions after warm-up. Usage: TorchSharpPeer [--shape SEED|FRAMES|FRAMES-L|all] [--threads N]
// [--repetitions N]. Run it through benchmarks/peers/torchsharp.sh, which makes libtorch load on Debian 12.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

var shapes = new Dictionary<string, (int T, int B, int I, int H)>
{
    ["SEED"] = (40, 64, 1, 256), ["FRAMES"] = (200, 32, 40, 128), ["FRAMES-L"] = (200, 64, 120, 256),
};
string shape = Option("--shape", "all");
int threads = int.Parse(Option("--threads", "2"), CultureInfo.InvariantCulture);
int repetitions = int.Parse(Option("--repetitions", "7"), CultureInfo.InvariantCulture);
if (shape != "all" && !shapes.ContainsKey(shape)) { Console.Error.WriteLine($"--shape must be SEED, FRAMES, FRAMES-L or all, got '{shape}'."); return 2; }
torch.set_num_threads(threads);
foreach (var (name, (t, b, i, h)) in shapes.Where(s => shape == "all" || s.Key == shape))
{
    torch.manual_seed(42);
    var model = new Net(i, h);
    var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-3);
    var x = torch.rand(t, b, i) * 2 - 1;
    var labels = torch.arange(b, dtype: ScalarType.Int64) % 7;
    var single = x.narrow(1, 0, 1).contiguous();

    void Train()
    {
        using var scope = torch.NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.forward(x), labels);
        loss.backward();
        optimizer.step();
    }
    void Infer(Tensor batch)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        nn.functional.softmax(model.forward(batch), 1);
    }

    double train = MedianSeconds(Train, repetitions, 3);
    double infer = MedianSeconds(() => Infer(x), repetitions, 3);
    double latency = MedianSeconds(() => Infer(single), Math.Max(repetitions, 21), 5);
    double flops = 3.0 * (2.0 * t * b * 4 * h * (i + h) + 2.0 * b * (h * 128 + 128 * 64 + 64 * 7));
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["shape"] = name, ["threads"] = threads, ["train_samples_per_s"] = b / train, ["infer_samples_per_s"] = b / infer,
        ["latency_us"] = latency * 1e6, ["gflops"] = flops / train / 1e9, ["peer"] = $"TorchSharp 0.107.0 (libtorch {torch.__version__})",
    }));
}
return 0;

string Option(string flag, string fallback)
{
    int at = Array.IndexOf(args, flag);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

static double MedianSeconds(Action action, int repetitions, int warmup)
{
    for (int w = 0; w < warmup; w++) action();
    var times = new double[repetitions];
    for (int r = 0; r < repetitions; r++)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
    Array.Sort(times);
    return times[repetitions / 2];
}

/// <summary>LSTM(I→H), last hidden state, then the dense head: the same model as torch_bench.py's.</summary>
sealed class Net : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> _lstm;
    private readonly nn.Module<Tensor, Tensor> _head;

    public Net(int input, int hidden) : base("net")
    {
        _lstm = nn.LSTM(input, hidden);
        _head = nn.Sequential(nn.Linear(hidden, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 7));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (_, hn, _) = _lstm.forward(x, null);
        return _head.forward(hn[0]);
    }
}
