using System.Text.Json.Nodes;
using SpeechEmotion.Core;
using SpeechEmotion.Core.IO;

namespace SpeechEmotion.Inference.Tests;

public sealed class ModelMetadataTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Written by the release before the JSON document (schema 1, key=value metadata) from TestModels.Frames(31) with
    /// speaker normalisation, speeds 0.9 and 1.1, and a speaker split holding out YAF, seed 31.</summary>
    private static string Schema1Fixture => Path.Combine(AppContext.BaseDirectory, "fixtures", "models", "v1-frames-small.safetensors");

    /// <summary>What that release predicted for TestModels.Wavs(…)[2] with the fixture, as float bits.</summary>
    private static readonly uint[] Schema1Prediction = [0x3f11be79, 0x3eb76693, 0x3d9471ed];

    [Fact]
    public void AModelOfTheEarlierReleaseStillLoadsAndPredictsAsItDid()
    {
        var bundle = ModelBundle.Load(Schema1Fixture);
        Assert.Equal(TestModels.Labels, bundle.Labels);
        Assert.Equal((RecipeKind.Frames, NormalizationMode.Speaker), (bundle.Recipe.Kind, bundle.Recipe.Normalization));
        Assert.Equal([0.9, 1.1], bundle.Recipe.SpeedFactors);
        Assert.True(double.IsPositiveInfinity(bundle.OneFileRelevance)); // single files standardised as that release did
        Assert.Equal(new SplitInfo(Protocol.Speaker, 31, "YAF"), bundle.Split);
        Assert.Equal(TestModels.Frames(31).Model.Config, bundle.Model.Config);
        Assert.Equal(TestModels.Frames(31, NormalizationMode.Speaker).Statistics.Mean, bundle.Statistics.Mean);

        string wav = TestModels.Wavs(_folder.Path, 3)[2];
        var prediction = EmotionRecognizer.Load(Schema1Fixture).Predict(wav);
        for (int k = 0; k < 3; k++) Assert.Equal(BitConverter.UInt32BitsToSingle(Schema1Prediction[k]), prediction.Scores[k], 6);

        // Saved again, it is a schema 2 document that predicts the same bits.
        string again = Path.Combine(_folder.Path, "again.safetensors");
        bundle.Save(again);
        var metadata = SafeTensors.Read(again).Metadata;
        Assert.Equal([ModelMetadata.FormatKey, ModelMetadata.Key], metadata.Keys.Order());
        Assert.Equal(2, ModelMetadata.FromJson(metadata[ModelMetadata.Key]).Schema);
        var reloaded = EmotionRecognizer.Load(again).Predict(wav);
        Assert.Equal(prediction.Scores.ToArray(), reloaded.Scores.ToArray());
    }

    [Fact]
    public void SaveLoadSaveIsByteIdenticalAndKeepsEveryField()
    {
        var original = TestModels.Frames(32, NormalizationMode.Utterance, speeds: [0.9, 1.1]) with { Split = new SplitInfo(Protocol.Word, 7, null), AdaptationRounds = 3, OneFileRelevance = 96, OneFileTemperature = 2.5f, ScoringWindow = 65 };
        string first = Path.Combine(_folder.Path, "first.safetensors"), second = Path.Combine(_folder.Path, "second.safetensors");
        original.Save(first);
        var loaded = ModelBundle.Load(first);
        loaded.Save(second);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Equal((original.Recipe.Kind, original.Recipe.Normalization, original.Split, 3), (loaded.Recipe.Kind, loaded.Recipe.Normalization, loaded.Split, loaded.AdaptationRounds));
        Assert.Equal(original.Recipe.FrontEnd, loaded.Recipe.FrontEnd);
        Assert.Equal(original.Statistics.Std, loaded.Statistics.Std);
        Assert.Equal(96, loaded.OneFileRelevance);
        Assert.Equal(2.5f, loaded.OneFileTemperature);
        Assert.Equal(65, loaded.ScoringWindow);
        Assert.Equal(original.Model.Parameters.Values, loaded.Model.Parameters.Values);

        var document = JsonNode.Parse(SafeTensors.Read(first).Metadata[ModelMetadata.Key])!;
        Assert.Equal(2, (int)document["schema"]!);
        Assert.Equal("utterance", (string)document["normalization"]!);
        Assert.Equal(16, (int)document["architecture"]!["hidden_size"]!);
        Assert.Equal(22050, (int)document["front_end"]!["sample_rate"]!);
        Assert.Equal("word", (string)document["training"]!["protocol"]!);
        Assert.Equal(96, (double)document["one_file_relevance"]!);
        Assert.Equal(2.5, (double)document["one_file_temperature"]!);
        Assert.Equal(65, (int)document["scoring_window"]!);
        // A model without one (+∞: the training side's statistics as they are) writes none, and reads back as +∞.
        string plain = Path.Combine(_folder.Path, "plain.safetensors");
        TestModels.Frames(32).Save(plain);
        Assert.DoesNotContain("one_file_relevance", SafeTensors.Read(plain).Metadata[ModelMetadata.Key]);
        Assert.True(double.IsPositiveInfinity(ModelBundle.Load(plain).OneFileRelevance));
        // Nor a one-file temperature: single files take the model's temperature, as every model before it.
        Assert.DoesNotContain("one_file_temperature", SafeTensors.Read(plain).Metadata[ModelMetadata.Key]);
        Assert.Null(ModelBundle.Load(plain).OneFileTemperature);
        Assert.Equal(ModelBundle.Load(plain).Temperature, ModelBundle.Load(plain).TemperatureFor(oneFile: true));
        // Nor a scoring window: whole recordings, as every model before it.
        Assert.DoesNotContain("scoring_window", SafeTensors.Read(plain).Metadata[ModelMetadata.Key]);
        Assert.Equal(0, ModelBundle.Load(plain).ScoringWindow);
        // Nor a convolution: the architecture without one is written as before convolutions existed.
        Assert.DoesNotContain("conv", SafeTensors.Read(plain).Metadata[ModelMetadata.Key]);
    }

    /// <summary>A convolution before the LSTM travels in the document (conv_channels, conv_kernel) and its tensors load;
    /// a kernel the engine cannot take is refused naming the field.</summary>
    [Fact]
    public void AConvolutionTravelsInTheDocument()
    {
        var plain = TestModels.Frames(34);
        var c = plain.Model.Config;
        var config = new SpeechEmotion.Core.Models.ClassifierConfig(c.InputSize, c.HiddenSize, c.Layers, c.Bidirectional, c.Pooling, c.DenseSizes, c.Classes, c.Dropout, 6, 3);
        var model = new SpeechEmotion.Core.Models.SequenceClassifier(config);
        model.Initialize(new SpeechEmotion.Core.Tensors.Rng(5));
        var bundle = plain with { Model = model, Recipe = plain.Recipe with { Model = config } };
        string path = Path.Combine(_folder.Path, "conv.safetensors");
        bundle.Save(path);
        var document = JsonNode.Parse(SafeTensors.Read(path).Metadata[ModelMetadata.Key])!;
        Assert.Equal((6, 3), ((int)document["architecture"]!["conv_channels"]!, (int)document["architecture"]!["conv_kernel"]!));
        var loaded = ModelBundle.Load(path);
        Assert.Equal(config, loaded.Model.Config);
        Assert.Equal(model.Parameters.Values, loaded.Model.Parameters.Values);

        var (tensors, metadata) = SafeTensors.Read(path);
        document["architecture"]!["conv_kernel"] = 4;
        SafeTensors.Write(path, tensors, new Dictionary<string, string>(metadata) { [ModelMetadata.Key] = document.ToJsonString() });
        Assert.Contains("ClassifierConfig.ConvKernel must be an odd number", Assert.Throws<ModelFileException>(() => ModelBundle.Load(path)).Message);
    }

    /// <summary>Each broken field is named; a newer schema asks for a newer release.</summary>
    [Theory]
    [InlineData("schema", "3", "schema 3 is newer than this release reads (2)")]
    [InlineData("architecture.pooling", "\"sideways\"", "architecture.pooling must be last, mean, attention or stats, got 'sideways'")]
    [InlineData("architecture.hidden_size", "-4", "ClassifierConfig.HiddenSize must be in 1…4096, got -4")]
    [InlineData("front_end.window", "\"open\"", "front_end.window must be whole, seed or trim, got 'open'")]
    [InlineData("normalization", "\"loud\"", "Normalization must be global, speaker or utterance, got 'loud'")]
    [InlineData("labels", "[\"a\",\"a\",\"b\"]", "labels must be distinct and non-empty")]
    [InlineData("speed_factors", "[3]", "speed_factors must lie in (0.5, 2)")]
    [InlineData("rooms", "[\"0.4\"]", "rooms takes rooms as RT60:SNR (seconds:dB), e.g. 0.4:15; got '0.4'")]
    [InlineData("statistics.std", "[1]", "statistics hold 39 means and 1 deviations for 39 features")]
    [InlineData("training.protocol", "\"sideways\"", "Protocol must be random, speaker, word or corpus, got 'sideways'")]
    [InlineData("one_file_relevance", "-1", "one_file_relevance must be 0 or more and finite (frames), got -1")]
    [InlineData("one_file_temperature", "0", "one_file_temperature must be positive and finite, got 0")]
    [InlineData("scoring_window", "0", "scoring_window must be 1 to 1,048,576 frames when present (absent: whole recordings), got 0")]
    [InlineData("scoring_window", "2000000", "scoring_window must be 1 to 1,048,576 frames when present (absent: whole recordings), got 2000000")]
    [InlineData("training.seed", "-1", "bad metadata: 'speech_emotion' is not a model document")]
    [InlineData("architecture.conv_channels", "8", "architecture.conv_channels and architecture.conv_kernel come together")]
    [InlineData("architecture.conv_kernel", "4", "architecture.conv_channels and architecture.conv_kernel come together")]
    public void ABrokenDocumentIsRefusedNamingTheField(string field, string value, string expected)
    {
        string path = Path.Combine(_folder.Path, "model.safetensors");
        TestModels.Frames(33).Save(path);
        var (tensors, metadata) = SafeTensors.Read(path);
        var document = JsonNode.Parse(metadata[ModelMetadata.Key])!;
        var parts = field.Split('.');
        var parent = parts.Length == 1 ? document : document[parts[0]]!;
        parent[parts[^1]] = JsonNode.Parse(value);
        SafeTensors.Write(path, tensors, new Dictionary<string, string>(metadata) { [ModelMetadata.Key] = document.ToJsonString() });
        var error = Assert.Throws<ModelFileException>(() => ModelBundle.Load(path));
        Assert.StartsWith($"{path}: bad metadata: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AFileWithoutTheDocumentIsNotASpeechEmotionModel()
    {
        string path = Path.Combine(_folder.Path, "plain.safetensors");
        SafeTensors.Write(path, [new NamedTensor("w", [2], [1f, 2f])], new Dictionary<string, string> { ["note"] = "from elsewhere" });
        var error = Assert.Throws<ModelFileException>(() => ModelBundle.Load(path));
        Assert.Equal($"{path}: a safetensors file, but not a SpeechEmotion model: __metadata__ has no 'speech_emotion'.", error.Message);
    }
}
