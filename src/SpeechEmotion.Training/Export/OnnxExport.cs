using System.Text;
using Google.Protobuf;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Export;

/// <summary>
/// A model as an ONNX graph (opset 17, IR version 8), for a team on ONNX Runtime: the stacked, optionally
/// bidirectional LSTM (one ONNX <c>LSTM</c> node per layer, with <c>sequence_lens</c>), the pooling (last state, mean
/// or attention over the valid steps), the dense head with its ReLUs, the temperature and the softmax.
/// <para>
/// Inputs: <c>features</c> float [steps, batch, input] (time-major, padded with anything past each length) and
/// <c>lengths</c> int32 [batch]. Outputs: <c>logits</c> [batch, classes] (before the temperature) and
/// <c>probabilities</c> [batch, classes]. What goes in is what our network sees: the front end's MFCCs (computed
/// outside the graph, with the settings in the metadata), standardised per feature with the model's statistics, and
/// for the seed recipe averaged over time into a sequence of one value per coefficient — exactly
/// <see cref="ModelInputs"/>; the README of this project gives the steps.
/// </para>
/// <para>
/// Written with Google.Protobuf's <see cref="CodedOutputStream"/> and the field numbers of onnx.proto, by a small
/// writer of our own (<see cref="Message"/>) rather than code generated from onnx.proto: nine message types are used,
/// each a few fields, and the writer is 40 lines to audit where the generated code is thousands, and needs no protoc
/// in the build. ONNX's LSTM orders the gates i, o, f, c where ours (PyTorch's) are i, f, g, o: rows are reordered.
/// </para>
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17, IrVersion = 8;

    // onnx.proto's TensorProto.DataType and AttributeProto.AttributeType values used here.
    private const int Float = 1, Int32 = 6, Int64 = 7;
    private const int AttributeInt = 2, AttributeString = 3, AttributeInts = 7;

    /// <summary>What travels in metadata_props: the labels, and everything needed to make the input from audio.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(ModelBundle bundle)
    {
        string Numbers(ReadOnlySpan<float> values)
        {
            var text = new StringBuilder();
            foreach (float v in values) text.Append(text.Length == 0 ? "" : ",").Append(v.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            return text.ToString();
        }
        return new Dictionary<string, string>
        {
            ["speechemotion.labels"] = string.Join(",", bundle.Labels),
            ["speechemotion.recipe"] = bundle.Recipe.Kind.ToString().ToLowerInvariant(),
            ["speechemotion.front_end"] = bundle.Recipe.FrontEnd.Serialize(),
            ["speechemotion.normalization"] = bundle.Recipe.Normalization.ToString().ToLowerInvariant(),
            ["speechemotion.feature_mean"] = Numbers(bundle.Statistics.Mean),
            ["speechemotion.feature_std"] = Numbers(bundle.Statistics.Std),
            ["speechemotion.temperature"] = bundle.Temperature.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["speechemotion.one_file_temperature"] = bundle.TemperatureFor(oneFile: true).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["speechemotion.one_file_relevance"] = double.IsPositiveInfinity(bundle.OneFileRelevance) ? "none"
                : bundle.OneFileRelevance.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["speechemotion.scoring_window"] = bundle.ScoringWindow > 0 ? bundle.ScoringWindow.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none",
            ["speechemotion.input"] = "features [steps, batch, input] float, time-major: the front end's features per frame (front_end), " +
                "standardised as (x - feature_mean) / feature_std (normalization 'speaker': with the speaker's own statistics; " +
                "a single file of an unknown voice as ser predict does: mean and second moment (n·file + r·feature) / (n + r), " +
                "n its frames, r one_file_relevance, 'none' = feature_mean and feature_std as they are); " +
                "recipe 'seed': the mean over frames of each standardised coefficient, as a sequence of one value per coefficient. " +
                "lengths [batch] int32: the valid steps of each sequence. " +
                "scoring_window N (not 'none'): ser scores a sequence longer than N steps as windows of N steps, one every N/2 (integer " +
                "division, at least 1) from the first step, the last ending at the last step, each through this graph, and takes the mean " +
                "of their logits before the temperature and the softmax.",
        };
    }

    public static byte[] Export(ModelBundle bundle)
    {
        var metadata = Metadata(bundle);
        var model = bundle.Model;
        var config = model.Config;
        var shape = config.LstmShape;
        int H = shape.HiddenSize, D = shape.Directions;
        var graph = new Message();
        var nodes = new List<Message>();
        int counter = 0;
        string Node(string op, string[] inputs, Action<Message>? attributes = null, string? output = null, int outputs = 1)
        {
            string name = output ?? $"{op.ToLowerInvariant()}_{counter++}";
            var node = new Message();
            foreach (var input in inputs) node.String(1, input);
            node.String(2, name);
            for (int k = 1; k < outputs; k++) node.String(2, $"{name}_{k}");
            node.String(3, name);
            node.String(4, op);
            attributes?.Invoke(node);
            nodes.Add(node);
            return name;
        }
        string Cast(string input, int type) => Node("Cast", [input], n => n.Attribute("to", AttributeInt, a => a.Int(3, type)));
        string Transpose(string input, params long[] perm) => Node("Transpose", [input], n => n.Attribute("perm", AttributeInts, a => { foreach (var p in perm) a.Int(8, p); }));
        void Initializer(string name, int type, long[] dims, ReadOnlySpan<byte> raw)
        {
            var tensor = new Message();
            foreach (var d in dims) tensor.Int(1, d);
            tensor.Int(2, type);
            tensor.String(8, name);
            tensor.Bytes(9, raw);
            graph.Sub(5, tensor);
        }
        void Floats(string name, long[] dims, ReadOnlySpan<float> values) => Initializer(name, Float, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        void Longs(string name, long[] values) => Initializer(name, Int64, [values.Length], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

        // mask[t, b, 0] = t < lengths[b], made once when the convolution or the pooling needs it.
        string? validMask = null;
        string Mask()
        {
            if (validMask is not null) return validMask;
            Longs("zero_", [0]); Longs("one_", [1]); Longs("two_", [2]);
            Initializer("start_", Int64, [], BitConverter.GetBytes(0L));
            Initializer("step_", Int64, [], BitConverter.GetBytes(1L));
            string shapeX = Node("Shape", ["features"]);
            string steps = Node("Squeeze", [Node("Slice", [shapeX, "zero_", "one_"]), "zero_"]);
            string range = Node("Range", ["start_", steps, "step_"]);
            string lengths64 = Cast("lengths", Int64);
            string mask = Node("Less", [Node("Unsqueeze", [range, "one_"]), Node("Unsqueeze", [lengths64, "zero_"])]);
            return validMask = Node("Unsqueeze", [mask, "two_"]);
        }

        // The convolution: frames past each length become zero (as the engine reads them), then Conv over [B, I, T] and ReLU.
        string x = "features", lastHidden = "";
        if (model.Conv is { } conv)
        {
            Floats("conv_weight", [conv.OutputSize, conv.InputSize, conv.Kernel], model.Parameters.Read(conv.Weight));
            Floats("conv_bias", [conv.OutputSize], model.Parameters.Read(conv.Bias));
            Floats("zero_f_", [], [0f]);
            string own = Node("Where", [Mask(), "features", "zero_f_"]);
            string convolved = Node("Conv", [Transpose(own, 1, 2, 0), "conv_weight", "conv_bias"], n =>
            {
                n.Attribute("kernel_shape", AttributeInts, a => a.Int(8, conv.Kernel));
                n.Attribute("pads", AttributeInts, a => { a.Int(8, conv.Kernel / 2); a.Int(8, conv.Kernel / 2); });
            });
            x = Transpose(Node("Relu", [convolved]), 2, 0, 1);
        }

        // The LSTM, a layer at a time; between layers [T, D, B, H] becomes [T, B, D·H].
        Longs("shape_tb_", [0, 0, -1]);
        Longs("shape_b_", [0, -1]);
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            int inputSize = shape.LayerInputSize(layer);
            var w = new float[D * 4 * H * inputSize];
            var r = new float[D * 4 * H * H];
            var b = new float[D * 8 * H];
            for (int d = 0; d < D; d++)
            {
                string suffix = $"l{layer}{(d == 1 ? "_reverse" : "")}";
                var wih = model.Parameters.Read(model.Parameters[$"lstm.weight_ih_{suffix}"]);
                var whh = model.Parameters.Read(model.Parameters[$"lstm.weight_hh_{suffix}"]);
                var bih = model.Parameters.Read(model.Parameters[$"lstm.bias_ih_{suffix}"]);
                var bhh = model.Parameters.Read(model.Parameters[$"lstm.bias_hh_{suffix}"]);
                // ONNX gate k (i, o, f, c) is our gate OnnxToOurs[k] (ours: i, f, g, o).
                ReadOnlySpan<int> onnxToOurs = [0, 3, 1, 2];
                for (int k = 0; k < 4; k++)
                {
                    int ours = onnxToOurs[k];
                    wih.Slice(ours * H * inputSize, H * inputSize).CopyTo(w.AsSpan((d * 4 + k) * H * inputSize));
                    whh.Slice(ours * H * H, H * H).CopyTo(r.AsSpan((d * 4 + k) * H * H));
                    bih.Slice(ours * H, H).CopyTo(b.AsSpan(d * 8 * H + k * H));
                    bhh.Slice(ours * H, H).CopyTo(b.AsSpan(d * 8 * H + 4 * H + k * H));
                }
            }
            Floats($"lstm_W_{layer}", [D, 4 * H, inputSize], w);
            Floats($"lstm_R_{layer}", [D, 4 * H, H], r);
            Floats($"lstm_B_{layer}", [D, 8 * H], b);
            string y = Node("LSTM", [x, $"lstm_W_{layer}", $"lstm_R_{layer}", $"lstm_B_{layer}", "lengths"], n =>
            {
                n.Attribute("hidden_size", AttributeInt, a => a.Int(3, H));
                n.Attribute("direction", AttributeString, a => a.Bytes(4, Encoding.UTF8.GetBytes(D == 2 ? "bidirectional" : "forward")));
            }, output: $"lstm_{layer}", outputs: 2);
            lastHidden = $"{y}_1";
            x = Node("Reshape", [Transpose(y, 0, 2, 1, 3), "shape_tb_"]);
        }

        // Pooling over the valid steps.
        string pooled;
        if (config.Pooling == PoolingKind.Last)
        {
            pooled = Node("Reshape", [Transpose(lastHidden, 1, 0, 2), "shape_b_"]);
        }
        else
        {
            string mask3 = Mask();
            string weights;
            if (config.Pooling is PoolingKind.Mean or PoolingKind.Stats)
            {
                // weights[t, b, 0] = mask[t, b, 0] / lengths[b]: the lengths as [1, B, 1]
                Longs("zero_two_", [0, 2]);
                weights = Node("Div", [Cast(mask3, Float), Node("Unsqueeze", [Cast("lengths", Float), "zero_two_"])]);
            }
            else
            {
                var w = model.Parameters.Read(model.Parameters["pool.attention"]);
                Floats("attention_w", [w.Length, 1], w);
                Floats("minus_infinity_", [], [float.NegativeInfinity]);
                string scores = Node("MatMul", [x, "attention_w"]);
                weights = Node("Softmax", [Node("Where", [mask3, scores, "minus_infinity_"])], n => n.Attribute("axis", AttributeInt, a => a.Int(3, 0)));
            }
            pooled = Node("ReduceSum", [Node("Mul", [x, weights]), "zero_"], n => n.Attribute("keepdims", AttributeInt, a => a.Int(3, 0)));
            if (config.Pooling == PoolingKind.Stats)
            {
                // σ = √(Σₜ wₜ (xₜ − m)² + floor), the padded steps weighing 0; then [m | σ] along the features.
                Floats("variance_floor_", [], [Pooling.StatsVarianceFloor]);
                string deviation = Node("Sub", [x, Node("Unsqueeze", [pooled, "zero_"])]);
                string variance = Node("ReduceSum", [Node("Mul", [Node("Mul", [deviation, deviation]), weights]), "zero_"],
                    n => n.Attribute("keepdims", AttributeInt, a => a.Int(3, 0)));
                string sd = Node("Sqrt", [Node("Add", [variance, "variance_floor_"])]);
                pooled = Node("Concat", [pooled, sd], n => n.Attribute("axis", AttributeInt, a => a.Int(3, 1)));
            }
        }

        // The head: Gemm (x·Wᵀ + b), ReLU between layers.
        string h = pooled;
        for (int k = 0; k < model.DenseLayers.Count; k++)
        {
            var dense = model.DenseLayers[k];
            Floats($"head_{k}_weight", [dense.OutputSize, dense.InputSize], model.Parameters.Read(dense.Weight));
            Floats($"head_{k}_bias", [dense.OutputSize], model.Parameters.Read(dense.Bias));
            bool last = k == model.DenseLayers.Count - 1;
            h = Node("Gemm", [h, $"head_{k}_weight", $"head_{k}_bias"], n => n.Attribute("transB", AttributeInt, a => a.Int(3, 1)), output: last ? "logits" : null);
            if (!last) h = Node("Relu", [h]);
        }
        Floats("temperature_", [], [bundle.Temperature]);
        Node("Softmax", [Node("Div", ["logits", "temperature_"])], n => n.Attribute("axis", AttributeInt, a => a.Int(3, 1)), output: "probabilities");

        foreach (var node in nodes) graph.Sub(1, node);
        graph.String(2, "speech_emotion");
        graph.Sub(11, ValueInfo("features", Float, [null, null, config.InputSize], ["steps", "batch", null]));
        graph.Sub(11, ValueInfo("lengths", Int32, [null], ["batch"]));
        graph.Sub(12, ValueInfo("logits", Float, [null, config.Classes], ["batch", null]));
        graph.Sub(12, ValueInfo("probabilities", Float, [null, config.Classes], ["batch", null]));

        var file = new Message();
        file.Int(1, IrVersion);
        file.String(2, "SpeechEmotion");
        file.String(3, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "");
        file.String(6, "Speech emotion recognition: MFCC features in, class probabilities out. See metadata_props.");
        file.Sub(7, graph);
        var opset = new Message();
        opset.String(1, "");
        opset.Int(2, Opset);
        file.Sub(8, opset);
        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var entry = new Message();
            entry.String(1, key);
            entry.String(2, value);
            file.Sub(14, entry);
        }
        return file.ToArray();
    }

    /// <summary>A graph input or output: a float or int tensor of fixed and named dimensions.</summary>
    private static Message ValueInfo(string name, int type, int?[] dims, string?[] names)
    {
        var shape = new Message();
        for (int k = 0; k < dims.Length; k++)
        {
            var dim = new Message();
            if (dims[k] is int value) dim.Int(1, value);
            else dim.String(2, names[k]!);
            shape.Sub(1, dim);
        }
        var tensor = new Message();
        tensor.Int(1, type);
        tensor.Sub(2, shape);
        var typeProto = new Message();
        typeProto.Sub(1, tensor);
        var info = new Message();
        info.String(1, name);
        info.Sub(2, typeProto);
        return info;
    }

    /// <summary>One protobuf message being written: fields in the order given, nested messages length-delimited.</summary>
    private sealed class Message
    {
        private readonly MemoryStream _bytes = new();
        private readonly CodedOutputStream _out;

        public Message() => _out = new CodedOutputStream(_bytes, leaveOpen: true);

        public void Int(int field, long value) { _out.WriteTag(field, WireFormat.WireType.Varint); _out.WriteInt64(value); }
        public void String(int field, string value) { _out.WriteTag(field, WireFormat.WireType.LengthDelimited); _out.WriteString(value); }
        public void Bytes(int field, ReadOnlySpan<byte> value) { _out.WriteTag(field, WireFormat.WireType.LengthDelimited); _out.WriteBytes(ByteString.CopyFrom(value)); }
        public void Sub(int field, Message message) => Bytes(field, message.ToArray());

        /// <summary>An AttributeProto (field 5 of NodeProto): its name, its type, and the value <paramref name="write"/> adds.</summary>
        public void Attribute(string name, int type, Action<Message> write)
        {
            var attribute = new Message();
            attribute.String(1, name);
            write(attribute);
            attribute.Int(20, type);
            Sub(5, attribute);
        }

        public byte[] ToArray()
        {
            _out.Flush();
            return _bytes.ToArray();
        }
    }
}
