using System.CommandLine;
using SpeechEmotion.Training.Reports;

namespace SpeechEmotion.Cli.Commands;

/// <summary><c>ser report --run DIR</c>: (re)writes the run's self-contained HTML report.</summary>
public static class ReportCommand
{
    public static Command Create(TextWriter output)
    {
        var run = new Option<string>("--run") { Description = "A run folder written by ser train.", Required = true };
        var command = new Command("report", "Write a run's HTML report (inline SVG, viewable offline).") { run };
        command.SetAction(parse =>
        {
            output.WriteLine($"Report written to {Report.Write(parse.GetValue(run)!)}");
            return CliApp.Ok;
        });
        return command;
    }
}
