using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Tensors;

/// <summary>
/// Some processors (the Intel cores seen here) take a microcode assist for every arithmetic operation on a subnormal
/// float, and managed code cannot set flush-to-zero, so the engine must never make one: every buffer that feeds a
/// kernel is checked after training steps long enough for the backward pass's gradients to decay through the
/// subnormal range (without the flush they do: the forget gate multiplies dc at every one of 400 steps).
/// </summary>
public class SubnormalTests
{
    private static int Subnormals(ReadOnlySpan<float> values)
    {
        int count = 0;
        foreach (float v in values) if (float.IsSubnormal(v)) count++;
        return count;
    }

    private static Dictionary<string, int> Audit(SequenceClassifier model)
    {
        var found = new Dictionary<string, int>();
        void Add(string name, ReadOnlySpan<float> values) { int n = Subnormals(values); if (n > 0) found[name] = found.GetValueOrDefault(name) + n; }
        Add("parameters", model.Parameters.Values);
        Add("gradients", model.Parameters.Gradients);
        Add("Adam m", model.Optimizer.FirstMoment);
        Add("Adam v", model.Optimizer.SecondMoment);
        var ws = model.Ws;
        foreach (var state in ws.Lstm.States)
        {
            Add("gates / dâ", state.Gates); Add("h", state.Hidden); Add("c", state.Cell); Add("tanh c", state.TanhCell);
            Add("dh", state.HiddenGradient); Add("dh'", state.HiddenGradientOther); Add("dc", state.CellGradient);
        }
        for (int layer = 0; layer < model.Config.LstmShape.Layers; layer++)
        {
            Add("layer output", ws.Lstm.LayerOutput(layer));
            if (layer < model.Config.LstmShape.Layers - 1) Add("layer output gradient", ws.Lstm.LayerOutputGradient(layer));
        }
        foreach (var a in ws.Activations) Add("head activations", a);
        foreach (var g in ws.Gradients) Add("head gradients", g);
        Add("probabilities", ws.ProbabilityBuffer);
        Add("LSTM output gradient", ws.LstmOutputGradient);
        Add("input gradient", ws.InputGradient);
        return found;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void Long_sequences_train_without_making_a_subnormal(int layers, bool bidirectional)
    {
        const int steps = 400, batch = 4, input = 6, classes = 3;
        var config = new ClassifierConfig(input, 16, layers, bidirectional, PoolingKind.Last, [8], classes, 0f);
        var model = new SequenceClassifier(config, pool: new WorkerPool(1));
        var rng = new Rng(11);
        model.Initialize(rng);
        var x = TestData.Random(rng, steps * batch * input, 1f);
        int[] lengths = [steps, steps - 7, steps / 2, 5];
        int[] labels = [0, 1, 2, 1];
        var seen = new Dictionary<string, int>();
        for (int step = 0; step < 20; step++)
        {
            model.Parameters.ZeroGradients();
            model.Forward(x, lengths, steps, batch, training: true, rng);
            model.Loss(labels);
            model.Backward(x, labels, computeInputGradient: true);
            foreach (var (k, n) in Audit(model)) seen[k] = seen.GetValueOrDefault(k) + n;
            model.Step();
            foreach (var (k, n) in Audit(model)) seen[k] = seen.GetValueOrDefault(k) + n;
        }
        Assert.True(seen.Count == 0, "subnormal floats in: " + string.Join(", ", seen.Select(kv => $"{kv.Key} ({kv.Value})")));
    }

    [Fact]
    public void Flush_zeroes_exactly_the_values_under_the_floor_at_every_vector_width()
    {
        float floor = Subnormal.Floor;
        float[] special = [0f, -0f, float.Epsilon, -float.Epsilon, 1e-39f, -1e-39f, float.MinValue, float.MaxValue,
            floor, -floor, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(floor) - 1), 1e-20f, 1f, -3.5f,
            float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        var rng = new Rng(3);
        // Every length 0…70 (so each vector loop and its scalar tail run), of specials and random magnitudes.
        for (int n = 0; n <= 70; n++)
        {
            var values = new float[n];
            for (int i = 0; i < n; i++)
                values[i] = i % 3 == 0 ? special[rng.NextInt(special.Length)] : MathF.ScaleB((float)rng.NextDouble() - 0.5f, rng.NextInt(120) - 100);
            var expected = values.Select(v => MathF.Abs(v) < floor ? 0f : v).ToArray();
            Subnormal.Flush(values);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), values.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
