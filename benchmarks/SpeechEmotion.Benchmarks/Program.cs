using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(SpeechEmotion.Benchmarks.Shapes).Assembly).Run(args);
