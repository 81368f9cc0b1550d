return SpeechEmotion.Cli.CliApp.Run(args, Console.Out, Console.Error);
