using System.Net;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace SpeechEmotion.Training.Reports;

/// <summary>
/// The pages' charts, drawn with OxyPlot.Core (a managed plotting library: axes with units and integer ticks for
/// counts, legends placed beside the data, colour bars, log scales) and inlined as SVG: no script, no network.
/// </summary>
public static class Charts
{
    public static readonly string[] Hex = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    public static readonly OxyColor[] Palette = Hex.Select(OxyColor.Parse).ToArray();

    public static string Escape(string text) => WebUtility.HtmlEncode(text);

    /// <summary>
    /// The start of every page up to &lt;body&gt;: the policy runs no script and loads nothing (styles inline, images
    /// from data only), so text that slipped through unescaped could not act; <paramref name="style"/> is the page's CSS.
    /// </summary>
    public static string Head(string title, string style) =>
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>" +
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">" +
        $"<title>{Escape(title)}</title><style>{style}</style></head><body>";

    /// <summary>The centre frequency (Hz) of mel band m of n between fmin and fmax, on Slaney's mel scale (librosa's
    /// default: linear below 1 kHz, logarithmic above), for labelling a spectrogram's frequency axis.</summary>
    public static double MelCentreHz(int m, int bands, double fmin, double fmax)
    {
        const double linear = 200.0 / 3, breakHz = 1000, breakMel = breakHz / linear, logStep = 0.06875177742094912; // ln(6.4) / 27
        static double ToMel(double hz) => hz < breakHz ? hz / linear : breakMel + Math.Log(hz / breakHz) / logStep;
        static double ToHz(double mel) => mel < breakMel ? mel * linear : breakHz * Math.Exp(logStep * (mel - breakMel));
        double low = ToMel(fmin), high = ToMel(fmax);
        return ToHz(low + (m + 1) * (high - low) / (bands + 1));
    }

    private static int _figures;

    /// <summary>
    /// A plot as an inline &lt;svg&gt; (without the XML declaration a document would start with). OxyPlot numbers its clip
    /// paths from 1 in every export, and ids are global to an HTML page, so each figure's ids get a prefix of their own:
    /// otherwise a chart is clipped to another chart's plot area.
    /// </summary>
    public static string Svg(PlotModel model, int width, int height)
    {
        string svg = SvgExporter.ExportToString(model, width, height, isDocument: false);
        string prefix = $"f{Interlocked.Increment(ref _figures)}-";
        svg = svg[svg.IndexOf("<svg", StringComparison.Ordinal)..].Replace("id=\"", "id=\"" + prefix).Replace("url(#", "url(#" + prefix);
        return "<figure style='margin:0'>" + svg + "</figure>";
    }

    public static PlotModel Plot(string title) => new() { Title = title, DefaultFont = "sans-serif", TitleFontSize = 13 };

    public static void LegendOutside(PlotModel model) =>
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Outside });

    /// <summary>
    /// Curves over epochs 1…n (integer ticks), train and validation, with the chosen epoch marked; the loss on a log
    /// scale, accuracies in %.
    /// </summary>
    public static PlotModel Epochs(string title, string yTitle, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series, int? chosen, bool log)
    {
        var model = Plot(title);
        int n = series.Max(s => s.Values.Count);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "epoch", Minimum = 0.5, Maximum = n + 0.5, MinimumMajorStep = 1, MinimumMinorStep = 1, StringFormat = "0" });
        model.Axes.Add(log ? new LogarithmicAxis { Position = AxisPosition.Left, Title = yTitle } : new LinearAxis { Position = AxisPosition.Left, Title = yTitle, Minimum = 0, Maximum = 100 });
        for (int k = 0; k < series.Count; k++)
        {
            if (!series[k].Values.Any(double.IsFinite)) continue; // e.g. no validation part: no validation curve
            var line = new LineSeries { Title = series[k].Name, Color = Palette[k], MarkerType = MarkerType.Circle, MarkerSize = 2.5 };
            for (int e = 0; e < series[k].Values.Count; e++)
                if (double.IsFinite(series[k].Values[e]) && (!log || series[k].Values[e] > 0)) line.Points.Add(new DataPoint(e + 1, series[k].Values[e]));
            model.Series.Add(line);
        }
        if (chosen is int epoch)
            model.Annotations.Add(new LineAnnotation { Type = LineAnnotationType.Vertical, X = epoch, Color = OxyColors.Gray, LineStyle = LineStyle.Dash, Text = $"chosen: epoch {epoch}" });
        LegendOutside(model);
        return model;
    }

    /// <summary>Horizontal bars of counts per category and series, integer ticks.</summary>
    public static PlotModel Counts(string title, IReadOnlyList<string> categories, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series)
    {
        var model = Plot(title);
        var axis = new CategoryAxis { Position = AxisPosition.Left, Title = "class" };
        axis.Labels.AddRange(categories);
        model.Axes.Add(axis);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "utterances", Minimum = 0, MaximumPadding = 0.05, MinimumMajorStep = 1, MinimumMinorStep = 1, StringFormat = "0" });
        model.PlotMargins = new OxyThickness(8 + 7 * categories.Max(c => c.Length), double.NaN, double.NaN, double.NaN); // room for the class names
        for (int k = 0; k < series.Count; k++)
        {
            var bars = new BarSeries { Title = series[k].Name, FillColor = Palette[k], IsStacked = false };
            foreach (double v in series[k].Values) bars.Items.Add(new BarItem(v));
            model.Series.Add(bars);
        }
        LegendOutside(model);
        return model;
    }

    /// <summary>A waveform as its envelope (the minimum and maximum of each of at most 2,000 stretches), time in seconds.</summary>
    public static PlotModel Waveform(string title, ReadOnlySpan<float> samples, int sampleRate, OxyColor colour, double? seconds = null)
    {
        var model = Plot(title);
        double duration = seconds ?? samples.Length / (double)sampleRate;
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "time (s)", Minimum = 0, Maximum = duration });
        double peak = samples.IsEmpty ? 1 : Math.Max(1e-4, Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(samples)));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "amplitude", Minimum = -peak, Maximum = peak }); // scaled to the peak, quiet speech shows
        var area = new AreaSeries { Color = colour, Fill = OxyColor.FromAColor(160, colour), StrokeThickness = 0.5 };
        int stride = Math.Max(1, samples.Length / 2000);
        for (int i = 0; i < samples.Length; i += stride)
        {
            var part = samples.Slice(i, Math.Min(stride, samples.Length - i));
            double x = (i + part.Length / 2.0) / sampleRate;
            area.Points.Add(new DataPoint(x, System.Numerics.Tensors.TensorPrimitives.Max(part)));
            area.Points2.Add(new DataPoint(x, System.Numerics.Tensors.TensorPrimitives.Min(part)));
        }
        model.Series.Add(area);
        return model;
    }

    /// <summary>
    /// A heat map of values [frames × rows] (row-major by frame), frame f centred at (f + 0.5)·frameSeconds, with a
    /// colour bar; <paramref name="symmetric"/> centres the colour scale on zero.
    /// </summary>
    public static PlotModel HeatMap(string title, ReadOnlySpan<float> values, int frames, int rows, double frameSeconds, string rowTitle,
        string colourTitle, OxyPalette palette, bool symmetric = false, Func<double, string>? rowLabel = null, int maxColumns = 200, int maxRows = 64)
    {
        // At most maxColumns × maxRows cells are drawn (each the mean of the values it covers): every cell is an SVG
        // rectangle (OxyPlot's bitmap heat maps do not export to SVG), so this keeps a page to a few megabytes at most.
        int fb = (frames + maxColumns - 1) / maxColumns, rb = (rows + maxRows - 1) / maxRows, columns = (frames + fb - 1) / fb, cells = (rows + rb - 1) / rb;
        var data = new double[columns, cells];
        double extent = 1e-12;
        for (int f = 0; f < columns; f++)
            for (int r = 0; r < cells; r++)
            {
                double sum = 0; int count = 0;
                for (int ff = f * fb; ff < Math.Min(frames, (f + 1) * fb); ff++)
                    for (int rr = r * rb; rr < Math.Min(rows, (r + 1) * rb); rr++) { sum += values[ff * rows + rr]; count++; }
                data[f, r] = sum / count;
                extent = Math.Max(extent, Math.Abs(data[f, r]));
            }
        var model = Plot(title);
        double step = frameSeconds > 0 ? frameSeconds : 1;
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = frameSeconds > 0 ? "time (s)" : "step", Minimum = 0, Maximum = frames * step });
        var y = new LinearAxis { Position = AxisPosition.Left, Title = rowTitle, Minimum = -0.5, Maximum = rows - 0.5 };
        if (rowLabel is not null) { y.MajorStep = Math.Max(1, rows / 8); y.LabelFormatter = rowLabel; }
        model.Axes.Add(y);
        var colours = new LinearColorAxis { Position = AxisPosition.Right, Palette = palette, Title = colourTitle };
        if (symmetric) { colours.Minimum = -extent; colours.Maximum = extent; }
        model.Axes.Add(colours);
        model.Series.Add(new HeatMapSeries
        {
            X0 = fb * step / 2, X1 = (columns - 0.5) * fb * step, Y0 = (rb - 1) / 2.0, Y1 = (cells - 1) * rb + (rb - 1) / 2.0, Data = data, Interpolate = false,
            RenderMethod = HeatMapRenderMethod.Rectangles,
        });
        return model;
    }

    /// <summary>
    /// A reliability diagram: test utterances in 10 bins of confidence (the top class's probability), each bin's
    /// accuracy against its mean confidence (a calibrated model lies on the diagonal), the bins' counts as labels.
    /// </summary>
    public static PlotModel Reliability(string title, IReadOnlyList<(double Confidence, bool Right)> predictions)
    {
        var model = Plot(title);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "confidence (%)", Minimum = 0, Maximum = 100 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "accuracy (%)", Minimum = 0, Maximum = 100 });
        model.Series.Add(new LineSeries { Title = "calibrated", Color = OxyColors.Gray, LineStyle = LineStyle.Dash, Points = { new DataPoint(0, 0), new DataPoint(100, 100) } });
        var observed = new LineSeries { Title = "this model", Color = Palette[0], MarkerType = MarkerType.Circle, MarkerSize = 4 };
        for (int bin = 0; bin < 10; bin++)
        {
            var inBin = predictions.Where(p => Math.Min(9, (int)(p.Confidence * 10)) == bin).ToList();
            if (inBin.Count == 0) continue;
            var point = new DataPoint(100 * inBin.Average(p => p.Confidence), 100 * inBin.Count(p => p.Right) / (double)inBin.Count);
            observed.Points.Add(point);
            model.Annotations.Add(new TextAnnotation { TextPosition = point, Text = inBin.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Stroke = OxyColors.Transparent, FontSize = 9, Offset = new ScreenVector(0, -10) });
        }
        model.Series.Add(observed);
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.TopLeft, LegendPlacement = LegendPlacement.Inside });
        return model;
    }
}
