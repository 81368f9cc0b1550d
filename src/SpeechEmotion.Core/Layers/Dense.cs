using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// Fully connected layer as torch.nn.Linear: y = x·Wᵀ + b with W: [out, in], b: [out].
/// Initialised as PyTorch does (Kaiming-uniform with a = √5, which gives W, b ~ U(±1/√in)).
/// </summary>
public sealed class Dense
{
    private readonly ParameterSet _parameters;

    public Dense(int inputSize, int outputSize, ParameterSet parameters, string prefix)
    {
        if (inputSize <= 0) throw new OptionsException($"{prefix}: Dense input size must be positive, got {inputSize}.");
        if (outputSize <= 0) throw new OptionsException($"{prefix}: Dense output size must be positive, got {outputSize}.");
        InputSize = inputSize;
        OutputSize = outputSize;
        _parameters = parameters;
        Weight = parameters.Declare($"{prefix}.weight", outputSize, inputSize);
        Bias = parameters.Declare($"{prefix}.bias", outputSize);
    }

    public int InputSize { get; }
    public int OutputSize { get; }
    public ParameterTensor Weight { get; }
    public ParameterTensor Bias { get; }

    public void Initialize(Rng rng) => InitializeAsTorch(_parameters, Weight, Bias, InputSize, rng);

    /// <summary>PyTorch's default for Linear and Conv1d: W, then b, each ~ U(±1/√fan_in) from the one generator.</summary>
    internal static void InitializeAsTorch(ParameterSet parameters, ParameterTensor weight, ParameterTensor bias, int fanIn, Rng rng)
    {
        float bound = 1f / MathF.Sqrt(fanIn);
        rng.FillUniform(parameters.Value(weight), -bound, bound);
        rng.FillUniform(parameters.Value(bias), -bound, bound);
    }

    /// <summary>
    /// x: [B, in] → y: [B, out]. <paramref name="weightTransposed"/> [in · out] is the caller's scratch for Wᵀ, refreshed
    /// so the GEMM runs its fast path (unless <paramref name="transposed"/>: it already holds this layer's current Wᵀ); the
    /// layer itself holds no state but its parameters, so callers with their own scratch may run it concurrently.
    /// </summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, Span<float> weightTransposed, WorkerPool? pool = null, bool transposed = false)
    {
        Check.Length(x, (long)batch * InputSize, "Dense x [B, in]");
        Check.Length(y, (long)batch * OutputSize, "Dense y [B, out]");
        Check.Length(weightTransposed, (long)InputSize * OutputSize, "Dense Wᵀ scratch [in, out]");
        ReadOnlySpan<float> weight = _parameters.Read(Weight), bias = _parameters.Read(Bias);
        Span<float> weightT = weightTransposed[..(InputSize * OutputSize)];
        if (!transposed)
            for (int o = 0; o < OutputSize; o++)
                for (int i = 0; i < InputSize; i++)
                    weightT[i * OutputSize + o] = weight[o * InputSize + i];
        for (int b = 0; b < batch; b++) bias.CopyTo(y.Slice(b * OutputSize, OutputSize));
        Gemm.Multiply(false, false, batch, OutputSize, InputSize, x, InputSize, weightT, OutputSize, y, OutputSize, accumulate: true, pool);
    }

    /// <summary>dy: [B, out] → adds dW += dyᵀ·x, db += Σ_b dy, and dx += dy·W when dx is given.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch, WorkerPool? pool = null)
    {
        Check.Length(dy, (long)batch * OutputSize, "Dense dy [B, out]");
        Gemm.Multiply(true, false, OutputSize, InputSize, batch, dy, OutputSize, x, InputSize, _parameters.Gradient(Weight), InputSize, accumulate: true, pool);
        Span<float> dBias = _parameters.Gradient(Bias);
        for (int b = 0; b < batch; b++) TensorPrimitives.Add(dBias, dy.Slice(b * OutputSize, OutputSize), dBias);
        if (!dx.IsEmpty)
            Gemm.Multiply(false, false, batch, InputSize, OutputSize, dy, OutputSize, _parameters.Read(Weight), InputSize, dx, InputSize, accumulate: true, pool);
    }
}
