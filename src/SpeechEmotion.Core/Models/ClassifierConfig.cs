using SpeechEmotion.Core.Layers;

namespace SpeechEmotion.Core.Models;

/// <summary>
/// Architecture of a <see cref="SequenceClassifier"/>: optionally Conv1d(InputSize → ConvChannels, ConvKernel) → ReLU,
/// then LSTM(→ HiddenSize, Layers, Bidirectional) → pooling → for each of DenseSizes: Dropout, Dense, ReLU → Dropout →
/// Dense(Classes) → softmax.
/// Validated at construction; the error names the field and the bad value.
/// </summary>
public sealed record ClassifierConfig
{
    public ClassifierConfig(int inputSize, int hiddenSize, int layers, bool bidirectional, PoolingKind pooling,
        IReadOnlyList<int> denseSizes, int classes, float dropout, int convChannels = 0, int convKernel = 0)
    {
        // Upper bounds far above any speech model, so that a hostile or corrupt file cannot ask for gigabytes or
        // overflow a shape: every tensor then stays well under 2³¹ elements.
        if (inputSize <= 0 || inputSize > MaxInputSize) throw new OptionsException($"ClassifierConfig.InputSize must be in 1…{MaxInputSize}, got {inputSize}.");
        if (hiddenSize <= 0 || hiddenSize > MaxWidth) throw new OptionsException($"ClassifierConfig.HiddenSize must be in 1…{MaxWidth}, got {hiddenSize}.");
        if (layers <= 0 || layers > MaxLayers) throw new OptionsException($"ClassifierConfig.Layers must be in 1…{MaxLayers}, got {layers}.");
        if (denseSizes.Count > MaxLayers) throw new OptionsException($"ClassifierConfig.DenseSizes may hold at most {MaxLayers} layers, got {denseSizes.Count}.");
        if (!Enum.IsDefined(pooling)) throw new OptionsException($"ClassifierConfig.Pooling has no value {(int)pooling}.");
        for (int k = 0; k < denseSizes.Count; k++)
            if (denseSizes[k] <= 0 || denseSizes[k] > MaxWidth) throw new OptionsException($"ClassifierConfig.DenseSizes[{k}] must be in 1…{MaxWidth}, got {denseSizes[k]}.");
        if (classes < 2 || classes > MaxClasses) throw new OptionsException($"ClassifierConfig.Classes must be in 2…{MaxClasses}, got {classes}.");
        if (!(dropout >= 0f && dropout < 1f)) throw new OptionsException($"ClassifierConfig.Dropout must be in [0, 1), got {dropout}.");
        if (convChannels < 0 || convChannels > MaxWidth) throw new OptionsException($"ClassifierConfig.ConvChannels must be in 0…{MaxWidth} (0: no convolution), got {convChannels}.");
        if (convChannels > 0 && (convKernel < 1 || convKernel > MaxKernel || convKernel % 2 == 0))
            throw new OptionsException($"ClassifierConfig.ConvKernel must be an odd number of frames in 1…{MaxKernel}, got {convKernel}.");
        if (convChannels == 0 && convKernel != 0) throw new OptionsException($"ClassifierConfig.ConvKernel must be 0 without a convolution (ConvChannels 0), got {convKernel}.");
        ConvChannels = convChannels; ConvKernel = convKernel;
        InputSize = inputSize; HiddenSize = hiddenSize; Layers = layers; Bidirectional = bidirectional; Pooling = pooling;
        DenseSizes = denseSizes.ToArray(); Classes = classes; Dropout = dropout;
        LstmShape = new LstmShape(convChannels > 0 ? convChannels : inputSize, hiddenSize, layers, bidirectional);
    }

    /// <summary>Largest sizes a configuration may name (see the constructor).</summary>
    public const int MaxInputSize = 4096, MaxWidth = 4096, MaxLayers = 16, MaxClasses = 1000, MaxKernel = 31;

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int Layers { get; }
    public bool Bidirectional { get; }
    public PoolingKind Pooling { get; }
    public IReadOnlyList<int> DenseSizes { get; }
    public int Classes { get; }
    public float Dropout { get; }
    /// <summary>Output channels of the convolution before the LSTM; 0: none (the LSTM reads the features).</summary>
    public int ConvChannels { get; }
    /// <summary>The convolution's kernel in frames (odd, centred); 0 without one.</summary>
    public int ConvKernel { get; }
    public bool HasConv => ConvChannels > 0;

    /// <summary>The LSTM's shape: its input is the convolution's channels when there is one, else the features.</summary>
    public LstmShape LstmShape { get; }

    /// <summary>Width of the pooled vector, the head's input: the LSTM's output width, twice it for statistics pooling
    /// (mean and standard deviation).</summary>
    public int PooledSize => Pooling == PoolingKind.Stats ? 2 * LstmShape.OutputSize : LstmShape.OutputSize;

    /// <summary>
    /// The original notebook: the 40 mean MFCCs fed as a 40-step sequence of one value; LSTM(256) → Dropout 0.2 →
    /// Dense 128 ReLU → Dropout 0.2 → Dense 64 ReLU → Dropout 0.2 → Dense 7. PyTorch's LSTM has two bias vectors
    /// where Keras has one, so this has 306,823 parameters against the notebook's 305,799.
    /// </summary>
    public static ClassifierConfig Seed(int classes = 7) =>
        new(inputSize: 1, hiddenSize: 256, layers: 1, bidirectional: false, PoolingKind.Last, [128, 64], classes, dropout: 0.2f);

    /// <summary>The default: a bidirectional LSTM over MFCC frames (with deltas), mean-pooled over valid frames.</summary>
    public static ClassifierConfig Frames(int inputSize = 120, int classes = 7) =>
        new(inputSize, hiddenSize: 128, layers: 1, bidirectional: true, PoolingKind.Mean, [64], classes, dropout: 0.2f);

    public override string ToString() =>
        (HasConv ? $"Conv1d({InputSize}→{ConvChannels}, kernel {ConvKernel}) ReLU → LSTM({ConvChannels}→{HiddenSize}" : $"LSTM({InputSize}→{HiddenSize}") + $", layers {Layers}{(Bidirectional ? ", bidirectional" : "")}) → {Pooling.ToString().ToLowerInvariant()} pooling → " +
        string.Concat(DenseSizes.Select(size => $"Dense {size} ReLU → ")) + $"Dense {Classes}, dropout {Dropout}";

    /// <summary>Compact key=value text stored in model files; <see cref="Parse"/> reads it back. A convolution adds
    /// ";conv=channels:kernel" (without one the text is what it was before convolutions existed).</summary>
    public string Serialize() =>
        $"input_size={InputSize};hidden_size={HiddenSize};layers={Layers};bidirectional={(Bidirectional ? 1 : 0)};" +
        $"pooling={Pooling.ToString().ToLowerInvariant()};dense={string.Join(',', DenseSizes)};classes={Classes};" +
        $"dropout={Dropout.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}" +
        (HasConv ? $";conv={ConvChannels}:{ConvKernel}" : "");

    public static ClassifierConfig Parse(string text)
    {
        var fields = new Dictionary<string, string>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new OptionsException($"Architecture text has a field without '=': '{part}'.");
            fields[part[..eq]] = part[(eq + 1)..];
        }
        string Get(string key) => fields.TryGetValue(key, out var v) ? v : throw new OptionsException($"Architecture text lacks '{key}'.");
        int Int(string key) => int.TryParse(Get(key), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v)
            ? v : throw new OptionsException($"Architecture field '{key}' is not an integer: '{Get(key)}'.");
        var pooling = Enum.TryParse<PoolingKind>(Get("pooling"), ignoreCase: true, out var p) ? p
            : throw new OptionsException($"Architecture field 'pooling' is not last, mean, attention or stats: '{Get("pooling")}'.");
        var dense = Get("dense").Length == 0 ? Array.Empty<int>() : Get("dense").Split(',').Select(s =>
            int.TryParse(s, out int v) ? v : throw new OptionsException($"Architecture field 'dense' has a non-integer '{s}'.")).ToArray();
        float dropout = float.TryParse(Get("dropout"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float d)
            ? d : throw new OptionsException($"Architecture field 'dropout' is not a number: '{Get("dropout")}'.");
        int convChannels = 0, convKernel = 0;
        if (fields.TryGetValue("conv", out var conv))
        {
            var parts = conv.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out convChannels)
                || !int.TryParse(parts[1], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out convKernel) || convChannels == 0)
                throw new OptionsException($"Architecture field 'conv' is not channels:kernel (e.g. 64:5): '{conv}'.");
        }
        return new ClassifierConfig(Int("input_size"), Int("hidden_size"), Int("layers"), Int("bidirectional") != 0, pooling, dense, Int("classes"), dropout,
            convChannels, convKernel);
    }

    public bool Equals(ClassifierConfig? other) => other is not null && Serialize() == other.Serialize();
    public override int GetHashCode() => Serialize().GetHashCode();
}
