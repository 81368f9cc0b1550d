using FsCheck.Xunit;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Layers;

/// <summary>
/// Central-difference checks of every gradient the LSTM returns (tolerance: <see cref="TestData.GradientAtol"/>,
/// <see cref="TestData.GradientRtol"/>), on FsCheck-generated sizes, lengths, stacking and directions.
/// The scalar loss weighs every output, final hidden and final cell state with fixed random weights, including
/// the padded steps' outputs, whose gradient must be ignored.
/// </summary>
public class LstmGradientTests
{
    [Property(MaxTest = 40, Arbitrary = [typeof(Generators)])]
    public void EveryGradientMatchesCentralDifferences(LstmCase c)
    {
        var rng = new Rng((ulong)c.Seed);
        var shape = new LstmShape(c.Input, c.Hidden, c.Layers, c.Bidirectional);
        var parameters = new ParameterSet();
        var lstm = new Lstm(shape, parameters);
        parameters.Allocate();
        lstm.Initialize(rng);
        int cells = c.Layers * shape.Directions, stateSize = cells * c.Batch * c.Hidden;
        var x = TestData.Random(rng, c.Steps * c.Batch * c.Input);
        var h0 = TestData.Random(rng, stateSize, 0.5f);
        var c0 = TestData.Random(rng, stateSize, 0.5f);
        var lengths = Enumerable.Range(0, c.Batch).Select(b => b == 0 ? c.Steps : 1 + rng.NextInt(c.Steps)).ToArray();
        var rOut = TestData.Random(rng, c.Steps * c.Batch * shape.OutputSize);
        var rHidden = TestData.Random(rng, stateSize);
        var rCell = TestData.Random(rng, stateSize);
        var ws = lstm.CreateWorkspace(c.Steps + 1, c.Batch + 1); // larger than needed: capacity reuse is part of the test

        double Loss()
        {
            lstm.Forward(ws, x, lengths, c.Steps, c.Batch, h0, c0);
            return TestData.Dot(ws.Output, rOut) + TestData.Dot(ws.FinalHidden, rHidden) + TestData.Dot(ws.FinalCell, rCell);
        }

        Loss();
        var dx = new float[x.Length]; var dh0 = new float[stateSize]; var dc0 = new float[stateSize];
        lstm.Backward(ws, x, rOut, rHidden, rCell, dx, dh0, dc0);

        foreach (var tensor in parameters.Tensors)
        {
            var numeric = TestData.NumericGradient(parameters.Values, tensor.Offset, tensor.Length, Loss, TestData.GradientEpsilon);
            TestData.GradientsAgree(numeric, parameters.Gradient(tensor), $"{tensor.Name} ({c})");
        }
        TestData.GradientsAgree(TestData.NumericGradient(x, 0, x.Length, Loss, TestData.GradientEpsilon), dx, $"dx ({c})");
        TestData.GradientsAgree(TestData.NumericGradient(h0, 0, h0.Length, Loss, TestData.GradientEpsilon), dh0, $"dh0 ({c})");
        TestData.GradientsAgree(TestData.NumericGradient(c0, 0, c0.Length, Loss, TestData.GradientEpsilon), dc0, $"dc0 ({c})");
    }

    [Fact]
    public void PaddedStepsKeepTheStateAndOutputZero()
    {
        var rng = new Rng(3);
        var shape = new LstmShape(2, 3, 1, Bidirectional: true);
        var parameters = new ParameterSet();
        var lstm = new Lstm(shape, parameters);
        parameters.Allocate();
        lstm.Initialize(rng);
        var x = TestData.Random(rng, 4 * 2 * 2);
        var ws = lstm.CreateWorkspace(4, 2);
        lstm.Forward(ws, x, [4, 2], 4, 2);
        var padded = ws.Output.ToArray();

        // Sequence 1 alone, length 2, must give the same outputs and final state as inside the padded batch.
        var alone = new float[2 * 2];
        for (int t = 0; t < 2; t++) x.AsSpan((t * 2 + 1) * 2, 2).CopyTo(alone.AsSpan(t * 2, 2));
        var single = lstm.CreateWorkspace(2, 1);
        lstm.Forward(single, alone, [2], 2, 1);
        for (int t = 0; t < 4; t++)
            for (int j = 0; j < 6; j++)
            {
                float got = padded[(t * 2 + 1) * 6 + j];
                if (t < 2) Assert.Equal(single.Output[t * 6 + j], got, 6);
                else Assert.Equal(0f, got);
            }
        for (int d = 0; d < 2; d++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(single.FinalHidden[d * 3 + j], ws.FinalHidden[(d * 2 + 1) * 3 + j], 6);
    }

    /// <summary>
    /// In a batch of mixed lengths, a step's products run over the rows still inside their sequence only, gathered
    /// (LstmStep.ActiveRows). Every per-row result — the outputs, dx and dh0 — must then be the same bits as the
    /// sequence's alone, where no row is ever gathered, on one thread or two.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ARowGetsTheSameBitsInAMixedBatchAsAlone(int threads)
    {
        const int steps = 9, batch = 20, input = 5, hidden = 16;
        var rng = new Rng(11);
        var shape = new LstmShape(input, hidden, 2, Bidirectional: true);
        var parameters = new ParameterSet();
        var lstm = new Lstm(shape, parameters);
        parameters.Allocate();
        lstm.Initialize(rng);
        using var pool = new WorkerPool(threads);
        var x = TestData.Random(rng, steps * batch * input);
        var lengths = Enumerable.Range(0, batch).Select(b => b == 0 ? steps : 1 + rng.NextInt(steps)).ToArray();
        var dOut = TestData.Random(rng, steps * batch * shape.OutputSize);
        int stateSize = 4 * batch * hidden;
        var ws = lstm.CreateWorkspace(steps, batch);
        lstm.Forward(ws, x, lengths, steps, batch, pool: pool);
        var output = ws.Output.ToArray();
        var dx = new float[x.Length]; var dh0 = new float[stateSize];
        lstm.Backward(ws, x, dOut, dx: dx, dh0: dh0, pool: pool);

        for (int b = 0; b < batch; b++)
        {
            int n = lengths[b], o = shape.OutputSize;
            float[] xb = new float[n * input], dOutB = new float[n * o];
            for (int t = 0; t < n; t++)
            {
                x.AsSpan((t * batch + b) * input, input).CopyTo(xb.AsSpan(t * input));
                dOut.AsSpan((t * batch + b) * o, o).CopyTo(dOutB.AsSpan(t * o));
            }
            var single = lstm.CreateWorkspace(n, 1);
            lstm.Forward(single, xb, [n], n, 1, pool: pool);
            var dxB = new float[xb.Length]; var dh0B = new float[4 * hidden];
            lstm.Backward(single, xb, dOutB, dx: dxB, dh0: dh0B, pool: pool);
            for (int t = 0; t < n; t++)
            {
                TestData.Identical(single.Output.Slice(t * o, o), output.AsSpan((t * batch + b) * o, o), $"output of row {b} at step {t}");
                TestData.Identical(dxB.AsSpan(t * input, input), dx.AsSpan((t * batch + b) * input, input), $"dx of row {b} at step {t}");
            }
            for (int cell = 0; cell < 4; cell++)
                TestData.Identical(dh0B.AsSpan(cell * hidden, hidden), dh0.AsSpan((cell * batch + b) * hidden, hidden), $"dh0 of row {b}, cell {cell}");
        }
    }

    [Fact]
    public void BadLengthsAndShapesAreRejected()
    {
        var parameters = new ParameterSet();
        var lstm = new Lstm(new LstmShape(2, 3), parameters);
        parameters.Allocate();
        var ws = lstm.CreateWorkspace(4, 2);
        var error = Assert.Throws<ShapeException>(() => lstm.Forward(ws, new float[16], [4, 0], 4, 2));
        Assert.Contains("sequence 1 has length 0", error.Message);
        error = Assert.Throws<ShapeException>(() => lstm.Forward(ws, new float[16], [4, 4, 4], 5, 3));
        Assert.Contains("5 steps", error.Message);
        error = Assert.Throws<ShapeException>(() => lstm.Forward(ws, new float[15], [4, 4], 4, 2));
        Assert.Contains("LSTM input x", error.Message);
        Assert.Throws<OptionsException>(() => new Lstm(new LstmShape(0, 3), new ParameterSet()));
    }
}
