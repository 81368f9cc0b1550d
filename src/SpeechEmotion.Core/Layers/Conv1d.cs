using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// A convolution over time as torch.nn.Conv1d(in, out, kernel, padding = kernel / 2) with W: [out, in, kernel] and
/// b: [out], on time-major sequences x [T, B, in] → y [T, B, out]: y[t, b, o] = b[o] + Σ_i Σ_k W[o, i, k] ·
/// x[t + k − kernel / 2, b, i]. Each sequence sees only its own frames: a frame outside 0…length − 1 counts as
/// zero (as PyTorch's zero padding of a sequence of that length would), and the output at a padded step is zero.
/// Computed as one GEMM over the unfolded input (im2col: a row per step and sequence, the kernel's window of
/// every input channel, in W's order i·kernel + k); backward is two GEMMs and the fold back (col2im) in a fixed
/// order, so results are the same bits on every vector width and thread count, as every GEMM here.
/// Initialised as PyTorch does: W, b ~ U(±1/√(in · kernel)).
/// </summary>
public sealed class Conv1d
{
    private readonly ParameterSet _parameters;

    public Conv1d(int inputSize, int outputSize, int kernel, ParameterSet parameters, string prefix)
    {
        if (inputSize <= 0) throw new OptionsException($"{prefix}: Conv1d input size must be positive, got {inputSize}.");
        if (outputSize <= 0) throw new OptionsException($"{prefix}: Conv1d output size must be positive, got {outputSize}.");
        if (kernel <= 0 || kernel % 2 == 0) throw new OptionsException($"{prefix}: Conv1d kernel must be a positive odd number of frames, got {kernel}.");
        InputSize = inputSize;
        OutputSize = outputSize;
        Kernel = kernel;
        _parameters = parameters;
        Weight = parameters.Declare($"{prefix}.weight", outputSize, inputSize, kernel);
        Bias = parameters.Declare($"{prefix}.bias", outputSize);
    }

    public int InputSize { get; }
    public int OutputSize { get; }
    public int Kernel { get; }
    /// <summary>Values in one unfolded row: in · kernel.</summary>
    public int Window => InputSize * Kernel;
    public ParameterTensor Weight { get; }
    public ParameterTensor Bias { get; }

    public void Initialize(Rng rng) => Dense.InitializeAsTorch(_parameters, Weight, Bias, Window, rng);

    /// <summary>
    /// x: [T, B, in], lengths: [B] in 1…T → y: [T, B, out] (zero at padded steps). <paramref name="columns"/> [T·B, in·kernel]
    /// receives the unfolded input, which <see cref="Backward"/> reads; <paramref name="weightTransposed"/> [in·kernel, out]
    /// is the caller's scratch for Wᵀ, refreshed unless <paramref name="transposed"/> says it holds the current one.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch, Span<float> columns, Span<float> y,
        Span<float> weightTransposed, WorkerPool? pool = null, bool transposed = false)
    {
        int I = InputSize, O = OutputSize, K = Kernel, window = Window, half = K / 2, rows = steps * batch;
        Check.Length(x, (long)rows * I, "Conv1d x [T, B, in]");
        Check.Length(y, (long)rows * O, "Conv1d y [T, B, out]");
        Check.Length(columns, (long)rows * window, "Conv1d columns [T·B, in·kernel]");
        Check.Length(weightTransposed, (long)window * O, "Conv1d Wᵀ scratch [in·kernel, out]");
        CheckLengths(lengths, steps, batch);
        ReadOnlySpan<float> weight = _parameters.Read(Weight), bias = _parameters.Read(Bias);
        Span<float> weightT = weightTransposed[..(window * O)];
        if (!transposed)
            for (int o = 0; o < O; o++)
                for (int j = 0; j < window; j++)
                    weightT[j * O + o] = weight[o * window + j];
        Span<float> cols = columns[..(rows * window)];
        cols.Clear();
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
            {
                int row = t * batch + b, length = lengths[b];
                Span<float> output = y.Slice(row * O, O);
                if (t >= length) { output.Clear(); continue; }
                bias.CopyTo(output);
                Span<float> unfolded = cols.Slice(row * window, window);
                for (int k = 0; k < K; k++)
                {
                    int s = t + k - half;
                    if (s < 0 || s >= length) continue;
                    ReadOnlySpan<float> frame = x.Slice((s * batch + b) * I, I);
                    for (int i = 0; i < I; i++) unfolded[i * K + k] = frame[i];
                }
            }
        // Padded rows are zero in the columns and in y, so the product leaves them zero.
        Gemm.Multiply(false, false, rows, O, window, cols, window, weightT, O, y[..(rows * O)], O, accumulate: true, pool);
    }

    /// <summary>
    /// dy: [T, B, out] for the last forward (whose <paramref name="columns"/> are given) → adds dW += dyᵀ·columns and
    /// db += Σ dy over the valid steps, and, when dx is given, dx [T, B, in] += the gradient folded back through each
    /// window (<paramref name="columnGradient"/> [T·B, in·kernel] is its scratch). dy's padded rows are cleared first:
    /// a padded step has no output, so nothing flows back from it.
    /// </summary>
    public void Backward(ReadOnlySpan<float> columns, Span<float> dy, ReadOnlySpan<int> lengths, int steps, int batch,
        Span<float> columnGradient, Span<float> dx, WorkerPool? pool = null)
    {
        int I = InputSize, O = OutputSize, K = Kernel, window = Window, half = K / 2, rows = steps * batch;
        Check.Length(dy, (long)rows * O, "Conv1d dy [T, B, out]");
        Check.Length(columns, (long)rows * window, "Conv1d columns [T·B, in·kernel]");
        CheckLengths(lengths, steps, batch);
        Span<float> dOut = dy[..(rows * O)];
        Span<float> dBias = _parameters.Gradient(Bias);
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
            {
                Span<float> row = dOut.Slice((t * batch + b) * O, O);
                if (t >= lengths[b]) row.Clear();
                else TensorPrimitives.Add(dBias, row, dBias);
            }
        Gemm.Multiply(true, false, O, window, rows, dOut, O, columns[..(rows * window)], window, _parameters.Gradient(Weight), window, accumulate: true, pool);
        if (dx.IsEmpty) return;
        Check.Length(dx, (long)rows * I, "Conv1d dx [T, B, in]");
        Check.Length(columnGradient, (long)rows * window, "Conv1d column gradient [T·B, in·kernel]");
        Span<float> dCols = columnGradient[..(rows * window)];
        Gemm.Multiply(false, false, rows, window, O, dOut, O, _parameters.Read(Weight), window, dCols, window, accumulate: false, pool);
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
            {
                int length = lengths[b];
                if (t >= length) continue;
                ReadOnlySpan<float> unfolded = dCols.Slice((t * batch + b) * window, window);
                for (int k = 0; k < K; k++)
                {
                    int s = t + k - half;
                    if (s < 0 || s >= length) continue;
                    Span<float> frame = dx.Slice((s * batch + b) * I, I);
                    for (int i = 0; i < I; i++) frame[i] += unfolded[i * K + k];
                }
            }
    }

    private static void CheckLengths(ReadOnlySpan<int> lengths, int steps, int batch)
    {
        if (lengths.Length < batch) throw new ShapeException($"Conv1d needs {batch} lengths, got {lengths.Length}.");
        for (int b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > steps) throw new ShapeException($"Conv1d length[{b}] must be in 1…{steps}, got {lengths[b]}.");
    }
}
