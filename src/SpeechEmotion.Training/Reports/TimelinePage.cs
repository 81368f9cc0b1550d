using System.Globalization;
using System.Net;
using System.Text;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Series;
using SpeechEmotion.Core.IO;

namespace SpeechEmotion.Training.Reports;

/// <summary>
/// The page of <c>ser predict --timeline --html</c>: per recording, its envelope with the segments of speech coloured
/// by the emotion heard (legend below), and each class's probability over time; OxyPlot, inline SVG, no script.
/// </summary>
public static class TimelinePage
{
    public static void Write(string path, IReadOnlyList<Timeline> timelines, IReadOnlyList<string> labels)
    {
        var html = new StringBuilder(Charts.Head("SpeechEmotion timeline",
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}.key span{display:inline-block;margin-right:1em}.key i{display:inline-block;width:1em;height:1em;margin-right:.3em;vertical-align:middle}"));
        html.Append("<h1>Emotion timeline</h1><p class='key'>");
        for (int k = 0; k < labels.Count; k++)
            html.Append($"<span><i style='background:{Charts.Hex[k % Charts.Hex.Length]}'></i>{Escape(labels[k])}</span>");
        html.Append("</p>");
        foreach (var t in timelines)
        {
            html.Append($"<h2>{Escape(t.Source)}</h2><p>{t.Segments.Count} segment(s) of speech in {t.DurationSeconds.ToString("F1", CultureInfo.InvariantCulture)} s.</p>");
            html.Append(Svg(Envelope(t, labels))).Append(Svg(Probabilities(t, labels)));
        }
        html.Append("</body></html>");
        AtomicFile.WriteAllText(path, html.ToString());
    }

    private static string Escape(string text) => Charts.Escape(text);

    private static string Svg(PlotModel model) => Charts.Svg(model, 1060, 260);

    private static LinearAxis Time(Timeline t) => new() { Position = AxisPosition.Bottom, Title = "time (s)", Minimum = 0, Maximum = Math.Max(t.DurationSeconds, 1e-3) };

    /// <summary>The RMS envelope (± amplitude of each 10 ms frame), at most 4,000 points, with each segment shaded.</summary>
    private static PlotModel Envelope(Timeline t, IReadOnlyList<string> labels)
    {
        var model = Charts.Plot("Envelope and segments (coloured by the emotion heard)");
        model.Axes.Add(Time(t));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "amplitude (RMS, full scale 1)", Minimum = -1, Maximum = 1 });
        foreach (var s in t.Segments)
            model.Annotations.Add(new RectangleAnnotation
            {
                MinimumX = s.StartSeconds, MaximumX = s.EndSeconds, MinimumY = -1, MaximumY = 1,
                Fill = OxyColor.FromAColor(90, Charts.Palette[s.Prediction.LabelIndex % Charts.Palette.Length]),
                Text = s.Prediction.Label, TextPosition = new DataPoint((s.StartSeconds + s.EndSeconds) / 2, 0.85),
            });
        var area = new AreaSeries { Color = OxyColors.Black, Fill = OxyColor.FromAColor(160, OxyColors.Gray), StrokeThickness = 0.5 };
        int stride = Math.Max(1, t.EnergyDb.Length / 4000);
        for (int f = 0; f < t.EnergyDb.Length; f += stride)
        {
            float db = t.EnergyDb[f];
            for (int g = f; g < Math.Min(t.EnergyDb.Length, f + stride); g++) db = Math.Max(db, t.EnergyDb[g]);
            double rms = Math.Sqrt(Math.Pow(10, db / 10)), x = (f + stride / 2.0) * t.FrameSeconds;
            area.Points.Add(new DataPoint(x, rms));
            area.Points2.Add(new DataPoint(x, -rms));
        }
        model.Series.Add(area);
        return model;
    }

    /// <summary>Each class's probability per segment, as a step held over the segment (gaps where there is no speech).</summary>
    private static PlotModel Probabilities(Timeline t, IReadOnlyList<string> labels)
    {
        var model = Charts.Plot("Each class's probability over time");
        model.Axes.Add(Time(t));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "probability (%)", Minimum = 0, Maximum = 100 });
        for (int k = 0; k < labels.Count; k++)
        {
            var line = new LineSeries { Title = labels[k], Color = Charts.Palette[k % Charts.Palette.Length], StrokeThickness = 2 };
            foreach (var s in t.Segments)
            {
                line.Points.Add(new DataPoint(s.StartSeconds, 100 * s.Prediction.Scores[k]));
                line.Points.Add(new DataPoint(s.EndSeconds, 100 * s.Prediction.Scores[k]));
                line.Points.Add(DataPoint.Undefined); // no line across the pause
            }
            model.Series.Add(line);
        }
        Charts.LegendOutside(model);
        return model;
    }
}
