using System.Globalization;
using System.CommandLine;
using System.Numerics.Tensors;
using SpeechEmotion.Training;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Cli.Commands;

/// <summary><c>ser inspect --model FILE</c>: architecture, parameter count, every tensor with its statistics, and
/// the front-end settings, normalisation, labels and split stored in the model.</summary>
public static class InspectCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<string>("--model") { Description = CommonOptions.ModelHelp, Required = true };
        var command = new Command("inspect", "Show what a model file holds.") { model };
        command.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            var bundle = ModelBundle.Load(path);
            var p = bundle.Model.Parameters;
            output.WriteLine($"{path}");
            output.WriteLine($"  recipe        {bundle.Recipe.Kind.ToString().ToLowerInvariant()}");
            output.WriteLine($"  architecture  {bundle.Model.Config}");
            output.WriteLine($"  parameters    {p.Count:N0}");
            output.WriteLine($"  labels        {string.Join(", ", bundle.Labels)}");
            output.WriteLine($"  front end     {bundle.Recipe.FrontEnd.Serialize()}");
            output.WriteLine($"  normalisation {bundle.Recipe.Normalization.ToString().ToLowerInvariant()} ({bundle.Statistics.Mean.Length} features)");
            output.WriteLine($"  calibration   temperature {bundle.Temperature.ToString("0.###", CultureInfo.InvariantCulture)}; one file standardised with the training side's statistics" +
                             (double.IsPositiveInfinity(bundle.OneFileRelevance) ? ""
                                 : $" adapted towards its own (relevance {bundle.OneFileRelevance.ToString(CultureInfo.InvariantCulture)} frames)") +
                             (bundle.OneFileTemperature is { } oneFileTemperature ? $", temperature {oneFileTemperature.ToString("0.###", CultureInfo.InvariantCulture)}" : ""));
            string Factors(IReadOnlyList<double> f) => f.Count == 0 ? "none" : Recipe.FormatFactors(f);
            output.WriteLine($"  augmentation  speed {Factors(bundle.Recipe.SpeedFactors)}; VTLP {Factors(bundle.Recipe.WarpFactors)}; rooms {(bundle.Recipe.Rooms.Count == 0 ? "none" : string.Join(", ", bundle.Recipe.Rooms))}");
            output.WriteLine($"  trained on    {bundle.Split.Protocol.ToString().ToLowerInvariant()} split, seed {bundle.Split.Seed}{(bundle.Split.TestSpeaker is null ? "" : ", test speaker " + bundle.Split.TestSpeaker)}");
            if (bundle.AdaptationRounds > 0)
                output.WriteLine(bundle.AdaptedTo is { } to
                    ? $"  adaptation    {bundle.AdaptationRounds} rounds of self-training on the recordings under {to} (their audio; they have no labels)"
                    : $"  adaptation    {bundle.AdaptationRounds} rounds of self-training on that split's test side (its audio, not its labels)");
            output.WriteLine($"  {"tensor",-28} {"shape",-14} {"mean",10} {"std",10} {"min",10} {"max",10}");
            foreach (var t in p.Tensors)
            {
                ReadOnlySpan<float> v = p.Value(t);
                float mean = TensorPrimitives.Sum(v) / v.Length;
                double variance = 0;
                foreach (float x in v) variance += (x - mean) * (x - mean);
                output.WriteLine($"  {t.Name,-28} {t.ShapeText,-14} {mean,10:F5} {Math.Sqrt(variance / v.Length),10:F5} {TensorPrimitives.Min(v),10:F5} {TensorPrimitives.Max(v),10:F5}");
            }
            return CliApp.Ok;
        });
        return command;
    }
}
