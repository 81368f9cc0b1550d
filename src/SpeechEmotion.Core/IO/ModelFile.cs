using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Core.IO;

/// <summary>
/// A trained classifier on disk: its parameters as safetensors with PyTorch's names, and in __metadata__ the
/// architecture ("architecture"), the labels ("labels", comma-separated) and whatever else the caller stores
/// (front-end settings, normalisation statistics).
/// </summary>
public static class ModelFile
{
    public const string ArchitectureKey = "architecture";
    public const string LabelsKey = "labels";
    public const string FormatKey = "format";
    public const string FormatValue = "speech-emotion/1";

    public static void Save(string path, SequenceClassifier model, IReadOnlyList<string> labels, IReadOnlyDictionary<string, string>? extra = null)
    {
        if (labels.Count != model.Config.Classes)
            throw new ShapeException($"{labels.Count} labels for a model of {model.Config.Classes} classes.");
        if (labels.Any(l => l.Contains(',') || l.Length == 0)) throw new OptionsException("Labels must be non-empty and contain no comma.");
        var metadata = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            [FormatKey] = FormatValue,
            [ArchitectureKey] = model.Config.Serialize(),
            [LabelsKey] = string.Join(',', labels),
        };
        var tensors = model.Parameters.Tensors
            .Select(t => new NamedTensor(t.Name, t.Shape, model.Parameters.Value(t).ToArray()))
            .ToList();
        SafeTensors.Write(path, tensors, metadata);
    }

    public sealed record Loaded(SequenceClassifier Model, IReadOnlyList<string> Labels, IReadOnlyDictionary<string, string> Metadata);

    /// <param name="inferenceOnly">Allocate the parameters alone, without gradients or optimiser state.</param>
    public static Loaded Load(string path, bool inferenceOnly = false) => FromSafeTensors(SafeTensors.Read(path), path, inferenceOnly);

    /// <summary>A model file already in memory; <paramref name="name"/> names it in messages.</summary>
    public static Loaded Load(byte[] file, string name, bool inferenceOnly = false) => FromSafeTensors(SafeTensors.Parse(file, name), name, inferenceOnly);

    private static Loaded FromSafeTensors((IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) read, string path, bool inferenceOnly)
    {
        var (tensors, metadata) = read;
        if (!metadata.TryGetValue(ArchitectureKey, out var architecture))
            throw new ModelFileException(path, "a safetensors file, but not a SpeechEmotion model: __metadata__ has no 'architecture'.");
        ClassifierConfig config;
        try { config = ClassifierConfig.Parse(architecture); }
        catch (OptionsException e) { throw new ModelFileException(path, $"bad architecture in metadata: {e.Message}", e); }
        var labels = metadata.TryGetValue(LabelsKey, out var labelText) ? labelText.Split(',') : Array.Empty<string>();
        if (labels.Length != config.Classes)
            throw new ModelFileException(path, $"metadata lists {labels.Length} labels for a model of {config.Classes} classes.");
        var model = new SequenceClassifier(config, inferenceOnly: inferenceOnly);
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var expected in model.Parameters.Tensors)
        {
            if (!byName.Remove(expected.Name, out var found))
                throw new ModelFileException(path, $"tensor '{expected.Name}' {expected.ShapeText} is missing.");
            if (!found.Shape.SequenceEqual(expected.Shape))
                throw new ModelFileException(path, $"tensor '{expected.Name}' has shape [{string.Join(", ", found.Shape)}], the architecture needs {expected.ShapeText}.");
            found.Data.CopyTo(model.Parameters.Value(expected));
        }
        if (byName.Count > 0) throw new ModelFileException(path, $"unexpected tensor(s) for this architecture: {string.Join(", ", byName.Keys)}.");
        return new Loaded(model, labels, metadata);
    }
}
