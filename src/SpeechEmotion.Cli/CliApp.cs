using System.CommandLine;
using SpeechEmotion.Core;

namespace SpeechEmotion.Cli;

/// <summary>
/// The <c>ser</c> command line. Each command lives in its own file under Commands/; this assembles them and
/// turns the project's own exceptions (bad input, bad options) into one clear line on stderr and exit code 2.
/// </summary>
public static class CliApp
{
    public const int Ok = 0, Failure = 1, BadInput = 2;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("SpeechEmotion: speech emotion recognition on a from-scratch LSTM engine.")
        {
            Commands.FeaturesCommand.Create(output),
            Commands.TrainCommand.Create(output, error),
            Commands.EvaluateCommand.Create(output, error),
            Commands.PredictCommand.Create(output, error),
            Commands.InspectCommand.Create(output),
            Commands.ReportCommand.Create(output),
            Commands.DownloadCommand.Create(output),
            Commands.BenchCommand.Create(output),
        };
        var parsed = root.Parse(args);
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (SpeechEmotionException e)
        {
            error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
    }
}
