using SpeechEmotion.Core.Tensors;
namespace SpeechEmotion.Audio;

/// <summary>
/// Band-limited resampling by windowed-sinc interpolation (Smith's bandlimited interpolation, as resampy and
/// soxr do it): each output sample at input time t = j·from/to is Σ x[i]·s·sinc(s·(t − i))·w((t − i)/W), with
/// the cutoff s = min(1, to/from)·0.95 of the lower Nyquist frequency, a Kaiser window (β = 8.6) over
/// W = 32/s input samples, and unit gain at DC. Zero phase: no delay is introduced. The output has
/// ceil(n·to/from) samples, as librosa.resample gives. We do not use NWaves' Resampler here: on our
/// measurements its arbitrary-ratio path shifts and attenuates a 1 kHz tone when downsampling 24,414 → 22,050 Hz.
/// </summary>
public static class Resampling
{
    private const int ZeroCrossings = 32;
    private const double Rolloff = 0.95, KaiserBeta = 8.6;

    /// <summary>The cutoff s as a fraction of the input rate's Nyquist frequency, and the window's half width 32/s in input samples.</summary>
    internal static (double Scale, double HalfWidth) Filter(int fromRate, int toRate)
    {
        double scale = Math.Min(1.0, (double)toRate / fromRate) * Rolloff;
        return (scale, ZeroCrossings / scale);
    }

    public static float[] Resample(ReadOnlySpan<float> input, int fromRate, int toRate)
    {
        if (fromRate <= 0 || toRate <= 0) throw new ArgumentOutOfRangeException(nameof(fromRate), $"sample rates must be positive, got {fromRate} → {toRate}");
        if (fromRate == toRate) return input.ToArray();
        int outputLength = (int)Math.Ceiling(input.Length * (double)toRate / fromRate);
        var output = new float[outputLength];
        var (scale, halfWidth) = Filter(fromRate, toRate);
        for (int j = 0; j < outputLength; j++)
        {
            double t = j * (double)fromRate / toRate;
            int first = Math.Max(0, (int)Math.Ceiling(t - halfWidth));
            int last = Math.Min(input.Length - 1, (int)Math.Floor(t + halfWidth));
            double sum = 0;
            for (int i = first; i <= last; i++) sum += input[i] * Kernel(t - i, scale);
            output[j] = (float)(sum * scale);
        }
        return output;
    }

    /// <summary>The interpolation kernel h(u) = sinc(u)·kaiser(u/32) at u = s·|offset| (offset in input samples).</summary>
    internal static double Kernel(double offset, double scale)
    {
        double u = Math.Abs(offset) * scale;
        if (u >= ZeroCrossings) return 0;
        double ratio = u / ZeroCrossings;
        double sinc = u < 1e-12 ? 1.0 : Math.Sin(Math.PI * u) / (Math.PI * u);
        return sinc * BesselI0(KaiserBeta * Math.Sqrt(Math.Max(0.0, 1.0 - ratio * ratio))) / BesselI0(KaiserBeta);
    }

    /// <summary>Modified Bessel function of the first kind, order 0 (power series; converges fast for β ≤ 20).</summary>
    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, quarter = x * x / 4;
        for (int k = 1; k < 50; k++)
        {
            term *= quarter / (k * k);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return sum;
    }
}

/// <summary>
/// The same band-limited resampler as <see cref="Resampling.Resample"/>, with its filter precomputed per phase:
/// for rates from → to with g = gcd(from, to) there are to/g distinct fractional positions, and each output sample
/// is one dot product of the input window with its phase's weights (FixedOrder.Dot: vectorised, and the same bits at every vector width). Tables
/// are built on first use of a rate pair and kept in the instance: one instance per thread (it is not
/// thread-safe), as <see cref="FrontEnd"/> does.
/// </summary>
public sealed class Resampler
{
    private const long MaxTableWeights = 4_000_000; // 16 MB of weights per rate pair at most
    private readonly Dictionary<(int From, int To), (float[][] Phases, int Left)> _tables = new();

    public float[] Resample(ReadOnlySpan<float> input, int fromRate, int toRate)
    {
        if (fromRate <= 0 || toRate <= 0) throw new ArgumentOutOfRangeException(nameof(fromRate), $"sample rates must be positive, got {fromRate} → {toRate}");
        if (fromRate == toRate) return input.ToArray();
        if (!TableFits(fromRate, toRate)) return Resampling.Resample(input, fromRate, toRate); // an odd rate pair with too many phases: the direct formula
        var (phases, left) = Table(fromRate, toRate);
        int outputLength = (int)OutputLength(input.Length, fromRate, toRate);
        var output = new float[outputLength];
        int taps = phases[0].Length, gcd = Gcd(fromRate, toRate);
        for (int j = 0; j < outputLength; j++)
        {
            long position = (long)j * fromRate; // t = position / toRate input samples
            int whole = (int)(position / toRate), phase = (int)(position % toRate / gcd); // fraction = phase / (to / gcd)
            int first = whole - left;
            ReadOnlySpan<float> weights = phases[phase];
            int from = Math.Max(0, first), to = Math.Min(input.Length, first + taps);
            if (to > from) output[j] = FixedOrder.Dot(input[from..to], weights[(from - first)..(to - first)]);
        }
        return output;
    }

    /// <summary>The output length for <paramref name="inputLength"/> input samples, as <see cref="Resample"/> makes it.</summary>
    public static long OutputLength(long inputLength, int fromRate, int toRate) =>
        fromRate == toRate ? inputLength : (long)Math.Ceiling(inputLength * (double)toRate / fromRate);

    /// <summary>
    /// <see cref="Resample"/> of a signal of <paramref name="inputLength"/> samples that arrives a block at a time
    /// from <paramref name="read"/> (which fills the span it is given and returns how many it wrote, 0 at the end):
    /// the same outputs, bit for bit, handed to <paramref name="emit"/> in blocks, holding only a filter's width of
    /// input. Returns false, reading nothing, for a rate pair whose table would be too large (the direct formula
    /// needs the whole signal).
    /// </summary>
    public bool Stream(long inputLength, int fromRate, int toRate, Func<Span<float>, int> read, Action<ReadOnlySpan<float>> emit)
    {
        const int Block = 1 << 16;
        if (fromRate <= 0 || toRate <= 0) throw new ArgumentOutOfRangeException(nameof(fromRate), $"sample rates must be positive, got {fromRate} → {toRate}");
        var output = new float[Block];
        if (fromRate == toRate)
        {
            for (int n; (n = read(output)) > 0;) emit(output.AsSpan(0, n));
            return true;
        }
        if (!TableFits(fromRate, toRate)) return false;
        var (phases, left) = Table(fromRate, toRate);
        int taps = phases[0].Length, gcd = Gcd(fromRate, toRate);
        long outputLength = OutputLength(inputLength, fromRate, toRate);
        var buffer = new float[taps + 2 * Block];
        long bufferStart = 0; // input index of buffer[0]
        int count = 0, produced = 0;
        for (long j = 0; j < outputLength; j++)
        {
            long position = j * fromRate;
            long whole = position / toRate, first = whole - left;
            int phase = (int)(position % toRate / gcd);
            long from = Math.Max(0, first), to = Math.Min(inputLength, first + taps);
            while (bufferStart + count < to)
            {
                int drop = (int)Math.Min(count, Math.Max(0, from - bufferStart)); // input no later output needs
                if (drop > 0) { Array.Copy(buffer, drop, buffer, 0, count - drop); bufferStart += drop; count -= drop; }
                int got = read(buffer.AsSpan(count, (int)Math.Min(buffer.Length - count, inputLength - bufferStart - count)));
                if (got <= 0) throw new InvalidOperationException($"the input ended at sample {bufferStart + count} of the {inputLength} declared.");
                count += got;
            }
            output[produced++] = to > from
                ? FixedOrder.Dot(buffer.AsSpan((int)(from - bufferStart), (int)(to - from)), phases[phase].AsSpan((int)(from - first), (int)(to - from)))
                : 0f;
            if (produced == Block) { emit(output); produced = 0; }
        }
        if (produced > 0) emit(output.AsSpan(0, produced));
        return true;
    }

    /// <summary>Whether the rate pair's table (one filter per phase, to/gcd phases) stays within <see cref="MaxTableWeights"/>.</summary>
    private static bool TableFits(int fromRate, int toRate) =>
        (long)(toRate / Gcd(fromRate, toRate)) * (2 * (long)Math.Ceiling(Resampling.Filter(fromRate, toRate).HalfWidth) + 1) <= MaxTableWeights;

    private (float[][], int) Table(int fromRate, int toRate)
    {
        if (_tables.TryGetValue((fromRate, toRate), out var table)) return table;
        int g = Gcd(fromRate, toRate), count = toRate / g;
        var (scale, halfWidth) = Resampling.Filter(fromRate, toRate);
        int left = (int)Math.Ceiling(halfWidth), taps = 2 * left + 1;
        var phases = new float[count][];
        for (int p = 0; p < count; p++)
        {
            double fraction = p / (double)count; // t = whole + fraction
            var weights = new float[taps];
            for (int k = 0; k < taps; k++)
                weights[k] = (float)(Resampling.Kernel(fraction + left - k, scale) * scale);
            phases[p] = weights;
        }
        return _tables[(fromRate, toRate)] = (phases, left);
    }

    private static int Gcd(int a, int b) { while (b != 0) (a, b) = (b, a % b); return a; }
}
