using System.Text.Json;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Core.IO;

/// <summary>
/// A classifier on disk: its parameters as safetensors tensors with PyTorch's names (see this project's README for
/// each one), and a string-to-string <c>__metadata__</c> that the caller owns. The architecture is one of the
/// things the caller stores there, so loading asks it back through a reader of the metadata.
/// </summary>
public static class ModelFile
{
    /// <summary>The largest parameter a model may hold: trained weights stay within tens; 1e6 lets no product of a few
    /// of them overflow a float, so a loaded model always computes finite numbers.</summary>
    public const float MaxParameterMagnitude = 1e6f;

    /// <summary>Every parameter tensor of the model, then the caller's metadata; written to a temp file and renamed.</summary>
    public static void Save(string path, SequenceClassifier model, IReadOnlyDictionary<string, string> metadata)
    {
        var tensors = model.Parameters.Tensors
            .Select(t => new NamedTensor(t.Name, t.Shape, model.Parameters.Read(t).ToArray()))
            .ToList();
        SafeTensors.Write(path, tensors, metadata);
    }

    public sealed record Loaded(SequenceClassifier Model, IReadOnlyDictionary<string, string> Metadata);

    /// <param name="architecture">Reads the architecture from the metadata; an <see cref="OptionsException"/>,
    /// <see cref="FormatException"/>, <see cref="ArgumentException"/> or <see cref="JsonException"/> it throws becomes a
    /// <see cref="ModelFileException"/> naming the file ("bad metadata: …").</param>
    /// <param name="inferenceOnly">Allocate the parameters alone, without gradients or optimiser state.</param>
    public static Loaded Load(string path, Func<IReadOnlyDictionary<string, string>, ClassifierConfig> architecture, bool inferenceOnly = false) =>
        Build(SafeTensors.Read(path), path, architecture, inferenceOnly);

    /// <summary>A model file already in memory; <paramref name="name"/> names it in messages.</summary>
    public static Loaded Load(byte[] file, string name, Func<IReadOnlyDictionary<string, string>, ClassifierConfig> architecture, bool inferenceOnly = false) =>
        Build(SafeTensors.Parse(file, name), name, architecture, inferenceOnly);

    private static Loaded Build((IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) read, string path,
        Func<IReadOnlyDictionary<string, string>, ClassifierConfig> architecture, bool inferenceOnly)
    {
        var (tensors, metadata) = read;
        ClassifierConfig config;
        try { config = architecture(metadata); }
        catch (Exception e) when (e is OptionsException or FormatException or JsonException or ArgumentException or OverflowException)
        {
            throw new ModelFileException(path, $"bad metadata: {e.Message}", e);
        }
        var model = new SequenceClassifier(config, inferenceOnly: inferenceOnly);
        var byName = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
            if (!byName.TryAdd(tensor.Name, tensor)) throw new ModelFileException(path, $"tensor '{tensor.Name}' appears twice.");
        foreach (var expected in model.Parameters.Tensors)
        {
            if (!byName.Remove(expected.Name, out var found))
                throw new ModelFileException(path, $"tensor '{expected.Name}' {expected.ShapeText} is missing.");
            if (!found.Shape.SequenceEqual(expected.Shape))
                throw new ModelFileException(path, $"tensor '{expected.Name}' has shape [{string.Join(", ", found.Shape)}], the architecture needs {expected.ShapeText}.");
            int bad = Array.FindIndex(found.Data, v => !(MathF.Abs(v) <= MaxParameterMagnitude));
            if (bad >= 0) throw new ModelFileException(path, $"tensor '{expected.Name}' holds {found.Data[bad]} at element {bad}: a model's parameters must be finite and at most {MaxParameterMagnitude:0e0} in magnitude.");
            found.Data.CopyTo(model.Parameters.Value(expected));
        }
        if (byName.Count > 0) throw new ModelFileException(path, $"unexpected tensor(s) for this architecture: {string.Join(", ", byName.Keys)}.");
        return new Loaded(model, metadata);
    }
}
