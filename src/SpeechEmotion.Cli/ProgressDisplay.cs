using System.Diagnostics;
using SpeechEmotion.Training;
using Spectre.Console;

namespace SpeechEmotion.Cli;

/// <summary>
/// Training progress: a live line on a terminal (Spectre.Console), plain lines when output is redirected or
/// captured, so logs and tests read cleanly.
/// </summary>
public abstract class ProgressDisplay : ITrainingProgress
{
    public static ProgressDisplay For(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            ? new Live() : new Plain(output);

    protected readonly Stopwatch Clock = Stopwatch.StartNew();
    private readonly Stopwatch _epochClock = Stopwatch.StartNew();
    protected int LastEpoch;
    protected double LastValidation = double.NaN;

    public abstract void Stage(string message);
    public abstract void Extraction(int done, int total);
    public abstract void Batch(int epoch, int batch, int batches);
    public abstract void Warning(string message);
    public virtual void Done() { }

    public void Epoch(EpochRecord r, int epochs)
    {
        LastEpoch = r.Epoch;
        LastValidation = r.ValidationAccuracy;
        double perEpoch = Clock.Elapsed.TotalSeconds / Math.Max(1, r.Epoch);
        WriteEpoch(r, epochs, TimeSpan.FromSeconds(perEpoch * (epochs - r.Epoch)));
        _epochClock.Restart();
    }

    protected abstract void WriteEpoch(EpochRecord r, int epochs, TimeSpan left);

    protected static string Line(EpochRecord r, int epochs, TimeSpan left) =>
        $"epoch {r.Epoch,3}/{epochs}  loss {r.TrainLoss:F4}  acc {r.TrainAccuracy:P1}  val loss {r.ValidationLoss:F4}  val acc {r.ValidationAccuracy:P1}  " +
        $"{r.SamplesPerSecond:F0} samples/s  {r.Seconds:F1} s  left ≤ {left:mm\\:ss}{(r.Best ? "  best" : "")}";

    private sealed class Plain(TextWriter output) : ProgressDisplay
    {
        private int _lastTenth = -1;
        public override void Stage(string message) => output.WriteLine(message);
        public override void Extraction(int done, int total)
        {
            int tenth = done * 10 / total;
            lock (this)
            {
                if (tenth == _lastTenth) return;
                _lastTenth = tenth;
            }
            output.WriteLine($"  features {done}/{total}");
        }
        public override void Batch(int epoch, int batch, int batches) { }
        public override void Warning(string message) => output.WriteLine($"  warning: {message}");
        protected override void WriteEpoch(EpochRecord r, int epochs, TimeSpan left) => output.WriteLine(Line(r, epochs, left));
    }

    private sealed class Live : ProgressDisplay
    {
        private readonly object _gate = new();
        private void Status(string text)
        {
            lock (_gate) AnsiConsole.Markup("\r\u001b[2K" + Markup.Escape(text));
        }
        public override void Stage(string message) { lock (_gate) AnsiConsole.MarkupLine("\r\u001b[2K[bold]" + Markup.Escape(message) + "[/]"); }
        public override void Extraction(int done, int total) => Status($"  features {done}/{total} ({done * 100 / total}%)  {Clock.Elapsed:mm\\:ss}");
        public override void Batch(int epoch, int batch, int batches) =>
            Status($"  epoch {epoch}  batch {batch}/{batches}  last val acc {(double.IsNaN(LastValidation) ? "–" : LastValidation.ToString("P1"))}  {Clock.Elapsed:mm\\:ss}");
        public override void Warning(string message) { lock (_gate) AnsiConsole.MarkupLine("\r\u001b[2K[yellow]warning:[/] " + Markup.Escape(message)); }
        protected override void WriteEpoch(EpochRecord r, int epochs, TimeSpan left)
        {
            lock (_gate) AnsiConsole.MarkupLine("\r\u001b[2K" + (r.Best ? "[green]" : "[grey]") + Markup.Escape(Line(r, epochs, left)) + "[/]");
        }
        public override void Done() { lock (_gate) AnsiConsole.Markup("\r\u001b[2K"); }
    }
}
