namespace SpeechEmotion.Cli.Tests;

/// <summary>Runs the real <c>ser</c> entry point in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Exit, string Output, string Error) Run(params string[] args) => RunWithInput(null, args);

    /// <summary>As <see cref="Run"/>, with <paramref name="input"/> as standard input (what <c>ser predict -</c> reads).</summary>
    public static (int Exit, string Output, string Error) RunWithInput(byte[]? input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CliApp.Run(args, output, error, input is null ? null : () => new MemoryStream(input, writable: false));
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs a command line that must be refused: exit code 2 and <paramref name="expected"/> in the error output.</summary>
    public static void Refused(string expected, params string[] args)
    {
        var (exit, _, error) = Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
    }
}
