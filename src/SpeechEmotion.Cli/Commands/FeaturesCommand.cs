using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser features FILE [--json] [--window whole|seed|trim] [--trim-db DB] [--deltas] [--model M]</c>: the MFCC matrix of
/// one file, so anyone can audit what the model sees. The whole file and no deltas unless asked; with <c>--model</c>,
/// exactly the model's front end (window, trim, coefficients, deltas, prosody), before standardisation.
/// </summary>
public static class FeaturesCommand
{
    public static Command Create(TextWriter output)
    {
        var file = new Argument<string>("FILE") { Description = "An audio file: WAV, AIFF, FLAC, MP3 or Ogg Vorbis (any rate, any channels)." };
        var json = new Option<bool>("--json") { Description = "Print {\"file\", \"sample_rate\", \"n_mfcc\", \"frames\": [[c0 … cN], …]}." };
        var window = new Option<string?>("--window") { Description = "whole, seed (offset 0.5 s, 3 s) or trim (librosa trim, --trim-db below the loudest frame). [default: whole]" };
        var trimDb = new Option<double?>("--trim-db") { Description = "With --window trim: librosa.effects.trim's top_db [default: 60]" };
        var deltas = new Option<bool>("--deltas") { Description = "Append deltas and delta-deltas to each frame." };
        var model = new Option<string?>("--model") { Description = "Use this model's front end exactly (window, trim, coefficients, deltas, prosody) instead of --window, --trim-db and --deltas. " + CommonOptions.ModelHelp };
        var command = new Command("features", "Print the MFCC matrix of one audio file.") { file, json, window, trimDb, deltas, model };
        command.SetAction(parse =>
        {
            FrontEndSettings settings;
            if (parse.GetValue(model) is { } m)
            {
                if (parse.GetValue(window) is not null || parse.GetValue(trimDb) is not null || parse.GetValue(deltas))
                    throw new OptionsException("--model sets the front end: give it without --window, --trim-db or --deltas.");
                settings = Inference.ModelBundle.Load(CommonOptions.ResolveModel(m)).Recipe.FrontEnd;
            }
            else
            {
                double top = parse.GetValue(trimDb) ?? 60;
                if (!(top > 0 && top <= 120)) throw new OptionsException($"--trim-db must be in (0, 120], got {top}.");
                settings = new FrontEndSettings(window: Options.ParseWindow(parse.GetValue(window) ?? "whole"), deltas: parse.GetValue(deltas), trimTopDb: top);
            }
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
