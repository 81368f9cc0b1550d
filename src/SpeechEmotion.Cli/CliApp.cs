using System.CommandLine;
using SpeechEmotion.Core;

namespace SpeechEmotion.Cli;

/// <summary>
/// The <c>ser</c> command line. Each command lives in its own file under Commands/; this assembles them and, as the
/// dotnet CLI does, refuses a command line that does not parse (an unknown option, a missing value) with the error
/// and a one-line hint on stderr and exit code 1, and turns the project's own exceptions (bad input, bad values)
/// into one clear line on stderr and exit code 2.
/// </summary>
public static class CliApp
{
    public const int Ok = 0, Failure = 1, BadInput = 2;

    /// <param name="input">What <c>ser predict -</c> reads audio from: standard input unless given.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, Func<Stream>? input = null)
    {
        var root = new RootCommand("SpeechEmotion: speech emotion recognition on a from-scratch LSTM engine.")
        {
            Commands.FeaturesCommand.Create(output),
            Commands.TrainCommand.Create(output, error),
            Commands.EvaluateCommand.Create(output, error),
            Commands.PredictCommand.Create(output, error, input ?? Console.OpenStandardInput),
            Commands.InspectCommand.Create(output),
            Commands.ReportCommand.Create(output),
            Commands.DownloadCommand.Create(output),
            Commands.BenchCommand.Create(output),
            Commands.ExplainCommand.Create(output),
            Commands.ExportCommand.Create(output),
        };
        // Signals are ours to handle (see Interrupts), so System.CommandLine's own handling is off.
        var configuration = new InvocationConfiguration
        {
            Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
        };
        var topic = new Argument<string?>("COMMAND") { Description = "The command to explain (none: every command).", Arity = ArgumentArity.ZeroOrOne };
        var help = new Command("help", "Show the help of ser or of one command.") { topic };
        help.SetAction(parse => root.Parse(parse.GetValue(topic) is { } name ? [name, "--help"] : ["--help"]).Invoke(configuration));
        root.Subcommands.Add(help);
        RefuseOptionLikeArguments(root);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors) error.WriteLine($"error: {problem.Message}");
            string command = parsed.CommandResult.Command is RootCommand ? "" : parsed.CommandResult.Command.Name + " ";
            error.WriteLine($"Run 'ser {command}--help' for its options.");
            return Failure;
        }
        try
        {
            using var interrupts = new Interrupts();
            return parsed.InvokeAsync(configuration, interrupts.Token).GetAwaiter().GetResult();
        }
        catch (SpeechEmotionException e)
        {
            error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder that cannot be made or written (a file in the way, no permission, a full disk): the system's
            // message names the path. Files are written to a temp file and renamed, so nothing is left half-written.
            error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
    }

    /// <summary>
    /// Arguments that take any number of paths would otherwise swallow a mistyped option (<c>predict --josn a.wav</c>
    /// read "--josn" as a file and predicted the rest): a value that starts with '-' is refused as an unknown option,
    /// as the dotnet CLI does. A file whose name starts with '-' can still be given as ./-name.
    /// </summary>
    private static void RefuseOptionLikeArguments(Command command)
    {
        foreach (var argument in command.Arguments)
            argument.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                    if (token.Value.Length > 1 && token.Value[0] == '-')
                        result.AddError($"Unrecognized option '{token.Value}' for 'ser {command.Name}'.");
            });
        foreach (var sub in command.Subcommands) RefuseOptionLikeArguments(sub);
    }

    /// <summary>
    /// Ctrl+C (SIGINT) and SIGTERM cancel the running command's token instead of killing the process: train stops
    /// after the current batch and still writes its model, metrics and report. A second signal, once the first has
    /// been taken, ends the process as usual (exit 130).
    /// </summary>
    private sealed class Interrupts : IDisposable
    {
        private readonly CancellationTokenSource _source = new();
        private readonly System.Runtime.InteropServices.PosixSignalRegistration[] _registrations;

        public Interrupts()
        {
            _registrations =
            [
                System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Handle),
                System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Handle),
            ];
        }

        public CancellationToken Token => _source.Token;

        private void Handle(System.Runtime.InteropServices.PosixSignalContext context)
        {
            if (_source.IsCancellationRequested) return; // the second signal: let it end the process
            context.Cancel = true;
            _source.Cancel();
        }

        public void Dispose()
        {
            foreach (var registration in _registrations) registration.Dispose();
            _source.Dispose();
        }
    }
}
