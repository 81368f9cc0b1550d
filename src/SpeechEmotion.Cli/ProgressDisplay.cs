using System.Diagnostics;
using SpeechEmotion.Training;
using Spectre.Console;

namespace SpeechEmotion.Cli;

/// <summary>
/// Training progress: a live line on a terminal (Spectre.Console decides whether the console is interactive),
/// plain lines when output is redirected or captured, so logs and tests read cleanly.
/// </summary>
public abstract class ProgressDisplay : ITrainingProgress
{
    public static ProgressDisplay For(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            ? new Live(output) : new Plain(output);

    /// <summary>The terminal display writing to any writer (for tests).</summary>
    internal static ProgressDisplay LiveOn(TextWriter output) => new Live(output);

    protected readonly Stopwatch Clock = Stopwatch.StartNew();
    private Stopwatch? _trainingClock;
    private int _epochsThisSession;
    protected double LastValidation = double.NaN;

    public abstract void Stage(string message);
    public abstract void Extraction(int done, int total);
    public void Batch(int epoch, int batch, int batches)
    {
        _trainingClock ??= Stopwatch.StartNew(); // time left counts training only, not feature extraction
        OnBatch(epoch, batch, batches);
    }

    protected abstract void OnBatch(int epoch, int batch, int batches);
    public abstract void Warning(string message);
    public virtual void Done() { }

    public void Epoch(EpochRecord r, int epochs)
    {
        LastValidation = r.ValidationAccuracy;
        _epochsThisSession++;
        double perEpoch = (_trainingClock?.Elapsed.TotalSeconds ?? r.Seconds) / _epochsThisSession;
        WriteEpoch(r, epochs, TimeSpan.FromSeconds(perEpoch * (epochs - r.Epoch)));
    }

    protected abstract void WriteEpoch(EpochRecord r, int epochs, TimeSpan left);

    protected static string Line(EpochRecord r, int epochs, TimeSpan left) =>
        $"epoch {r.Epoch,3}/{epochs}  loss {r.TrainLoss:F4}  acc {r.TrainAccuracy:P1}  " +
        (double.IsNaN(r.ValidationLoss) ? "no validation part  " : $"val loss {r.ValidationLoss:F4}  val acc {r.ValidationAccuracy:P1}  ") +
        $"{r.SamplesPerSecond:F0} samples/s  {r.Seconds:F1} s  left ≤ {left:mm\\:ss}{(r.Best ? "  best" : "")}";

    private sealed class Plain(TextWriter output) : ProgressDisplay
    {
        private int _lastTenth = -1;
        public override void Stage(string message) => output.WriteLine(message);
        public override void Extraction(int done, int total)
        {
            int tenth = done * 10 / total;
            // Called from the extraction's parallel workers: the check and the write under one lock (a TextWriter such
            // as a StringWriter is not safe to write from two threads at once).
            lock (this)
            {
                if (tenth == _lastTenth) return;
                _lastTenth = tenth;
                output.WriteLine($"  features {done}/{total}");
            }
        }
        protected override void OnBatch(int epoch, int batch, int batches) { }
        public override void Warning(string message) { lock (this) output.WriteLine($"  warning: {message}"); }
        protected override void WriteEpoch(EpochRecord r, int epochs, TimeSpan left) => output.WriteLine(Line(r, epochs, left));
    }

    /// <summary>
    /// A status line rewritten in place (carriage return + ANSI erase-line) and finished lines in colour. The
    /// escape codes go straight to the console, never through Spectre's markup parser (which reads "[2K" as a tag).
    /// </summary>
    private sealed class Live(TextWriter output) : ProgressDisplay
    {
        private const string EraseLine = "\r\u001b[2K", Bold = "\u001b[1m", Green = "\u001b[32m", Grey = "\u001b[90m", Yellow = "\u001b[33m", Reset = "\u001b[0m";
        private readonly object _gate = new();
        private void Write(string text) { lock (_gate) { output.Write(text); output.Flush(); } }
        private void Status(string text) => Write(EraseLine + text);
        public override void Stage(string message) => Write(EraseLine + Bold + message + Reset + "\n");
        public override void Extraction(int done, int total) => Status($"  features {done}/{total} ({done * 100 / total}%)  {Clock.Elapsed:mm\\:ss}");
        protected override void OnBatch(int epoch, int batch, int batches) =>
            Status($"  epoch {epoch}  batch {batch}/{batches}  last val acc {(double.IsNaN(LastValidation) ? "–" : LastValidation.ToString("P1"))}  {Clock.Elapsed:mm\\:ss}");
        public override void Warning(string message) => Write(EraseLine + Yellow + "warning: " + Reset + message + "\n");
        protected override void WriteEpoch(EpochRecord r, int epochs, TimeSpan left) => Write(EraseLine + (r.Best ? Green : Grey) + Line(r, epochs, left) + Reset + "\n");
        public override void Done() => Write(EraseLine);
    }
}
