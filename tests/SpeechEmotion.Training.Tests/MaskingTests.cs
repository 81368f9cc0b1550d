using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary>SpecAugment-style masks on a filled batch: within bounds, the same band in every block, seeded, and only where asked.</summary>
public sealed class MaskingTests
{
    private const int Width = 12, Block = 4; // three blocks of four "coefficients": values, deltas, delta-deltas

    private static List<Sample> Samples() => Enumerable.Range(0, 3).Select(i =>
    {
        int steps = 20 + 5 * i;
        var values = Enumerable.Range(0, steps * Width).Select(v => 1f + v).ToArray(); // no zeros before masking
        return new Sample(new Sequence(values, steps, Width), 0, "s", $"/{i}.wav");
    }).ToList();

    private static float[] Filled(Masking? masking, ulong seed, out int steps)
    {
        var samples = Samples();
        var batcher = new Batcher(30, 3, Width);
        var batch = batcher.Fill(samples, [0, 1, 2], new int[3]);
        steps = batch.Steps;
        if (masking is not null) batcher.Mask(3, masking, new Rng(seed));
        return batch.X.ToArray();
    }

    [Fact]
    public void MasksStayWithinTheirBoundsAndCoverTheSameBandOfEveryBlock()
    {
        var masking = new Masking(0.2, 2, Block);
        for (ulong seed = 1; seed <= 50; seed++)
        {
            var x = Filled(masking, seed, out int steps);
            for (int b = 0; b < 3; b++)
            {
                int length = 20 + 5 * b;
                var zeroRows = new List<int>();
                var zeroColumns = new HashSet<int>();
                for (int t = 0; t < steps; t++)
                {
                    var row = x.AsSpan((t * 3 + b) * Width, Width);
                    if (t >= length) { Assert.True(row.IndexOfAnyExcept(0f) < 0); continue; } // padding stays zero
                    if (row.IndexOfAnyExcept(0f) < 0) zeroRows.Add(t);
                    else for (int c = 0; c < Width; c++) if (row[c] == 0) zeroColumns.Add(c);
                }
                Assert.True(zeroRows.Count <= (int)(0.2 * length), $"seed {seed}: {zeroRows.Count} frames masked of {length}");
                if (zeroRows.Count > 0) Assert.Equal(zeroRows.Count - 1, zeroRows[^1] - zeroRows[0]); // one contiguous span
                var band = zeroColumns.Where(c => c < Block).Order().ToList();
                Assert.True(band.Count <= 2);
                Assert.Equal(band.SelectMany(c => new[] { c, c + Block, c + 2 * Block }).Order(), zeroColumns.Order()); // same band, each block
            }
        }
    }

    [Fact]
    public void MasksAreDrawnFromTheSeedAndNoneChangesNothing()
    {
        var masking = new Masking(0.3, 3, Block);
        Assert.Equal(Filled(masking, 7, out _), Filled(masking, 7, out _));
        Assert.NotEqual(Filled(masking, 7, out _), Filled(masking, 8, out _));
        Assert.Equal(Filled(null, 7, out _), Filled(new Masking(0, 0, Block), 7, out _));
        Assert.False(Masking.None.Any);
        Assert.Contains("--mask-time must be a fraction of the frames in [0, 0.5], got 0.9", Assert.Throws<OptionsException>(() => new Masking(0.9, 0)).Message);
        Assert.Contains("--mask-coefficients must be 0 to 64", Assert.Throws<OptionsException>(() => new Masking(0, -1)).Message);
    }
}
