using System.Globalization;
using System.Net;
using System.Text;

namespace SpeechEmotion.Training.Reports;

/// <summary>Small inline-SVG charts for the report: line charts, grouped bars, a waveform. No script, no network.</summary>
public static class Svg
{
    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    public static string Escape(string text) => WebUtility.HtmlEncode(text);

    public static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

    /// <summary>Lines over a shared x axis (1…n), each series its own colour, with axes, ticks and a legend.</summary>
    public static string LineChart(string title, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series, string xLabel,
        double? yMin = null, double? yMax = null, int width = 520, int height = 280)
    {
        const int left = 56, right = 16, top = 30, bottom = 44;
        int n = series.Max(s => s.Values.Count);
        var all = series.SelectMany(s => s.Values).Where(double.IsFinite).ToList();
        double lo = yMin ?? (all.Count > 0 ? all.Min() : 0), hi = yMax ?? (all.Count > 0 ? all.Max() : 1);
        if (hi <= lo) hi = lo + 1;
        double X(int i) => left + (n <= 1 ? 0 : i * (width - left - right) / (double)(n - 1));
        double Y(double v) => top + (hi - v) * (height - top - bottom) / (hi - lo);
        var svg = new StringBuilder($"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img'>");
        svg.Append($"<text x='{width / 2}' y='18' text-anchor='middle' font-weight='bold'>{Escape(title)}</text>");
        for (int t = 0; t <= 4; t++)
        {
            double v = lo + t * (hi - lo) / 4;
            svg.Append($"<line x1='{left}' x2='{width - right}' y1='{F(Y(v))}' y2='{F(Y(v))}' stroke='#ddd'/>");
            svg.Append($"<text x='{left - 6}' y='{F(Y(v) + 4)}' text-anchor='end' font-size='11'>{v.ToString(hi - lo < 5 ? "0.###" : "0", CultureInfo.InvariantCulture)}</text>");
        }
        int step = Math.Max(1, n / 10);
        for (int i = 0; i < n; i += step)
            svg.Append($"<text x='{F(X(i))}' y='{height - bottom + 16}' text-anchor='middle' font-size='11'>{i + 1}</text>");
        svg.Append($"<text x='{(left + width - right) / 2}' y='{height - 8}' text-anchor='middle' font-size='12'>{Escape(xLabel)}</text>");
        svg.Append($"<rect x='{left}' y='{top}' width='{width - left - right}' height='{height - top - bottom}' fill='none' stroke='#888'/>");
        for (int s = 0; s < series.Count; s++)
        {
            var points = series[s].Values.Select((v, i) => double.IsFinite(v) ? $"{F(X(i))},{F(Y(Math.Clamp(v, lo, hi)))}" : null).Where(p => p is not null);
            svg.Append($"<polyline fill='none' stroke='{Palette[s % Palette.Length]}' stroke-width='2' points='{string.Join(' ', points)}'/>");
            svg.Append($"<rect x='{left + 10 + s * 130}' y='{top + 6}' width='12' height='12' fill='{Palette[s % Palette.Length]}'/>");
            svg.Append($"<text x='{left + 26 + s * 130}' y='{top + 16}' font-size='12'>{Escape(series[s].Name)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Grouped bars: one group per category, one bar per series.</summary>
    public static string BarChart(string title, IReadOnlyList<string> categories, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series,
        int width = 640, int height = 300)
    {
        const int left = 48, right = 16, top = 44, bottom = 64;
        double hi = Math.Max(1, series.SelectMany(s => s.Values).Max());
        double groupWidth = (width - left - right) / (double)categories.Count, barWidth = groupWidth * 0.8 / series.Count;
        double Y(double v) => top + (hi - v) * (height - top - bottom) / hi;
        var svg = new StringBuilder($"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img'>");
        svg.Append($"<text x='{width / 2}' y='18' text-anchor='middle' font-weight='bold'>{Escape(title)}</text>");
        for (int t = 0; t <= 4; t++)
        {
            double v = t * hi / 4;
            svg.Append($"<line x1='{left}' x2='{width - right}' y1='{F(Y(v))}' y2='{F(Y(v))}' stroke='#ddd'/><text x='{left - 6}' y='{F(Y(v) + 4)}' text-anchor='end' font-size='11'>{F(v)}</text>");
        }
        for (int c = 0; c < categories.Count; c++)
        {
            for (int s = 0; s < series.Count; s++)
            {
                double v = series[s].Values[c], x = left + c * groupWidth + groupWidth * 0.1 + s * barWidth;
                svg.Append($"<rect x='{F(x)}' y='{F(Y(v))}' width='{F(barWidth - 1)}' height='{F(Y(0) - Y(v))}' fill='{Palette[s % Palette.Length]}'><title>{Escape(categories[c])}, {Escape(series[s].Name)}: {F(v)}</title></rect>");
            }
            svg.Append($"<text x='{F(left + (c + 0.5) * groupWidth)}' y='{height - bottom + 16}' text-anchor='middle' font-size='11'>{Escape(categories[c])}</text>");
        }
        for (int s = 0; s < series.Count; s++)
            svg.Append($"<rect x='{left + s * 120}' y='26' width='12' height='12' fill='{Palette[s % Palette.Length]}'/><text x='{left + 16 + s * 120}' y='36' font-size='12'>{Escape(series[s].Name)}</text>");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A waveform as its min/max envelope per pixel column.</summary>
    public static string Waveform(ReadOnlySpan<float> samples, int sampleRate, string colour, int width = 300, int height = 90)
    {
        var svg = new StringBuilder($"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img'>");
        svg.Append($"<rect width='{width}' height='{height}' fill='#fafafa'/><line x1='0' x2='{width}' y1='{height / 2}' y2='{height / 2}' stroke='#ccc'/>");
        float peak = Math.Max(1e-6f, MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(samples))); // MaxMagnitude keeps the sign
        var path = new StringBuilder();
        for (int x = 0; x < width; x++)
        {
            int from = (int)((long)x * samples.Length / width), to = Math.Max(from + 1, (int)((long)(x + 1) * samples.Length / width));
            float lo = 0, hi = 0;
            for (int i = from; i < Math.Min(to, samples.Length); i++) { lo = Math.Min(lo, samples[i]); hi = Math.Max(hi, samples[i]); }
            path.Append($"M{x},{F(height / 2.0 - hi / peak * (height / 2.0 - 2))}V{F(height / 2.0 - lo / peak * (height / 2.0 - 2))}");
        }
        svg.Append($"<path d='{path}' stroke='{colour}' stroke-width='1'/>");
        svg.Append($"<text x='4' y='12' font-size='10' fill='#555'>{F(samples.Length / (double)sampleRate)} s</text>");
        return svg.Append("</svg>").ToString();
    }
}
