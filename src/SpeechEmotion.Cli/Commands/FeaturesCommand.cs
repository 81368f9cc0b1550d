using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser features FILE [--json] [--window whole|seed|trim] [--deltas]</c>: the MFCC matrix of one file, so anyone
/// can audit what the model sees. The whole file and no deltas unless asked.
/// </summary>
public static class FeaturesCommand
{
    public static Command Create(TextWriter output)
    {
        var file = new Argument<string>("FILE") { Description = "A WAV or AIFF file (any rate, any channels)." };
        var json = new Option<bool>("--json") { Description = "Print {\"file\", \"sample_rate\", \"n_mfcc\", \"frames\": [[c0 … cN], …]}." };
        var window = new Option<string>("--window") { Description = "whole, seed (offset 0.5 s, 3 s) or trim (librosa trim, top_db 60).", DefaultValueFactory = _ => "whole" };
        var deltas = new Option<bool>("--deltas") { Description = "Append deltas and delta-deltas to each frame." };
        var command = new Command("features", "Print the MFCC matrix of one audio file.") { file, json, window, deltas };
        command.SetAction(parse =>
        {
            var settings = new FrontEndSettings(window: Options.ParseWindow(parse.GetValue(window)!), deltas: parse.GetValue(deltas));
            string path = parse.GetValue(file)!;
            var features = new FrontEnd(settings).Extract(path);
            if (parse.GetValue(json)) WriteJson(output, path, settings, features);
            else WriteSummary(output, path, settings, features);
            return CliApp.Ok;
        });
        return command;
    }

    private static void WriteJson(TextWriter output, string path, FrontEndSettings settings, Features features)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("file", path);
            writer.WriteNumber("sample_rate", settings.SampleRate);
            writer.WriteNumber("n_mfcc", settings.Coefficients);
            writer.WriteBoolean("deltas", settings.Deltas);
            writer.WriteString("window", settings.Window.ToString().ToLowerInvariant());
            writer.WriteStartArray("frames");
            for (int f = 0; f < features.Frames; f++)
            {
                writer.WriteStartArray();
                for (int c = 0; c < features.FeatureSize; c++) writer.WriteNumberValue(features.Values[f * features.FeatureSize + c]);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteSummary(TextWriter output, string path, FrontEndSettings settings, Features features)
    {
        output.WriteLine($"{path}: {features.Frames} frames × {features.FeatureSize} values ({settings.Window.ToString().ToLowerInvariant()} window, {settings.SampleRate} Hz, hop {settings.Mfcc.HopLength})");
        int show = Math.Min(features.Frames, 5);
        for (int f = 0; f < show; f++)
        {
            var row = features.Values.AsSpan(f * features.FeatureSize, Math.Min(8, features.FeatureSize)).ToArray();
            output.WriteLine($"  frame {f,4}: " + string.Join(" ", row.Select(v => v.ToString("F2", CultureInfo.InvariantCulture).PadLeft(8))) + (features.FeatureSize > 8 ? " …" : ""));
        }
        if (features.Frames > show) output.WriteLine($"  … {features.Frames - show} more frames; --json prints them all.");
    }
}

/// <summary>Parsing of option values shared by the commands, with messages that name the option.</summary>
public static class Options
{
    public static WindowMode ParseWindow(string text) => text.ToLowerInvariant() switch
    {
        "whole" => WindowMode.Whole,
        "seed" => WindowMode.Seed,
        "trim" => WindowMode.Trim,
        _ => throw new OptionsException($"--window must be whole, seed or trim, got '{text}'."),
    };
}
