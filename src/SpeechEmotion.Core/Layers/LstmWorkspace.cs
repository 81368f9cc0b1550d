using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// Everything an <see cref="Lstm"/> keeps between forward and backward, allocated once for a capacity of
/// (maxSteps, maxBatch) and reused for any smaller batch: the training step allocates nothing.
/// </summary>
public sealed class LstmWorkspace
{
    private readonly LstmShape _shape;
    private readonly float[][] _layerOutputs, _layerOutputGradients;
    private readonly int[] _lengths;

    internal LstmWorkspace(LstmShape shape, int maxSteps, int maxBatch, bool forwardOnly = false)
    {
        Check.Positive(maxSteps, "maxSteps");
        Check.Positive(maxBatch, "maxBatch");
        _shape = shape;
        MaxSteps = maxSteps;
        MaxBatch = maxBatch;
        ForwardOnly = forwardOnly;
        int H = shape.HiddenSize, cells = shape.Layers * shape.Directions;
        States = new DirectionState[cells];
        for (int layer = 0; layer < shape.Layers; layer++)
            for (int direction = 0; direction < shape.Directions; direction++)
                States[layer * shape.Directions + direction] = new DirectionState(shape.LayerInputSize(layer), H, maxSteps, maxBatch, forwardOnly);
        _layerOutputs = Enumerable.Range(0, shape.Layers).Select(_ => new float[maxSteps * maxBatch * shape.OutputSize]).ToArray();
        _layerOutputGradients = forwardOnly ? []
            : Enumerable.Range(0, shape.Layers - 1).Select(_ => new float[maxSteps * maxBatch * shape.OutputSize]).ToArray();
        _finalHidden = new float[cells * maxBatch * H];
        _finalCell = new float[cells * maxBatch * H];
        _lengths = new int[maxBatch];
    }

    private readonly float[] _finalHidden, _finalCell;

    /// <summary>
    /// The time loop runs a chunk of steps at a time: the input projection x·W_ihᵀ of a chunk is one GEMM, right before
    /// the chunk's recurrent steps read its gates, so they are still in cache (about 1 MB of gates: at FRAMES's batch 32
    /// and H 128, 16 steps). The whole sequence's projection up front wrote 13 MB that the steps then read back from
    /// memory (measured on Zen 4: 51 against 102 GFLOP/s for that GEMM alone). A forward-only workspace also keeps gates
    /// for one chunk and two state slots instead of T + 1. Every row's arithmetic is the same whatever the chunk.
    /// </summary>
    public const int ProjectionChunkFloats = 1 << 18;

    /// <summary>Steps per chunk of <see cref="ProjectionChunkFloats"/> gates for this batch and hidden size (at least one).</summary>
    public static int ChunkSteps(int batch, int hiddenSize) => Math.Max(1, ProjectionChunkFloats / (batch * 4 * hiddenSize));

    public int MaxSteps { get; }
    public int MaxBatch { get; }
    /// <summary>Made for prediction: the gradient buffers of backward were never allocated.</summary>
    public bool ForwardOnly { get; }
    public int Steps { get; private set; }
    public int Batch { get; private set; }
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Batch);

    internal DirectionState[] States { get; }

    private ParameterSet? _packedFrom;
    private long _packedVersion;

    /// <summary>Whether this prediction-only workspace holds <paramref name="parameters"/>' weights packed as they are now
    /// (the same set, its <see cref="ParameterSet.Version"/> unchanged since they were packed); a training workspace never does.</summary>
    internal bool PackedFrom(ParameterSet parameters) => ForwardOnly && ReferenceEquals(_packedFrom, parameters) && _packedVersion == parameters.Version;

    /// <summary>After a forward that packed (or found packed) the weights of <paramref name="parameters"/> at <paramref name="version"/>.</summary>
    internal void MarkPacked(ParameterSet parameters, long version)
    {
        if (!ForwardOnly) return;
        _packedFrom = parameters;
        _packedVersion = version;
    }

    /// <summary>Top layer's outputs of the last forward: [T, B, D·H], zero at padded steps.</summary>
    public Span<float> Output => LayerOutput(_shape.Layers - 1);

    /// <summary>State after each sequence's last valid step: [L·D, B, H].</summary>
    public Span<float> FinalHidden => _finalHidden.AsSpan(0, States.Length * Batch * _shape.HiddenSize);
    public Span<float> FinalCell => _finalCell.AsSpan(0, States.Length * Batch * _shape.HiddenSize);

    internal Span<float> LayerOutput(int layer) => _layerOutputs[layer].AsSpan(0, Steps * Batch * _shape.OutputSize);
    internal Span<float> LayerOutputGradient(int layer) => _layerOutputGradients[layer].AsSpan(0, Steps * Batch * _shape.OutputSize);

    internal void Bind(int steps, int batch, ReadOnlySpan<int> lengths)
    {
        if (steps < 1 || steps > MaxSteps) throw new ShapeException($"LSTM: {steps} steps, but the workspace holds 1…{MaxSteps}.");
        if (batch < 1 || batch > MaxBatch) throw new ShapeException($"LSTM: batch of {batch}, but the workspace holds 1…{MaxBatch}.");
        if (lengths.Length != batch) throw new ShapeException($"LSTM: {lengths.Length} lengths for a batch of {batch}.");
        for (int b = 0; b < batch; b++)
            if (lengths[b] < 1 || lengths[b] > steps)
                throw new ShapeException($"LSTM: sequence {b} has length {lengths[b]}, outside 1…{steps}.");
        Steps = steps;
        Batch = batch;
        lengths.CopyTo(_lengths);
    }

    internal sealed class DirectionState
    {
        private readonly float[] _weightIhPacked, _weightHhPacked, _weightHhPackedBackward, _bias, _gates, _hidden, _cell, _tanhCell, _dh, _dhOther, _dc;

        public DirectionState(int inputSize, int H, int maxSteps, int maxBatch, bool forwardOnly)
        {
            _weightIhPacked = new float[Gemm.PackedLength(inputSize, 4 * H)];
            _bias = new float[4 * H];
            // Prediction keeps gates and states for one chunk of steps only (see Lstm.Forward): a long recording's
            // workspace grows with its steps only by the layer outputs.
            // A smaller batch takes more steps per chunk, never more floats: ChunkSteps(b)·b ≤ max(floats/4H, b).
            long gateRows = forwardOnly ? Math.Min((long)maxSteps * maxBatch, Math.Max(ProjectionChunkFloats / (4 * H), maxBatch)) : (long)maxSteps * maxBatch;
            int stateSlots = forwardOnly ? 2 : maxSteps + 1;
            _gates = new float[gateRows * 4 * H];
            _hidden = new float[(long)stateSlots * maxBatch * H];
            _cell = new float[(long)stateSlots * maxBatch * H];
            _tanhCell = new float[gateRows * H];
            _weightHhPacked = new float[Gemm.PackedLength(H, 4 * H)];
            int backward = forwardOnly ? 0 : 1;
            _dh = new float[backward * maxBatch * H];
            _dhOther = new float[backward * maxBatch * H];
            _dc = new float[backward * maxBatch * H];
            _weightHhPackedBackward = new float[backward * Gemm.PackedLength(4 * H, H)];
        }

        /// <summary>W_ihᵀ [I, 4H] as <see cref="Gemm.PackB"/> lays it out, for the input projection.</summary>
        public float[] WeightIhPacked => _weightIhPacked;

        /// <summary>W_hhᵀ [H, 4H] as <see cref="Gemm.PackB"/> lays it out, for the forward step's product.</summary>
        public float[] WeightHhPacked => _weightHhPacked;
        /// <summary>W_hh [4H, H] packed, for the backward step's dh' = dâ·W_hh.</summary>
        public float[] WeightHhPackedBackward => _weightHhPackedBackward;
        public LstmStep Step { get; } = new();

        /// <summary>b_ih + b_hh in forward; the summed bias gradient in backward.</summary>
        public Span<float> Bias => _bias;
        /// <summary>[T, B, 4H]: gate activations after forward, their pre-activation gradients after backward.</summary>
        public Span<float> Gates => _gates;
        /// <summary>[T + 1, B, H] hidden and cell states by slot (see <see cref="Lstm.Forward"/>).</summary>
        public Span<float> Hidden => _hidden;
        public Span<float> Cell => _cell;
        /// <summary>[T, B, H]: tanh(c) of each step, kept for backward.</summary>
        public Span<float> TanhCell => _tanhCell;
        public Span<float> HiddenGradient => _dh;
        public Span<float> HiddenGradientOther => _dhOther;
        public Span<float> CellGradient => _dc;
    }
}
