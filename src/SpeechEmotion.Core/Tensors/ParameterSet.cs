namespace SpeechEmotion.Core.Tensors;

/// <summary>A named view into a <see cref="ParameterSet"/>'s flat buffers: where a tensor starts and its shape.</summary>
public sealed record ParameterTensor(string Name, int[] Shape, int Offset)
{
    public int Length { get; } = Shape.Aggregate(1, (product, dim) => checked(product * dim));

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// All parameters of a model in one flat float32 buffer, with their gradients and the optimizer's moments in
/// buffers of the same layout (as llm.c's ParameterTensors). Layers declare their tensors while the model is
/// built; <see cref="Allocate"/> then creates every buffer once.
/// </summary>
public sealed class ParameterSet
{
    private readonly List<ParameterTensor> _tensors = new();
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private float[]? _values, _gradients;

    public IReadOnlyList<ParameterTensor> Tensors => _tensors;

    /// <summary>Total number of scalar parameters.</summary>
    public int Count { get; private set; }

    public ParameterTensor Declare(string name, params int[] shape)
    {
        if (_values is not null) throw new InvalidOperationException($"Cannot declare '{name}': the parameter buffer is already allocated.");
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ShapeException($"Parameter '{name}' needs a shape of positive dimensions, got [{string.Join(", ", shape)}].");
        if (_byName.ContainsKey(name)) throw new ShapeException($"Parameter '{name}' is declared twice.");
        var tensor = new ParameterTensor(name, shape, Count);
        _tensors.Add(tensor);
        _byName.Add(name, tensor);
        Count = checked(Count + tensor.Length);
        return tensor;
    }

    /// <param name="gradients">False for a model that only predicts: its values alone are allocated, and
    /// <see cref="Gradients"/> throws.</param>
    public void Allocate(bool gradients = true)
    {
        if (_values is not null) return;
        _values = new float[Count];
        if (gradients) _gradients = new float[Count];
    }

    /// <summary>Whether gradient buffers exist (false for an inference-only model).</summary>
    public bool HasGradients => _gradients is not null;

    /// <summary>
    /// Counts the writable views of the values handed out (<see cref="Values"/>, <see cref="Value"/>, <see cref="MarkChanged"/>):
    /// a prediction-only workspace keeps the weights packed for the GEMM kernel (W_ihᵀ, W_hhᵀ, the dense layers' Wᵀ) and
    /// packs them again only when this has moved since — taking a writable view counts as a change whether or not it
    /// writes. Write through a view taken before the last forward, and call <see cref="MarkChanged"/>.
    /// </summary>
    public long Version { get; private set; }

    /// <summary>Says the values changed (for a writer that kept a view from before the last forward).</summary>
    public void MarkChanged() => Version++;

    /// <summary>Every value, writable: counts as a change (<see cref="Version"/>). To read only, use <see cref="Read"/>.</summary>
    public float[] Values
    {
        get
        {
            var values = _values ?? throw new InvalidOperationException("Parameters are not allocated yet.");
            Version++;
            return values;
        }
    }

    /// <summary>A tensor's values, read-only: not a change.</summary>
    public ReadOnlySpan<float> Read(ParameterTensor tensor) =>
        (_values ?? throw new InvalidOperationException("Parameters are not allocated yet.")).AsSpan(tensor.Offset, tensor.Length);

    /// <summary>Every value, read-only: not a change.</summary>
    public ReadOnlySpan<float> ReadAll() => _values ?? throw new InvalidOperationException("Parameters are not allocated yet.");
    public float[] Gradients => _gradients ?? throw new InvalidOperationException(
        _values is null ? "Parameters are not allocated yet." : "This model was loaded for inference only: it has no gradients.");

    /// <summary>A tensor's values, writable: counts as a change (<see cref="Version"/>).</summary>
    public Span<float> Value(ParameterTensor tensor) => Values.AsSpan(tensor.Offset, tensor.Length);
    public Span<float> Gradient(ParameterTensor tensor) => Gradients.AsSpan(tensor.Offset, tensor.Length);

    public ParameterTensor this[string name] =>
        _byName.GetValueOrDefault(name) ?? throw new KeyNotFoundException($"No parameter named '{name}'.");

    public void ZeroGradients() => Array.Clear(Gradients);
}
