using System.Globalization;
using System.Net;
using System.Text;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;
using SpeechEmotion.Core.IO;

namespace SpeechEmotion.Training.Reports;

/// <summary>
/// The page of <c>ser explain --html</c>: the features the model saw, gradient × input over them, and the per-frame
/// attribution beside occlusion, on one time axis; drawn with OxyPlot and inlined as SVG (no script, no network).
/// </summary>
public static class ExplainPage
{
    public static void Write(string path, Explanation e, IReadOnlyList<string> names)
    {
        var html = new StringBuilder(Charts.Head("SpeechEmotion explanation", "body{font-family:sans-serif;max-width:1000px;margin:2em auto}"));
        html.Append($"<h1>Why “{Escape(e.Label)}”</h1><p>{Escape(e.Source)}: {Escape(e.Label)} with probability {e.Probability.ToString("P1", CultureInfo.InvariantCulture)} ")
            .Append("(the model's softmax before temperature scaling). Gradient × input is the gradient of the class's log-probability ")
            .Append("with respect to each standardised feature, from the engine's own backward pass, times the feature; occlusion is the ")
            .Append($"probability lost when a window of {e.OcclusionWindow} frames is replaced by the recording's mean frame.</p>");
        html.Append(Svg(Heat("The features the model saw (standardised)", e.Input, e, names, OxyPalettes.Viridis(200), symmetric: false)));
        html.Append(Svg(Heat($"Gradient × input for “{e.Label}” (red: for, blue: against)", e.Attribution, e, names, OxyPalettes.BlueWhiteRed(200), symmetric: true)));
        html.Append(Svg(Lines(e)));
        html.Append("</body></html>");
        AtomicFile.WriteAllText(path, html.ToString());
    }

    private static string Escape(string text) => Charts.Escape(text);

    private static string Svg(PlotModel model) => Charts.Svg(model, 960, 320);

    private static PlotModel Heat(string title, float[] values, Explanation e, IReadOnlyList<string> names, OxyPalette palette, bool symmetric) =>
        Charts.HeatMap(title, values, e.Frames, e.Width, e.FrameSeconds, "feature column", symmetric ? "attribution" : "standard deviations", palette, symmetric,
            v => v >= 0 && v < names.Count && Math.Abs(v - Math.Round(v)) < 1e-6 ? names[(int)Math.Round(v)] : "");

    private static PlotModel Lines(Explanation e)
    {
        double step = e.FrameSeconds > 0 ? e.FrameSeconds : 1; // a seed model's single step has no duration
        string xTitle = e.FrameSeconds > 0 ? "time (s)" : "step";
        var byFrame = e.ByFrame();
        double total = Math.Max(1e-12, byFrame.Sum());
        var model = Charts.Plot("Where: each frame's share of |gradient × input|, and the probability occlusion takes away");
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle, Minimum = 0, Maximum = e.Frames * step });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Key = "share", Title = "share of attribution (%)", Minimum = 0 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Right, Key = "drop", Title = "probability lost (points)" });
        var share = new LineSeries { Title = "gradient × input", YAxisKey = "share", Color = Charts.Palette[0] };
        var drop = new LineSeries { Title = "occlusion", YAxisKey = "drop", Color = Charts.Palette[3] };
        for (int t = 0; t < e.Frames; t++)
        {
            share.Points.Add(new DataPoint((t + 0.5) * step, 100 * byFrame[t] / total));
            drop.Points.Add(new DataPoint((t + 0.5) * step, 100 * e.Occlusion[t]));
        }
        model.Series.Add(share);
        model.Series.Add(drop);
        model.Legends.Add(new OxyPlot.Legends.Legend { LegendPosition = OxyPlot.Legends.LegendPosition.RightTop, LegendPlacement = OxyPlot.Legends.LegendPlacement.Outside });
        return model;
    }
}
