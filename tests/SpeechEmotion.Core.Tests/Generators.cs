using FsCheck;
using FsCheck.Fluent;

namespace SpeechEmotion.Core.Tests;

/// <summary>An LSTM problem: sizes, stacking, direction, and the seed its values are drawn from.</summary>
public sealed record LstmCase(int Steps, int Batch, int Input, int Hidden, int Layers, bool Bidirectional, int Seed);

/// <summary>A small classifier problem for the whole-model gradient check.</summary>
public sealed record ClassifierCase(int Steps, int Batch, int Input, int Hidden, int Layers, bool Bidirectional, SpeechEmotion.Core.Layers.PoolingKind Pooling,
    int[] DenseSizes, int Classes, bool Dropout, bool ClassWeights, int Seed, int ConvChannels = 0, int ConvKernel = 0);

/// <summary>A convolution over time: steps, batch, input and output channels, kernel (odd), seed.</summary>
public sealed record ConvCase(int Steps, int Batch, int Input, int Output, int Kernel, int Seed);

/// <summary>A dense layer or loss problem: batch, widths, seed.</summary>
public sealed record DenseCase(int Batch, int Input, int Output, int Seed);

/// <summary>FsCheck generators with shrinkers: a failing case shrinks towards the smallest sizes that still fail.</summary>
public static class Generators
{
    public static Arbitrary<LstmCase> Lstm() => Arb.From(
        from steps in Gen.Choose(1, 5)
        from batch in Gen.Choose(1, 3)
        from input in Gen.Choose(1, 4)
        from hidden in Gen.Choose(1, 5)
        from layers in Gen.Choose(1, 2)
        from bidirectional in Gen.Elements(false, true)
        from seed in Gen.Choose(0, 1_000_000)
        select new LstmCase(steps, batch, input, hidden, layers, bidirectional, seed),
        ShrinkLstm);

    private static IEnumerable<LstmCase> ShrinkLstm(LstmCase c)
    {
        if (c.Steps > 1) yield return c with { Steps = c.Steps - 1 };
        if (c.Batch > 1) yield return c with { Batch = c.Batch - 1 };
        if (c.Input > 1) yield return c with { Input = c.Input - 1 };
        if (c.Hidden > 1) yield return c with { Hidden = c.Hidden - 1 };
        if (c.Layers > 1) yield return c with { Layers = c.Layers - 1 };
        if (c.Bidirectional) yield return c with { Bidirectional = false };
    }

    public static Arbitrary<ClassifierCase> Classifier() => Arb.From(
        from steps in Gen.Choose(1, 4)
        from batch in Gen.Choose(1, 3)
        from input in Gen.Choose(1, 3)
        from hidden in Gen.Choose(1, 4)
        from layers in Gen.Choose(1, 2)
        from bidirectional in Gen.Elements(false, true)
        from pooling in Gen.Elements(SpeechEmotion.Core.Layers.PoolingKind.Last, SpeechEmotion.Core.Layers.PoolingKind.Mean, SpeechEmotion.Core.Layers.PoolingKind.Attention,
            SpeechEmotion.Core.Layers.PoolingKind.Stats)
        from denseCount in Gen.Choose(0, 2)
        from denseSizes in Gen.ArrayOf(Gen.Choose(1, 4), denseCount)
        from classes in Gen.Choose(2, 4)
        from dropout in Gen.Elements(false, true)
        from weights in Gen.Elements(false, true)
        from seed in Gen.Choose(0, 1_000_000)
        from conv in Gen.Elements((0, 0), (0, 0), (1, 1), (2, 3), (3, 5))
        select new ClassifierCase(steps, batch, input, hidden, layers, bidirectional, pooling, denseSizes, classes, dropout, weights, seed, conv.Item1, conv.Item2),
        ShrinkClassifier);

    private static IEnumerable<ClassifierCase> ShrinkClassifier(ClassifierCase c)
    {
        if (c.Steps > 1) yield return c with { Steps = c.Steps - 1 };
        if (c.Batch > 1) yield return c with { Batch = c.Batch - 1 };
        if (c.DenseSizes.Length > 0) yield return c with { DenseSizes = c.DenseSizes[1..] };
        if (c.Layers > 1) yield return c with { Layers = c.Layers - 1 };
        if (c.Bidirectional) yield return c with { Bidirectional = false };
        if (c.Dropout) yield return c with { Dropout = false };
        if (c.ClassWeights) yield return c with { ClassWeights = false };
        if (c.ConvChannels > 0) yield return c with { ConvChannels = 0, ConvKernel = 0 };
    }

    public static Arbitrary<ConvCase> Conv() => Arb.From(
        from steps in Gen.Choose(1, 6)
        from batch in Gen.Choose(1, 3)
        from input in Gen.Choose(1, 4)
        from output in Gen.Choose(1, 4)
        from kernel in Gen.Elements(1, 3, 5, 7)
        from seed in Gen.Choose(0, 1_000_000)
        select new ConvCase(steps, batch, input, output, kernel, seed),
        c => new[]
        {
            c.Steps > 1 ? c with { Steps = c.Steps - 1 } : null,
            c.Batch > 1 ? c with { Batch = c.Batch - 1 } : null,
            c.Input > 1 ? c with { Input = c.Input - 1 } : null,
            c.Output > 1 ? c with { Output = c.Output - 1 } : null,
            c.Kernel > 1 ? c with { Kernel = c.Kernel - 2 } : null,
        }.OfType<ConvCase>());

    public static Arbitrary<DenseCase> Dense() => Arb.From(
        from batch in Gen.Choose(1, 5)
        from input in Gen.Choose(1, 9)
        from output in Gen.Choose(1, 9)
        from seed in Gen.Choose(0, 1_000_000)
        select new DenseCase(batch, input, output, seed),
        c => new[]
        {
            c with { Batch = c.Batch - 1 }, c with { Input = c.Input - 1 }, c with { Output = c.Output - 1 },
        }.Where(s => s.Batch > 0 && s.Input > 0 && s.Output > 0));
}
