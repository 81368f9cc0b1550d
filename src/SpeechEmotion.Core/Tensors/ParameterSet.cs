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

    public float[] Values => _values ?? throw new InvalidOperationException("Parameters are not allocated yet.");
    public float[] Gradients => _gradients ?? throw new InvalidOperationException(
        _values is null ? "Parameters are not allocated yet." : "This model was loaded for inference only: it has no gradients.");

    public Span<float> Value(ParameterTensor tensor) => Values.AsSpan(tensor.Offset, tensor.Length);
    public Span<float> Gradient(ParameterTensor tensor) => Gradients.AsSpan(tensor.Offset, tensor.Length);

    public ParameterTensor this[string name] =>
        _byName.GetValueOrDefault(name) ?? throw new KeyNotFoundException($"No parameter named '{name}'.");

    public void ZeroGradients() => Array.Clear(Gradients);
}
