using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser bench</c>: the benchmark workload of the performance issue, measured in this process — a 1-layer
/// LSTM(I→H), its last hidden state → Dense 128 ReLU → Dense 64 ReLU → Dense 7, softmax cross-entropy, Adam,
/// dropout off, one fixed random batch — at SEED / FRAMES / FRAMES-L. Medians of timed repetitions after
/// warm-up, beside the machine's FMA peak measured in the same run.
/// </summary>
public static class BenchCommand
{
    public static readonly Dictionary<string, (int T, int B, int I, int H)> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SEED"] = (40, 64, 1, 256),
        ["FRAMES"] = (200, 32, 40, 128),
        ["FRAMES-L"] = (200, 64, 120, 256),
    };

    public sealed record Result(string Shape, double TrainSamplesPerSecond, double InferSamplesPerSecond, double LatencyMicroseconds, double Gflops, double PeakGflops);

    public static Command Create(TextWriter output)
    {
        var shape = new Option<string>("--shape") { Description = "SEED, FRAMES, FRAMES-L or all.", DefaultValueFactory = _ => "all" };
        var threads = new Option<int>("--threads") { Description = "Threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var repetitions = new Option<int>("--repetitions") { Description = "Timed repetitions per measurement (the median is reported).", DefaultValueFactory = _ => 7 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per shape." };
        var determinism = new Option<bool>("--determinism")
        {
            Description = "Instead of timing: print the vector width in use and SHA-256 hashes of a front end's features and of the weights after 20 training steps, to compare across machines, DOTNET_Enable* switches and --threads.",
        };
        var drift = new Option<bool>("--drift")
        {
            Description = "Instead of timing: 200 training steps on the fixed batch of each shape, and the median step time of steps 150–200 against steps 5–25 (a slowdown as gradients decay would show here).",
        };
        var command = new Command("bench", "Measure training and inference speed of the benchmark workload against the machine's FMA peak.") { shape, threads, repetitions, json, determinism, drift };
        command.SetAction(parse =>
        {
            if (parse.GetValue(determinism))
            {
                int workers = parse.GetValue(threads) is > 0 and var w ? w : Environment.ProcessorCount;
                var probe = Determinism.Run(workers);
                output.WriteLine($"vectors     {probe.Vectors}");
                output.WriteLine($"threads     {workers}");
                output.WriteLine($"features    {probe.FrontEnd}");
                output.WriteLine($"training    {probe.Training}");
                return CliApp.Ok;
            }
            string which = parse.GetValue(shape)!;
            var names = which.Equals("all", StringComparison.OrdinalIgnoreCase) ? Shapes.Keys.ToList()
                : Shapes.ContainsKey(which) ? [which.ToUpperInvariant()] : throw new OptionsException($"--shape must be SEED, FRAMES, FRAMES-L or all, got '{which}'.");
            int count = parse.GetValue(threads) is > 0 and var t ? t : Environment.ProcessorCount;
            if (parse.GetValue(drift))
            {
                foreach (var name in names)
                {
                    var (early, late) = Drift(name, count);
                    output.WriteLine($"{name,-9} steps 5–25 {early * 1000,8:F2} ms   steps 150–200 {late * 1000,8:F2} ms   ratio {late / early:F3}{(late / early > 1.1 ? "   (over the 10 % the issue allows)" : "")}");
                }
                return CliApp.Ok;
            }
            int reps = parse.GetValue(repetitions);
            if (reps < 1) throw new OptionsException($"--repetitions must be at least 1, got {reps}.");
            double peak = FmaPeak.Measure(count);
            if (!parse.GetValue(json)) output.WriteLine($"FMA peak on {count} thread(s): {peak:F0} GFLOP/s (measured now)");
            foreach (var name in names)
            {
                var r = Run(name, count, reps, peak);
                if (parse.GetValue(json))
                {
                    using var line = new MemoryStream();
                    using (var w = new Utf8JsonWriter(line))
                        Training.RunFiles.WriteValue(w, new Dictionary<string, object>
                        {
                            ["shape"] = r.Shape, ["threads"] = count, ["train_samples_per_s"] = r.TrainSamplesPerSecond, ["infer_samples_per_s"] = r.InferSamplesPerSecond,
                            ["latency_us"] = r.LatencyMicroseconds, ["gflops"] = r.Gflops, ["peak_gflops"] = r.PeakGflops,
                        });
                    output.WriteLine(System.Text.Encoding.UTF8.GetString(line.ToArray()));
                }
                else
                    output.WriteLine($"{r.Shape,-9} train {r.TrainSamplesPerSecond,8:F0} samples/s  infer {r.InferSamplesPerSecond,8:F0} samples/s  " +
                                     $"latency {r.LatencyMicroseconds / 1000,7:F2} ms  {r.Gflops,6:F1} GFLOP/s ({r.Gflops / r.PeakGflops:P0} of peak)");
            }
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>The benchmark model of a shape (seeded) and its one fixed random batch.</summary>
    private static (SequenceClassifier Model, Rng Rng, float[] X, int[] Lengths, int[] Labels) Workload(string name, WorkerPool pool)
    {
        var (T, B, I, H) = Shapes[name];
        var model = new SequenceClassifier(new ClassifierConfig(I, H, 1, false, PoolingKind.Last, [128, 64], 7, 0f), new AdamOptions(), pool);
        var rng = new Rng(42);
        model.Initialize(rng);
        var x = new float[T * B * I];
        rng.FillUniform(x, -1, 1);
        return (model, rng, x, Enumerable.Repeat(T, B).ToArray(), Enumerable.Range(0, B).Select(k => k % 7).ToArray());
    }

    public static Result Run(string name, int threads, int repetitions, double peak)
    {
        var (T, B, I, H) = Shapes[name];
        using var pool = new WorkerPool(threads);
        var (model, rng, x, lengths, labels) = Workload(name, pool);
        double train = Median(repetitions, 3, () => model.TrainStep(x, lengths, labels, T, B, rng));
        // Inference as the library runs it (EmotionRecognizer): a prediction-only workspace, which keeps the weights
        // packed while they do not change, as the peers' eval-mode forwards use theirs as they are. (The model's own
        // workspace is the training one, which repacks them every pass, since every step changes them: a megabyte of
        // W_hh was 15 % of a batch-1 SEED forward.)
        var inference = model.CreateInferenceWorkspace(T, B);
        double infer = Median(repetitions, 3, () => model.Forward(inference, x, lengths, T, B, training: false, rng: null, pool));
        var single = new float[T * I];
        for (int t = 0; t < T; t++) x.AsSpan(t * B * I, I).CopyTo(single.AsSpan(t * I));
        var one = model.CreateInferenceWorkspace(T, 1);
        int[] oneLength = [T];
        double latency = Median(Math.Max(repetitions, 21), 5, () => model.Forward(one, single, oneLength, T, 1, training: false, rng: null, pool));
        // Forward GEMM flops of the LSTM and head, ×3 for forward + backward (the usual convention).
        double flops = 3.0 * (2.0 * T * B * 4 * H * (I + H) + 2.0 * B * (H * 128 + 128 * 64 + 64 * 7));
        return new Result(name, B / train, B / infer, latency * 1e6, flops / train / 1e9, peak);
    }

    /// <summary>Median step time (seconds) of training steps 5–25 and 150–200 on the shape's fixed batch.</summary>
    public static (double Early, double Late) Drift(string name, int threads)
    {
        var (T, B, I, H) = Shapes[name];
        using var pool = new WorkerPool(threads);
        var (model, rng, x, lengths, labels) = Workload(name, pool);
        var times = new double[201];
        for (int step = 1; step <= 200; step++)
        {
            var clock = Stopwatch.StartNew();
            model.TrainStep(x, lengths, labels, T, B, rng);
            times[step] = clock.Elapsed.TotalSeconds;
        }
        static double MedianOf(double[] values) { Array.Sort(values); return values[values.Length / 2]; }
        return (MedianOf(times[5..26]), MedianOf(times[150..201]));
    }

    /// <summary>
    /// Median of timed runs after a warm-up of at least <paramref name="warmup"/> runs and half a second, so the
    /// JIT's tiered recompilation of the kernels has finished before the clock starts.
    /// </summary>
    private static double Median(int repetitions, int warmup, Action action)
    {
        var warming = Stopwatch.StartNew();
        for (int i = 0; i < warmup || warming.Elapsed.TotalSeconds < 0.5; i++) action();
        var times = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repetitions / 2];
    }
}

/// <summary>
/// The same-bits probe of <c>ser bench --determinism</c>: features of a fixed synthetic recording through the default
/// front end (resampling from 16 kHz, MFCCs with deltas, trimming), and a frames-shaped model (2-layer BiLSTM, mean
/// pooling, dropout, padded lengths) after 20 Adam steps on a fixed batch, then one with a convolution before its LSTM
/// trained with a sample-weighted, smoothed loss. Each is hashed bit for bit; the hashes must
/// not depend on the vector width, the thread count or the machine.
/// </summary>
public static class Determinism
{
    public sealed record Probe(string Vectors, string FrontEnd, string Training);

    public static string VectorWidth =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "Vector512" :
        System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "Vector256" :
        System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";

    public static Probe Run(int threads, int steps = 20)
    {
        // A second and a half of a voiced, gliding tone with noise at 16 kHz.
        var rng = new Rng(5);
        var samples = new float[24000];
        double phase = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            phase += 2 * Math.PI * (140 + 60 * Math.Sin(i / 3000.0)) / 16000;
            samples[i] = (float)(0.3 * Math.Sin(Math.PI * i / samples.Length) * (Math.Sin(phase) + 0.4 * Math.Sin(2 * phase)) + 0.01 * rng.NextGaussian());
        }
        var frontEnd = new SpeechEmotion.Audio.FrontEnd(new SpeechEmotion.Audio.FrontEndSettings(trimTopDb: 30));
        var features = frontEnd.Extract(new SpeechEmotion.Audio.AudioClip(samples, 16000, "probe", "float32", 1), "probe");

        const int T = 48, B = 10, I = 40, classes = 7;
        using var pool = new WorkerPool(threads);
        var model = new SequenceClassifier(new ClassifierConfig(I, 32, 2, true, PoolingKind.Mean, [24], classes, 0.2f), new AdamOptions(), pool);
        model.Initialize(rng);
        var x = new float[T * B * I];
        rng.FillUniform(x, -2, 2);
        var lengths = Enumerable.Range(0, B).Select(b => T - 3 * b).ToArray();
        var labels = Enumerable.Range(0, B).Select(b => b % classes).ToArray();
        for (int step = 0; step < steps; step++) model.TrainStep(x, lengths, labels, T, B, rng);
        // And the options that are not the default's: a convolution before the LSTM, a sample-weighted smoothed loss.
        var conv = new SequenceClassifier(new ClassifierConfig(I, 24, 1, true, PoolingKind.Mean, [16], classes, 0.2f, convChannels: 16, convKernel: 5), new AdamOptions(), pool);
        conv.Initialize(rng);
        var weights = Enumerable.Range(0, B).Select(b => 0.5f + b % 3).ToArray();
        for (int step = 0; step < steps; step++) conv.TrainStep(x, lengths, labels, T, B, rng, labelSmoothing: 0.1f, sampleWeights: weights);
        return new Probe(VectorWidth, Hash(features.Values), Hash([.. model.Parameters.Values, .. conv.Parameters.Values]));
    }

    private static string Hash(float[] values) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
}
