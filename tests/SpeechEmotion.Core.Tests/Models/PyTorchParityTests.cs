using SpeechEmotion.Core.IO;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;

namespace SpeechEmotion.Core.Tests.Models;

/// <summary>
/// Parity with torch.nn.LSTM (2 layers, bidirectional, padded batch through pack_padded_sequence) and a Linear
/// head, from fixtures written by tests/fixtures/lstm/make_lstm_fixture.py with PyTorch 1.13: outputs, final
/// states, logits, loss, every gradient, and the parameters after three Adam steps. Agreement: within 1e-5
/// relative to each tensor's largest magnitude, plus 1e-5 of the element itself.
/// </summary>
public class PyTorchParityTests
{
    private static Dictionary<string, NamedTensor> Fixture(string pooling)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", "lstm", $"lstm_{pooling}.safetensors");
        return SafeTensors.Read(path).Tensors.ToDictionary(t => t.Name);
    }

    private static void Agree(NamedTensor expected, ReadOnlySpan<float> actual, string what)
    {
        float scale = expected.Data.Max(MathF.Abs);
        TestData.Close(expected.Data, actual[..expected.Data.Length], 1e-5 * scale, 1e-5, what);
    }

    [Theory]
    [InlineData("last")]
    [InlineData("mean")]
    public void MatchesPyTorch(string pooling)
    {
        var f = Fixture(pooling);
        int steps = f["x"].Shape[0], batch = f["x"].Shape[1], input = f["x"].Shape[2];
        int hidden = f["lstm.weight_hh_l0"].Shape[1], classes = f["head.0.bias"].Shape[0];
        var config = new ClassifierConfig(input, hidden, 2, true, pooling == "last" ? PoolingKind.Last : PoolingKind.Mean, [], classes, 0f);
        var model = new SequenceClassifier(config, new AdamOptions(learningRate: 1e-2f));
        foreach (var tensor in model.Parameters.Tensors)
        {
            Assert.Equal(f[tensor.Name].Shape, tensor.Shape);
            f[tensor.Name].Data.CopyTo(model.Parameters.Value(tensor));
        }
        var x = f["x"].Data;
        var lengths = f["lengths"].Data.Select(v => (int)v).ToArray();
        var labels = f["labels"].Data.Select(v => (int)v).ToArray();

        model.Parameters.ZeroGradients();
        model.Forward(x, lengths, steps, batch, training: false, rng: null);
        float loss = model.Loss(labels);
        model.Backward(x, labels, computeInputGradient: true);
        Agree(f["output"], model.SequenceOutput, "output");
        Agree(f["h_n"], model.FinalHidden, "h_n");
        Agree(f["c_n"], model.FinalCell, "c_n");
        Agree(f["logits"], model.Logits, "logits");
        Assert.Equal(f["loss"].Data[0], loss, 5);
        Agree(f["grad.x"], model.InputGradient, "grad.x");
        foreach (var tensor in model.Parameters.Tensors)
            Agree(f["grad." + tensor.Name], model.Parameters.Gradient(tensor), "grad." + tensor.Name);

        var rng = new SpeechEmotion.Core.Tensors.Rng(0); // unused: dropout is 0, but TrainStep takes the generator explicitly
        for (int step = 0; step < 3; step++)
        {
            float stepLoss = model.TrainStep(x, lengths, labels, steps, batch, rng);
            Assert.Equal(f["adam.losses"].Data[step], stepLoss, 5);
        }
        foreach (var tensor in model.Parameters.Tensors)
            Agree(f["adam3." + tensor.Name], model.Parameters.Value(tensor), "after 3 Adam steps: " + tensor.Name);
    }
}
