using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Layers;

/// <summary>A forward-only workspace runs the LSTM a chunk of steps at a time with two state slots (so a long
/// recording needs no [T, B, 4H] gates); its outputs and final states are the training workspace's, bit for bit.</summary>
public class ChunkedForwardTests
{
    [Theory]
    [InlineData(1, false, 1100, 1)]
    [InlineData(2, true, 600, 3)]
    [InlineData(1, true, 1000, 2)]
    [InlineData(2, false, 300, 4)]
    public void Chunked_prediction_gives_the_bits_of_the_whole_sequence(int layers, bool bidirectional, int steps, int batch)
    {
        var shape = new LstmShape(5, 64, layers, bidirectional);
        var parameters = new ParameterSet();
        var lstm = new Lstm(shape, parameters);
        parameters.Allocate(gradients: true);
        var rng = new Rng(31);
        lstm.Initialize(rng);
        var x = TestData.Random(rng, steps * batch * shape.InputSize, 1.5f);
        var lengths = Enumerable.Range(0, batch).Select(b => b == 0 ? steps : Math.Max(1, steps - 197 * b)).ToArray();
        var training = lstm.CreateWorkspace(steps, batch);
        var prediction = lstm.CreateWorkspace(steps, batch, forwardOnly: true);
        lstm.Forward(training, x, lengths, steps, batch);
        lstm.Forward(prediction, x, lengths, steps, batch);
        TestData.Identical(training.Output.ToArray(), prediction.Output.ToArray(), "outputs");
        TestData.Identical(training.FinalHidden.ToArray(), prediction.FinalHidden.ToArray(), "final hidden states");
        TestData.Identical(training.FinalCell.ToArray(), prediction.FinalCell.ToArray(), "final cell states");
        // The chunked workspace holds gates for one chunk only, and here runs several chunks.
        Assert.True(prediction.States[0].Gates.Length <= Math.Max(LstmWorkspace.ProjectionChunkFloats, batch * 4 * shape.HiddenSize));
        Assert.True(steps > LstmWorkspace.ChunkSteps(batch, shape.HiddenSize), $"{steps} steps fit one chunk");
    }
}
