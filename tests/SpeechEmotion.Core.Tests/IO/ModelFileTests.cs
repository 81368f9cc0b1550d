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
    private static readonly string[] Labels = ["a", "b", "c"];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SaveSmall(string name = "model.safetensors")
    {
        var model = new SequenceClassifier(new ClassifierConfig(4, 5, 2, true, PoolingKind.Mean, [6], 3, 0.1f));
        model.Initialize(new Rng(1));
        string path = Path.Combine(_dir, name);
        ModelFile.Save(path, model, Labels, new Dictionary<string, string> { ["frontend"] = "sr=22050;n_mfcc=40" });
        return path;
    }

    [Fact]
    public void SaveLoadSaveIsByteIdentical()
    {
        string first = SaveSmall();
        var loaded = ModelFile.Load(first);
        Assert.Equal(Labels, loaded.Labels);
        Assert.Equal("sr=22050;n_mfcc=40", loaded.Metadata["frontend"]);
        string second = Path.Combine(_dir, "again.safetensors");
        ModelFile.Save(second, loaded.Model, loaded.Labels, new Dictionary<string, string> { ["frontend"] = loaded.Metadata["frontend"] });
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*")); // no temp file left behind
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
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        File.WriteAllBytes(path, bytes[..20]);
        Assert.Contains("truncated", Assert.Throws<ModelFileException>(() => ModelFile.Load(path)).Message);
    }

    [Fact]
    public void OversizedHeaderIsRejected()
    {
        string path = Path.Combine(_dir, "huge.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("exceeds", Assert.Throws<ModelFileException>(() => ModelFile.Load(path)).Message);
    }

    [Fact]
    public void NonSafetensorsFileIsRejected()
    {
        string path = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(path, "this is not a model, just a text file of some length");
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path));
        Assert.Contains("not a safetensors file", error.Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("shorter than", Assert.Throws<ModelFileException>(() => ModelFile.Load(path)).Message);
        Assert.Contains("not found", Assert.Throws<ModelFileException>(() => ModelFile.Load(Path.Combine(_dir, "missing"))).Message);
    }

    [Fact]
    public void WrongShapeForTheArchitectureIsRejected()
    {
        string path = SaveSmall();
        var (tensors, metadata) = SafeTensors.Read(path);
        var changed = new Dictionary<string, string>(metadata)
        {
            [ModelFile.ArchitectureKey] = ClassifierConfig.Parse(metadata[ModelFile.ArchitectureKey]).Serialize().Replace("hidden_size=5", "hidden_size=7"),
        };
        SafeTensors.Write(path, tensors, changed);
        var error = Assert.Throws<ModelFileException>(() => ModelFile.Load(path));
        Assert.Contains("lstm.weight_ih_l0", error.Message);
        Assert.Contains("[28, 4]", error.Message);

        SafeTensors.Write(path, tensors.Skip(1).ToList(), metadata);
        Assert.Contains("is missing", Assert.Throws<ModelFileException>(() => ModelFile.Load(path)).Message);
    }
}
