using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>Size of an LSTM stack.</summary>
public sealed record LstmShape(int InputSize, int HiddenSize, int Layers = 1, bool Bidirectional = false)
{
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Width of each output step: H, or 2H when bidirectional ([forward | reverse]).</summary>
    public int OutputSize => Directions * HiddenSize;

    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    public void Validate()
    {
        if (InputSize <= 0) throw new OptionsException($"LSTM InputSize must be positive, got {InputSize}.");
        if (HiddenSize <= 0) throw new OptionsException($"LSTM HiddenSize must be positive, got {HiddenSize}.");
        if (Layers <= 0) throw new OptionsException($"LSTM Layers must be positive, got {Layers}.");
    }
}

/// <summary>
/// A stacked, optionally bidirectional LSTM over padded batches, with PyTorch's gate order, equations and
/// parameter names (weight_ih_l{k}[_reverse] [4H, in], weight_hh_l{k} [4H, H], bias_ih_l{k}, bias_hh_l{k} [4H]),
/// so weights are interchangeable with torch.nn.LSTM:
///   i = σ(W_ii x + b_ii + W_hi h' + b_hi)   f = σ(W_if x + b_if + W_hf h' + b_hf)
///   g = tanh(W_ig x + b_ig + W_hg h' + b_hg) o = σ(W_io x + b_io + W_ho h' + b_ho)
///   c = f⊙c' + i⊙g                          h = o⊙tanh(c)
/// Sequence b is valid for t &lt; lengths[b]: a padded step neither changes the state nor receives gradient, its
/// output is zero (as pad_packed_sequence gives), and the reverse direction starts at t = lengths[b] − 1.
/// The input projection of all steps is one GEMM; the weight gradients are one GEMM each after the time loop.
/// </summary>
public sealed unsafe class Lstm
{
    private readonly ParameterSet _parameters;
    private readonly Cell[] _cells; // [layer * directions + direction]

    public Lstm(LstmShape shape, ParameterSet parameters, string prefix = "lstm")
    {
        shape.Validate();
        Shape = shape;
        _parameters = parameters;
        _cells = new Cell[shape.Layers * shape.Directions];
        int fourH = 4 * shape.HiddenSize;
        for (int layer = 0; layer < shape.Layers; layer++)
            for (int direction = 0; direction < shape.Directions; direction++)
            {
                string suffix = $"l{layer}" + (direction == 1 ? "_reverse" : "");
                int inputSize = shape.LayerInputSize(layer);
                _cells[layer * shape.Directions + direction] = new Cell(
                    parameters.Declare($"{prefix}.weight_ih_{suffix}", fourH, inputSize),
                    parameters.Declare($"{prefix}.weight_hh_{suffix}", fourH, shape.HiddenSize),
                    parameters.Declare($"{prefix}.bias_ih_{suffix}", fourH),
                    parameters.Declare($"{prefix}.bias_hh_{suffix}", fourH));
            }
    }

    private sealed record Cell(ParameterTensor WeightIh, ParameterTensor WeightHh, ParameterTensor BiasIh, ParameterTensor BiasHh);

    public LstmShape Shape { get; }

    /// <summary>PyTorch's initialisation: every weight and bias uniform in ±1/√H.</summary>
    public void Initialize(Rng rng)
    {
        float bound = 1f / MathF.Sqrt(Shape.HiddenSize);
        foreach (var cell in _cells)
        {
            rng.FillUniform(_parameters.Value(cell.WeightIh), -bound, bound);
            rng.FillUniform(_parameters.Value(cell.WeightHh), -bound, bound);
            rng.FillUniform(_parameters.Value(cell.BiasIh), -bound, bound);
            rng.FillUniform(_parameters.Value(cell.BiasHh), -bound, bound);
        }
    }

    /// <param name="forwardOnly">For prediction: no buffers for backward (<see cref="Backward"/> refuses the workspace).</param>
    public LstmWorkspace CreateWorkspace(int maxSteps, int maxBatch, bool forwardOnly = false) => new(Shape, maxSteps, maxBatch, forwardOnly);

    /// <summary>
    /// x: [T, B, I], lengths: [B] in 1…T, h0/c0: [L·D, B, H] or empty for zeros →
    /// <see cref="LstmWorkspace.Output"/> [T, B, D·H] (top layer) and <see cref="LstmWorkspace.FinalHidden"/>,
    /// <see cref="LstmWorkspace.FinalCell"/> [L·D, B, H] (each sequence's state after its last valid step).
    /// </summary>
    public void Forward(LstmWorkspace ws, ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, WorkerPool? pool = null)
    {
        ws.Bind(steps, batch, lengths);
        Check.Length(x, (long)steps * batch * Shape.InputSize, "LSTM input x [T, B, I]");
        int stateSize = _cells.Length * batch * Shape.HiddenSize;
        if (!h0.IsEmpty && h0.Length != stateSize) throw new ShapeException($"LSTM h0 must have {stateSize} elements ([L·D, B, H]), got {h0.Length}.");
        if (!c0.IsEmpty && c0.Length != stateSize) throw new ShapeException($"LSTM c0 must have {stateSize} elements ([L·D, B, H]), got {c0.Length}.");

        int H = Shape.HiddenSize, D = Shape.Directions, stepStride = batch * H;
        for (int layer = 0; layer < Shape.Layers; layer++)
        {
            int inputSize = Shape.LayerInputSize(layer);
            ReadOnlySpan<float> input = layer == 0 ? x[..(steps * batch * inputSize)] : ws.LayerOutput(layer - 1);
            Span<float> output = ws.LayerOutput(layer);
            for (int direction = 0; direction < D; direction++)
            {
                int index = layer * D + direction;
                var cell = _cells[index];
                var state = ws.States[index];
                bool reverse = direction == 1;

                // Gates of every step at once: biases, then x·W_ihᵀ in one GEMM. W_ihᵀ and W_hhᵀ are packed for the
                // GEMM kernel once per pass (the recurrent one is used at every step).
                Gemm.PackBTransposed(inputSize, 4 * H, _parameters.Value(cell.WeightIh), inputSize, state.WeightIhPacked);
                Gemm.PackBTransposed(H, 4 * H, _parameters.Value(cell.WeightHh), H, state.WeightHhPacked);
                Span<float> gates = state.Gates[..(steps * batch * 4 * H)];
                TensorPrimitives.Add(_parameters.Value(cell.BiasIh), _parameters.Value(cell.BiasHh), state.Bias);
                for (int row = 0; row < steps * batch; row++) state.Bias.CopyTo(gates.Slice(row * 4 * H, 4 * H));
                Gemm.MultiplyPacked(steps * batch, 4 * H, inputSize, input, inputSize, state.WeightIhPacked, gates, 4 * H, accumulate: true, pool);

                // Slot s of the state buffers holds the state before step s (forward) or after step s − 1 (reverse),
                // so the previous state of every step is one contiguous [T, B, H] block for the weight-gradient GEMM.
                int initialSlot = reverse ? steps : 0;
                Span<float> hInit = state.Hidden.Slice(initialSlot * stepStride, stepStride);
                Span<float> cInit = state.Cell.Slice(initialSlot * stepStride, stepStride);
                if (h0.IsEmpty) hInit.Clear(); else h0.Slice(index * stepStride, stepStride).CopyTo(hInit);
                if (c0.IsEmpty) cInit.Clear(); else c0.Slice(index * stepStride, stepStride).CopyTo(cInit);

                var work = state.Step;
                fixed (float* hidden = state.Hidden, cells = state.Cell, gatesAll = gates, tanhCell = state.TanhCell, packed = state.WeightHhPacked, outputAll = output)
                fixed (int* lengthsP = lengths)
                {
                    work.Prepare(backward: false, batch, H, lengthsP, packed, state.WeightHhPacked.Length, D * H, pool);
                    for (int s = 0; s < steps; s++)
                    {
                        int t = reverse ? steps - 1 - s : s;
                        int prevSlot = reverse ? t + 1 : t, nextSlot = reverse ? t : t + 1;
                        work.Time = t;
                        work.HPrev = hidden + prevSlot * stepStride; work.CPrev = cells + prevSlot * stepStride;
                        work.HNext = hidden + nextSlot * stepStride; work.CNext = cells + nextSlot * stepStride;
                        work.Gates = gatesAll + (long)t * batch * 4 * H;
                        work.TanhCell = tanhCell + (long)t * batch * H;
                        work.Output = outputAll + (long)t * batch * D * H + direction * H;
                        work.Run(pool);
                    }
                }
                int finalSlot = reverse ? 0 : steps;
                state.Hidden.Slice(finalSlot * stepStride, stepStride).CopyTo(ws.FinalHidden.Slice(index * stepStride, stepStride));
                state.Cell.Slice(finalSlot * stepStride, stepStride).CopyTo(ws.FinalCell.Slice(index * stepStride, stepStride));
            }
        }
    }

    /// <summary>
    /// Backpropagation through time for the last <see cref="Forward"/> on <paramref name="ws"/>.
    /// dOutput: [T, B, D·H] (gradient of the top layer's outputs; padded steps are ignored) and optionally
    /// dFinalHidden / dFinalCell: [L·D, B, H]. Adds into the parameter gradients, into dx [T, B, I] and into
    /// dh0 / dc0 [L·D, B, H] when those are given (non-empty).
    /// </summary>
    public void Backward(LstmWorkspace ws, ReadOnlySpan<float> x, ReadOnlySpan<float> dOutput,
        ReadOnlySpan<float> dFinalHidden = default, ReadOnlySpan<float> dFinalCell = default,
        Span<float> dx = default, Span<float> dh0 = default, Span<float> dc0 = default, WorkerPool? pool = null)
    {
        if (ws.ForwardOnly) throw new InvalidOperationException("This LSTM workspace was made for prediction only: it keeps nothing for backward.");
        int steps = ws.Steps, batch = ws.Batch, H = Shape.HiddenSize, D = Shape.Directions, stepStride = batch * H;
        ReadOnlySpan<int> lengths = ws.Lengths;
        int stateSize = _cells.Length * stepStride;
        Check.Length(dOutput, (long)steps * batch * Shape.OutputSize, "LSTM dOutput [T, B, D·H]");
        if (!dFinalHidden.IsEmpty && dFinalHidden.Length != stateSize) throw new ShapeException($"LSTM dFinalHidden must have {stateSize} elements, got {dFinalHidden.Length}.");
        if (!dFinalCell.IsEmpty && dFinalCell.Length != stateSize) throw new ShapeException($"LSTM dFinalCell must have {stateSize} elements, got {dFinalCell.Length}.");
        if (!dx.IsEmpty) Check.Length(dx, (long)steps * batch * Shape.InputSize, "LSTM dx [T, B, I]");
        if (!dh0.IsEmpty && dh0.Length != stateSize) throw new ShapeException($"LSTM dh0 must have {stateSize} elements, got {dh0.Length}.");
        if (!dc0.IsEmpty && dc0.Length != stateSize) throw new ShapeException($"LSTM dc0 must have {stateSize} elements, got {dc0.Length}.");

        for (int layer = Shape.Layers - 1; layer >= 0; layer--)
        {
            int inputSize = Shape.LayerInputSize(layer);
            ReadOnlySpan<float> input = layer == 0 ? x[..(steps * batch * inputSize)] : ws.LayerOutput(layer - 1);
            ReadOnlySpan<float> dOut = layer == Shape.Layers - 1 ? dOutput[..(steps * batch * D * H)] : ws.LayerOutputGradient(layer);
            Span<float> dInput = layer == 0 ? dx : ws.LayerOutputGradient(layer - 1);
            if (layer > 0) dInput.Clear();

            for (int direction = 0; direction < D; direction++)
            {
                int index = layer * D + direction;
                var cell = _cells[index];
                var state = ws.States[index];
                bool reverse = direction == 1;
                Span<float> gates = state.Gates[..(steps * batch * 4 * H)];
                Span<float> dh = state.HiddenGradient[..stepStride], dc = state.CellGradient[..stepStride];
                if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.Slice(index * stepStride, stepStride).CopyTo(dh);
                if (dFinalCell.IsEmpty) dc.Clear(); else dFinalCell.Slice(index * stepStride, stepStride).CopyTo(dc);

                Gemm.PackB(4 * H, H, _parameters.Value(cell.WeightHh), H, state.WeightHhPackedBackward);
                var work = state.Step;
                fixed (float* cells = state.Cell, gatesAll = gates, tanhCell = state.TanhCell, packed = state.WeightHhPackedBackward)
                fixed (float* dOutAll = dOut, dhA = state.HiddenGradient, dhB = state.HiddenGradientOther, dcP = state.CellGradient)
                fixed (int* lengthsP = lengths)
                {
                    work.Prepare(backward: true, batch, H, lengthsP, packed, state.WeightHhPackedBackward.Length, D * H, pool);
                    work.Dc = dcP;
                    float* dhNow = dhA, dhPrev = dhB;
                    for (int s = steps - 1; s >= 0; s--)
                    {
                        int t = reverse ? steps - 1 - s : s;
                        int prevSlot = reverse ? t + 1 : t;
                        work.Time = t;
                        work.CPrev = cells + prevSlot * stepStride;
                        work.Gates = gatesAll + (long)t * batch * 4 * H;
                        work.TanhCell = tanhCell + (long)t * batch * H;
                        work.DOut = dOutAll + (long)t * batch * D * H + direction * H;
                        work.Dh = dhNow; work.DhOther = dhPrev;
                        work.Run(pool);
                        float* swap = dhNow; dhNow = dhPrev; dhPrev = swap;
                    }
                    // After an odd number of steps the gradient of the initial state is in the other buffer.
                    if (dhNow != dhA) new ReadOnlySpan<float>(dhNow, stepStride).CopyTo(dh);
                }
                if (!dh0.IsEmpty) TensorPrimitives.Add(dh0.Slice(index * stepStride, stepStride), dh, dh0.Slice(index * stepStride, stepStride));
                if (!dc0.IsEmpty) TensorPrimitives.Add(dc0.Slice(index * stepStride, stepStride), dc, dc0.Slice(index * stepStride, stepStride));

                // Weight gradients for all steps at once: dW_ih += dâᵀ·x, dW_hh += dâᵀ·h', db += Σ dâ.
                int rows = steps * batch;
                int prevStart = reverse ? 1 : 0;
                ReadOnlySpan<float> hPrevAll = state.Hidden.Slice(prevStart * stepStride, steps * stepStride);
                Gemm.Multiply(true, false, 4 * H, inputSize, rows, gates, 4 * H, input, inputSize, _parameters.Gradient(cell.WeightIh), inputSize, accumulate: true, pool);
                Gemm.Multiply(true, false, 4 * H, H, rows, gates, 4 * H, hPrevAll, H, _parameters.Gradient(cell.WeightHh), H, accumulate: true, pool);
                Span<float> dBias = state.Bias;
                dBias.Clear();
                for (int row = 0; row < rows; row++) TensorPrimitives.Add(dBias, gates.Slice(row * 4 * H, 4 * H), dBias);
                TensorPrimitives.Add(_parameters.Gradient(cell.BiasIh), dBias, _parameters.Gradient(cell.BiasIh));
                TensorPrimitives.Add(_parameters.Gradient(cell.BiasHh), dBias, _parameters.Gradient(cell.BiasHh));
                if (!dInput.IsEmpty)
                    Gemm.Multiply(false, false, rows, inputSize, 4 * H, gates, 4 * H, _parameters.Value(cell.WeightIh), inputSize, dInput, inputSize, accumulate: true, pool);
            }
        }
    }
}

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

    public int MaxSteps { get; }
    public int MaxBatch { get; }
    /// <summary>Made for prediction: the gradient buffers of backward were never allocated.</summary>
    public bool ForwardOnly { get; }
    public int Steps { get; private set; }
    public int Batch { get; private set; }
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Batch);

    internal DirectionState[] States { get; }

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
            _gates = new float[maxSteps * maxBatch * 4 * H];
            _hidden = new float[(maxSteps + 1) * maxBatch * H];
            _cell = new float[(maxSteps + 1) * maxBatch * H];
            _tanhCell = new float[maxSteps * maxBatch * H];
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

/// <summary>
/// One time step of one direction, split by hidden units (forward) or batch rows (backward, or a forward whose H
/// does not split in whole panels): a work item runs the recurrent product for its share and then its gate math
/// (forward), or its rows' cell backward and then dh' for them (backward). One pool run per
/// step, no serial elementwise phase, and each row's arithmetic is the same whichever thread runs it.
/// The pointers are set by <see cref="Lstm"/> inside its <c>fixed</c> blocks, for the duration of one run.
/// </summary>
internal sealed unsafe class LstmStep : IParallelWork
{
    private bool _backward;
    private int _batch, _hidden, _rowsPerItem, _unitsPerItem, _items, _outputStride, _packedLength;
    private int* _lengths;
    private float* _packed;

    public int Time;
    public float* HPrev, CPrev, HNext, CNext, Gates, TanhCell, Output, DOut, Dh, DhOther, Dc;

    /// <summary>
    /// How the step is shared for this pass: by hidden units (forward, when H splits in whole panels per thread),
    /// else by rows in whole 6-row GEMM tiles, as evenly over the pool's threads as tiles allow.
    /// </summary>
    public void Prepare(bool backward, int batch, int hidden, int* lengths, float* packed, int packedLength, int outputStride, WorkerPool? pool)
    {
        _backward = backward; _batch = batch; _hidden = hidden; _lengths = lengths; _packed = packed;
        _packedLength = packedLength; _outputStride = outputStride;
        int threads = pool?.Threads ?? 1;
        int tiles = (batch + Gemm.RowsPerTile - 1) / Gemm.RowsPerTile;
        _rowsPerItem = (tiles + threads - 1) / threads * Gemm.RowsPerTile;
        _items = (batch + _rowsPerItem - 1) / _rowsPerItem;
        // Forward steps share the hidden units instead when they split in whole panels: every thread gets the same
        // work however the batch divides into 6-row tiles, and keeps its slice of W_hh in its own cache (measured:
        // inference +8 % at SEED, training unchanged). Backward needs every gate of a row before dh', so it splits rows.
        _unitsPerItem = 0;
        if (!backward && threads > 1 && hidden % (threads * Gemm.PanelWidth) == 0)
        {
            _unitsPerItem = hidden / threads;
            _items = threads;
        }
    }

    public void Run(WorkerPool? pool)
    {
        if (pool is null || _items == 1) for (int item = 0; item < _items; item++) Execute(item);
        else pool.Run(this, _items);
    }

    public void Execute(int item)
    {
        if (_unitsPerItem > 0) { ForwardUnits(item); return; }
        int first = item * _rowsPerItem, rows = Math.Min(_rowsPerItem, _batch - first);
        if (_backward) BackwardRows(first, rows); else ForwardRows(first, rows);
    }

    private static Span<float> Row(float* start, int row, int width) => new(start + (long)row * width, width);

    private void ForwardRows(int first, int rows)
    {
        int H = _hidden, fourH = 4 * H;
        var packed = new ReadOnlySpan<float>(_packed, _packedLength);
        Gemm.MultiplyPacked(rows, fourH, H, new ReadOnlySpan<float>(HPrev + (long)first * H, rows * H), H, packed,
            new Span<float>(Gates + (long)first * fourH, rows * fourH), fourH, accumulate: true);
        for (int b = first; b < first + rows; b++) GateMath(b, 0, H);
    }

    /// <summary>
    /// Forward steps (any batch, when H splits in whole panels): item k takes hidden units [k·H/items, (k+1)·H/items)
    /// of every row, i.e. the same slice of each gate's columns. Its share of W_hh stays in its core's cache.
    /// </summary>
    private void ForwardUnits(int item)
    {
        int H = _hidden, fourH = 4 * H, first = item * _unitsPerItem, units = _unitsPerItem;
        int width = Gemm.PanelWidth;
        for (int gate = 0; gate < 4; gate++)
        {
            int column = gate * H + first; // a whole number of panels: packed panels column/width onwards
            var packed = new ReadOnlySpan<float>(_packed + (long)(column / width) * H * width, units * H);
            Gemm.MultiplyPacked(_batch, units, H, new ReadOnlySpan<float>(HPrev, _batch * H), H, packed,
                new Span<float>(Gates + column, (_batch - 1) * fourH + units), fourH, accumulate: true);
        }
        for (int b = 0; b < _batch; b++) GateMath(b, first, units);
    }

    /// <summary>Gate nonlinearities, new cell and hidden state for units [first, first + units) of row b.</summary>
    private void GateMath(int b, int first, int units)
    {
        int H = _hidden;
        Span<float> hOut = new Span<float>(Output + (long)b * _outputStride, H).Slice(first, units);
        if (Time >= _lengths[b])
        {
            Row(HPrev, b, H).Slice(first, units).CopyTo(Row(HNext, b, H).Slice(first, units));
            Row(CPrev, b, H).Slice(first, units).CopyTo(Row(CNext, b, H).Slice(first, units));
            hOut.Clear();
            return;
        }
        Span<float> g = Row(Gates, b, 4 * H);
        Span<float> input = g.Slice(first, units), forget = g.Slice(H + first, units), cell = g.Slice(2 * H + first, units), output = g.Slice(3 * H + first, units);
        TensorPrimitives.Sigmoid(input, input);
        TensorPrimitives.Sigmoid(forget, forget);
        TensorPrimitives.Tanh(cell, cell);
        TensorPrimitives.Sigmoid(output, output);
        Span<float> c = Row(CNext, b, H).Slice(first, units), tanhC = Row(TanhCell, b, H).Slice(first, units), h = Row(HNext, b, H).Slice(first, units);
        TensorPrimitives.Multiply(input, cell, c);
        TensorPrimitives.FusedMultiplyAdd(forget, Row(CPrev, b, H).Slice(first, units), c, c);
        TensorPrimitives.Tanh(c, tanhC);
        TensorPrimitives.Multiply(output, tanhC, h);
        h.CopyTo(hOut);
    }

    private void BackwardRows(int first, int rows)
    {
        int H = _hidden, fourH = 4 * H;
        for (int b = first; b < first + rows; b++)
        {
            if (Time >= _lengths[b]) { Row(Gates, b, fourH).Clear(); continue; }
            Kernels.LstmCellBackward(Row(Gates, b, fourH), Row(CPrev, b, H), Row(TanhCell, b, H),
                new ReadOnlySpan<float>(DOut + (long)b * _outputStride, H), Row(Dh, b, H), Row(Dc, b, H));
        }
        // dh' = dâ·W_hh for the valid rows; a padded row passes its gradient through unchanged.
        Gemm.MultiplyPacked(rows, H, fourH, new ReadOnlySpan<float>(Gates + (long)first * fourH, rows * fourH), fourH,
            new ReadOnlySpan<float>(_packed, _packedLength), new Span<float>(DhOther + (long)first * H, rows * H), H, accumulate: false);
        for (int b = first; b < first + rows; b++)
            if (Time >= _lengths[b]) Row(Dh, b, H).CopyTo(Row(DhOther, b, H));
    }
}
