using System.CommandLine;
using SpeechEmotion.Core;
using SpeechEmotion.Training.Export;

namespace SpeechEmotion.Cli.Commands;

/// <summary><c>ser export --onnx OUT.onnx --model FILE</c>: the network as an ONNX graph (<see cref="OnnxExport"/>), the
/// labels and the front-end settings in its metadata_props; written to a temporary file, then renamed.</summary>
public static class ExportCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<string>("--model") { Description = CommonOptions.ModelHelp, Required = true };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (opset 17): inputs features [steps, batch, input] and lengths [batch], outputs logits and probabilities.", Required = true };
        var command = new Command("export", "Write a model as an ONNX graph, for ONNX Runtime and other stacks.") { model, onnx };
        command.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            string target = parse.GetValue(onnx)!;
            if (Directory.Exists(target)) throw new OptionsException($"--onnx {target} is a folder: give the file to write.");
            var bundle = ModelBundle.Load(path);
            byte[] bytes = OnnxExport.Export(bundle);
            Core.IO.AtomicFile.WriteAllBytes(target, bytes);
            output.WriteLine($"{target}: {bytes.Length:N0} bytes, ONNX opset {OnnxExport.Opset}; {bundle.Labels.Count} labels, {bundle.Model.Parameters.Count:N0} parameters ({bundle.Recipe.Kind.ToString().ToLowerInvariant()} recipe).");
            return CliApp.Ok;
        });
        return command;
    }
}
