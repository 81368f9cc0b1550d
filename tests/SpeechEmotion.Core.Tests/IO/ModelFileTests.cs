using System.Buffers.Binary;
using System.Text;
using SpeechEmotion.Core.IO;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.IO;

public sealed class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-model-").FullName;

    /// <summary>These tests store the architecture in their own "architecture" key, as the caller of ModelFile does in its metadata.</summary>
    private static ClassifierConfig Architecture(IReadOnlyDictionary<string, string> metadata) =>
        ClassifierConfig.Parse(metadata.TryGetValue("architecture", out var text) ? text : throw new OptionsException("no 'architecture' in metadata"));

    private static ModelFile.Loaded Load(string path) => ModelFile.Load(path, Architecture);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SaveSmall(string name = "model.safetensors")
    {
        var model = new SequenceClassifier(new ClassifierConfig(4, 5, 2, true, PoolingKind.Mean, [6], 3, 0.1f));
        model.Initialize(new Rng(1));
        string path = Path.Combine(_dir, name);
        ModelFile.Save(path, model, new Dictionary<string, string> { ["architecture"] = model.Config.Serialize(), ["frontend"] = "sr=22050;n_mfcc=40" });
        return path;
    }

    [Fact]
    public void SaveLoadSaveIsByteIdentical()
    {
        string first = SaveSmall();
        var loaded = Load(first);
        Assert.Equal("sr=22050;n_mfcc=40", loaded.Metadata["frontend"]);
        Assert.Equal(new ClassifierConfig(4, 5, 2, true, PoolingKind.Mean, [6], 3, 0.1f), loaded.Model.Config);
        string second = Path.Combine(_dir, "again.safetensors");
        ModelFile.Save(second, loaded.Model, loaded.Metadata);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*")); // no temp file left behind
    }

    /// <summary>A statistics-pooled model (a head twice as wide as the LSTM's output) loads as itself and predicts the same bits.</summary>
    [Fact]
    public void StatsPooledModelLoadsAndPredictsTheSame()
    {
        var model = new SequenceClassifier(new ClassifierConfig(4, 5, 1, true, PoolingKind.Stats, [6], 3, 0.1f));
        model.Initialize(new Rng(2));
        string path = Path.Combine(_dir, "stats.safetensors");
        ModelFile.Save(path, model, new Dictionary<string, string> { ["architecture"] = model.Config.Serialize() });
        var loaded = Load(path).Model;
        Assert.Equal(PoolingKind.Stats, loaded.Config.Pooling);
        Assert.Equal([6, 20], loaded.Parameters["head.0.weight"].Shape);
        var x = new float[7 * 2 * 4];
        new Rng(3).FillUniform(x, -1, 1);
        int[] lengths = [7, 4];
        var expected = new float[2 * 3];
        var actual = new float[2 * 3];
        model.Predict(x, lengths, 7, 2, expected);
        loaded.Predict(x, lengths, 7, 2, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void HeaderIsStandardSafetensors()
    {
        byte[] bytes = File.ReadAllBytes(SaveSmall());
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Contains("\"lstm.weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[20,4],\"data_offsets\":[0,320]}", header);
        Assert.Contains("\"__metadata__\"", header);
    }

    [Fact]
    public void TruncatedFileIsRejectedWithItsName()
    {
        string path = SaveSmall();
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var error = Assert.Throws<ModelFileException>(() => Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        File.WriteAllBytes(path, bytes[..20]);
        Assert.Contains("truncated", Assert.Throws<ModelFileException>(() => Load(path)).Message);
        // A small header in front of a large file is refused from the header alone (the tail is never read).
        File.WriteAllBytes(path, [.. bytes, .. new byte[1 << 20]]);
        Assert.Contains("1,048,576 bytes after the tensors the header describes", Assert.Throws<ModelFileException>(() => Load(path)).Message);
    }

    [Fact]
    public void OversizedHeaderIsRejected()
    {
        string path = Path.Combine(_dir, "huge.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("exceeds", Assert.Throws<ModelFileException>(() => Load(path)).Message);
    }

    [Fact]
    public void NonSafetensorsFileIsRejected()
    {
        string path = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(path, "this is not a model, just a text file of some length");
        var error = Assert.Throws<ModelFileException>(() => Load(path));
        Assert.Contains("not a safetensors file", error.Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("shorter than", Assert.Throws<ModelFileException>(() => Load(path)).Message);
        Assert.Contains("not found", Assert.Throws<ModelFileException>(() => Load(Path.Combine(_dir, "missing"))).Message);
    }

    [Fact]
    public void WrongShapeForTheArchitectureIsRejected()
    {
        string path = SaveSmall();
        var (tensors, metadata) = SafeTensors.Read(path);
        var changed = new Dictionary<string, string>(metadata)
        {
            ["architecture"] = ClassifierConfig.Parse(metadata["architecture"]).Serialize().Replace("hidden_size=5", "hidden_size=7"),
        };
        SafeTensors.Write(path, tensors, changed);
        var error = Assert.Throws<ModelFileException>(() => Load(path));
        Assert.Contains("lstm.weight_ih_l0", error.Message);
        Assert.Contains("[28, 4]", error.Message);

        SafeTensors.Write(path, tensors.Skip(1).ToList(), metadata);
        Assert.Contains("is missing", Assert.Throws<ModelFileException>(() => Load(path)).Message);

        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["architecture"] = "input_size=4" });
        var bad = Assert.Throws<ModelFileException>(() => Load(path));
        Assert.Equal($"{path}: bad metadata: Architecture text lacks 'pooling'.", bad.Message);
    }

    /// <summary>A file claiming a huge architecture is refused at its metadata, naming the field, before anything is allocated.</summary>
    [Theory]
    [InlineData("input_size=4;hidden_size=2147483647;layers=1;bidirectional=1;pooling=mean;dense=6;classes=3;dropout=0.1", "ClassifierConfig.HiddenSize must be in 1…4096, got 2147483647")]
    [InlineData("input_size=4;hidden_size=5;layers=30000;bidirectional=1;pooling=mean;dense=6;classes=3;dropout=0.1", "ClassifierConfig.Layers must be in 1…16, got 30000")]
    [InlineData("input_size=20000;hidden_size=5;layers=1;bidirectional=1;pooling=mean;dense=6;classes=3;dropout=0.1", "ClassifierConfig.InputSize must be in 1…4096, got 20000")]
    [InlineData("input_size=4;hidden_size=5;layers=1;bidirectional=1;pooling=mean;dense=6;classes=5000;dropout=0.1", "ClassifierConfig.Classes must be in 2…1000, got 5000")]
    public void AHugeArchitectureIsRefusedByField(string architecture, string expected)
    {
        string path = SaveSmall();
        var (tensors, _) = SafeTensors.Read(path);
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["architecture"] = architecture });
        var error = Assert.Throws<ModelFileException>(() => Load(path));
        Assert.Equal($"{path}: bad metadata: {expected}.", error.Message);
    }

    /// <summary>Found by the model fuzzer: JSON strings are decoded only when read, so a name or value that is not
    /// UTF-8 once escaped as an InvalidOperationException.</summary>
    [Theory]
    [InlineData("{\"__metadata__\":{\"k\":\"\u00BE\"}}")]
    [InlineData("{\"\u00BE\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}")]
    public void AHeaderWithTextThatIsNotUtf8IsRefused(string header)
    {
        // \u00BE stands for the lone byte 0xBE, which is not UTF-8.
        byte[] json = header.Select(c => (byte)c).ToArray();
        byte[] file = [.. BitConverter.GetBytes((ulong)json.Length), .. json];
        var error = Assert.Throws<ModelFileException>(() => SafeTensors.Parse(file, "bad.safetensors"));
        Assert.Contains("bad.safetensors: the header holds a name or value that is not valid UTF-8 text", error.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(7.7e32f)] // finite, but products of a few overflow: found by the model fuzzer (predicted NaN)
    [InlineData(-1.5e6f)]
    public void AParameterThatIsNotFiniteOrAbsurdlyLargeIsRefusedByTensor(float value)
    {
        string path = SaveSmall();
        var (tensors, metadata) = SafeTensors.Read(path);
        tensors[1].Data[3] = value;
        SafeTensors.Write(path, tensors, metadata);
        var error = Assert.Throws<ModelFileException>(() => Load(path));
        Assert.Equal($"{path}: tensor '{tensors[1].Name}' holds {value} at element 3: a model's parameters must be finite and at most 1e6 in magnitude.", error.Message);
    }
}
