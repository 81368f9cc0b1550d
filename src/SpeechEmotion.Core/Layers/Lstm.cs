using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
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
        bool packedCurrent = ws.PackedFrom(_parameters);
        long version = _parameters.Version;
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

                // Gates a chunk of steps at a time (LstmWorkspace.ChunkSteps): biases + x·W_ihᵀ in one GEMM, then the
                // chunk's recurrent steps while those gates are in cache. W_ihᵀ and W_hhᵀ are packed for the GEMM kernel
                // once per pass (the recurrent one is used at every step). Training keeps every step's gates and states
                // for backward; a forward-only workspace keeps one chunk of gates and two state slots, so a long
                // recording needs no [T, B, 4H] gates. Each row's arithmetic is the same either way, so are the bits.
                // A prediction-only workspace keeps them packed while the parameters do not change (ParameterSet.Version):
                // repacking a megabyte of W_hh was 13 % of a batch-1 SEED forward.
                if (!packedCurrent)
                {
                    Gemm.PackBTransposed(inputSize, 4 * H, _parameters.Read(cell.WeightIh), inputSize, state.WeightIhPacked);
                    Gemm.PackBTransposed(H, 4 * H, _parameters.Read(cell.WeightHh), H, state.WeightHhPacked);
                    TensorPrimitives.Add(_parameters.Read(cell.BiasIh), _parameters.Read(cell.BiasHh), state.Bias);
                }
                bool forwardOnly = ws.ForwardOnly;

                // Slot s of the state buffers holds the state before step s (forward) or after step s − 1 (reverse),
                // so the previous state of every step is one contiguous [T, B, H] block for the weight-gradient GEMM.
                // Forward-only, the k-th step of the direction reads slot k mod 2 and writes the other.
                int initialSlot = forwardOnly ? 0 : reverse ? steps : 0;
                Span<float> hInit = state.Hidden.Slice(initialSlot * stepStride, stepStride);
                Span<float> cInit = state.Cell.Slice(initialSlot * stepStride, stepStride);
                if (h0.IsEmpty) hInit.Clear(); else h0.Slice(index * stepStride, stepStride).CopyTo(hInit);
                if (c0.IsEmpty) cInit.Clear(); else c0.Slice(index * stepStride, stepStride).CopyTo(cInit);

                var work = state.Step;
                if (LstmStep.SharesByPass(batch, pool))
                {
                    // One pool run for the whole pass: each thread carries its rows through every step (LstmStep).
                    fixed (float* inputP = input, inputPacked = state.WeightIhPacked, bias = state.Bias, packed = state.WeightHhPacked)
                    fixed (float* hidden = state.Hidden, cells = state.Cell, gatesAll = state.Gates, tanhCell = state.TanhCell, outputAll = output)
                    fixed (int* lengthsP = lengths)
                    {
                        work.PrepareForwardPass(steps, reverse, forwardOnly, batch, H, lengthsP, D * H, inputP, inputSize, inputPacked, state.WeightIhPacked.Length,
                            bias, packed, state.WeightHhPacked.Length, hidden, cells, gatesAll, tanhCell, outputAll + direction * H, pool);
                        work.Run(pool);
                    }
                }
                else
                {
                    int chunk = Math.Min(steps, LstmWorkspace.ChunkSteps(batch, H));
                    for (int done = 0; done < steps; done += chunk)
                    {
                        int count = Math.Min(chunk, steps - done), tFirst = reverse ? steps - done - count : done;
                        // Where step t's gates and tanh(c) live: from the chunk's start (forward-only) or at t (training).
                        int tBase = forwardOnly ? tFirst : 0;
                        Span<float> gates = state.Gates.Slice((tFirst - tBase) * batch * 4 * H, count * batch * 4 * H);
                        Gemm.MultiplyPacked(count * batch, 4 * H, inputSize, input.Slice(tFirst * batch * inputSize, count * batch * inputSize), inputSize,
                            state.WeightIhPacked, gates, 4 * H, accumulate: false, pool, rowInit: state.Bias);
                        fixed (float* hidden = state.Hidden, cells = state.Cell, gatesAll = state.Gates, tanhCell = state.TanhCell, packed = state.WeightHhPacked, outputAll = output)
                        fixed (int* lengthsP = lengths)
                        {
                            work.Prepare(backward: false, batch, H, lengthsP, packed, state.WeightHhPacked.Length, D * H, pool);
                            for (int s = 0; s < count; s++)
                            {
                                var (t, prevSlot, nextSlot) = LstmStep.ForwardSlots(done + s, steps, reverse, forwardOnly);
                                work.Time = t;
                                work.HPrev = hidden + prevSlot * stepStride; work.CPrev = cells + prevSlot * stepStride;
                                work.HNext = hidden + nextSlot * stepStride; work.CNext = cells + nextSlot * stepStride;
                                work.Gates = gatesAll + (long)(t - tBase) * batch * 4 * H;
                                work.TanhCell = tanhCell + (long)(t - tBase) * batch * H;
                                work.Output = outputAll + (long)t * batch * D * H + direction * H;
                                work.Run(pool);
                            }
                        }
                    }
                }
                int finalSlot = forwardOnly ? steps % 2 : reverse ? 0 : steps;
                state.Hidden.Slice(finalSlot * stepStride, stepStride).CopyTo(ws.FinalHidden.Slice(index * stepStride, stepStride));
                state.Cell.Slice(finalSlot * stepStride, stepStride).CopyTo(ws.FinalCell.Slice(index * stepStride, stepStride));
            }
        }
        ws.MarkPacked(_parameters, version);
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

                Gemm.PackB(4 * H, H, _parameters.Read(cell.WeightHh), H, state.WeightHhPackedBackward);
                var work = state.Step;
                fixed (float* cells = state.Cell, gatesAll = gates, tanhCell = state.TanhCell, packed = state.WeightHhPackedBackward)
                fixed (float* dOutAll = dOut, dhA = state.HiddenGradient, dhB = state.HiddenGradientOther, dcP = state.CellGradient)
                fixed (int* lengthsP = lengths)
                {
                    float* dhNow = dhA, dhPrev = dhB;
                    if (LstmStep.SharesByPass(batch, pool))
                    {
                        // One pool run for the whole pass, as in forward; every row swaps its two dh buffers once per step.
                        work.PrepareBackwardPass(steps, reverse, batch, H, lengthsP, D * H, packed, state.WeightHhPackedBackward.Length,
                            cells, gatesAll, tanhCell, dOutAll + direction * H, dhA, dhB, dcP, pool);
                        work.Run(pool);
                        if (steps % 2 == 1) dhNow = dhB;
                    }
                    else
                    {
                        work.Prepare(backward: true, batch, H, lengthsP, packed, state.WeightHhPackedBackward.Length, D * H, pool);
                        work.Dc = dcP;
                        for (int s = steps - 1; s >= 0; s--)
                        {
                            var (t, prevSlot) = LstmStep.BackwardSlots(s, steps, reverse);
                            work.Time = t;
                            work.CPrev = cells + prevSlot * stepStride;
                            work.Gates = gatesAll + (long)t * batch * 4 * H;
                            work.TanhCell = tanhCell + (long)t * batch * H;
                            work.DOut = dOutAll + (long)t * batch * D * H + direction * H;
                            work.Dh = dhNow; work.DhOther = dhPrev;
                            work.Run(pool);
                            float* swap = dhNow; dhNow = dhPrev; dhPrev = swap;
                        }
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
                    Gemm.Multiply(false, false, rows, inputSize, 4 * H, gates, 4 * H, _parameters.Read(cell.WeightIh), inputSize, dInput, inputSize, accumulate: true, pool);
            }
            Subnormal.Flush(dInput); // the layer below (or the caller's dx) starts from flushed values
        }
    }
}

/// <summary>
/// One LSTM cell, forward and backward side by side: the equations of one time step for one sequence, applied by
/// <see cref="Lstm"/> to every row and step. Each has a vector path and its scalar reference; tests compare them.
/// </summary>
public static class LstmCell
{
    /// <summary>
    /// Forward through one LSTM cell for one sequence, over units of width n (PyTorch's equations): on entry the
    /// four gate spans hold the pre-activations âᵢ, â_f, â_g, â_o (x·W_ihᵀ + h'·W_hhᵀ + b); on return the activations
    /// i = σ(âᵢ), f = σ(â_f), g = tanh(â_g), o = σ(â_o), kept for backward. Then c = f⊙c' + i⊙g, tanh(c) (kept) and
    /// h = o⊙tanh(c). <see cref="Activations"/> picks the widest vectors; <see cref="ForwardReference"/> is the scalar
    /// loop, and gives the same bits (each step is one IEEE operation per element, in the same order).
    /// </summary>
    /// <param name="hCopy">Optional second destination of h (the layer's output), written from the same registers.</param>
    public static void Forward(Span<float> input, Span<float> forget, Span<float> cell, Span<float> output,
        ReadOnlySpan<float> cPrev, Span<float> c, Span<float> tanhC, Span<float> h, Span<float> hCopy = default)
    {
        int n = c.Length, j = 0;
        if (input.Length != n || forget.Length != n || cell.Length != n || output.Length != n || cPrev.Length != n || tanhC.Length != n || h.Length != n
            || !(hCopy.IsEmpty || hCopy.Length == n))
            throw new ShapeException($"LstmCell.Forward: every span must have the {n} units of c; got gates {input.Length}, {forget.Length}, {cell.Length}, {output.Length}, " +
                                     $"c' {cPrev.Length}, tanh c {tanhC.Length}, h {h.Length}, h's copy {hCopy.Length}.");
        bool copy = !hCopy.IsEmpty;
        // One pass over the units, every step of the cell on a vector while it is in registers (it was eleven passes
        // over the row, one per operation); the same operations per element in the same order as the reference.
        if (Vector512.IsHardwareAccelerated) for (; j <= n - 16; j += 16) ForwardLanes<Lane16>(input, forget, cell, output, cPrev, c, tanhC, h, hCopy, copy, j);
        if (Vector256.IsHardwareAccelerated) for (; j <= n - 8; j += 8) ForwardLanes<Lane8>(input, forget, cell, output, cPrev, c, tanhC, h, hCopy, copy, j);
        if (Vector128.IsHardwareAccelerated) for (; j <= n - 4; j += 4) ForwardLanes<Lane4>(input, forget, cell, output, cPrev, c, tanhC, h, hCopy, copy, j);
        for (; j < n; j++) ForwardLanes<Lane1>(input, forget, cell, output, cPrev, c, tanhC, h, hCopy, copy, j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardLanes<T>(Span<float> input, Span<float> forget, Span<float> cell, Span<float> output,
        ReadOnlySpan<float> cPrev, Span<float> c, Span<float> tanhC, Span<float> h, Span<float> hCopy, bool copy, int j) where T : struct, ILanes<T>
    {
        T i = T.Flush(Activations.Sigmoid(T.Load(input, j)));
        T f = T.Flush(Activations.Sigmoid(T.Load(forget, j)));
        T g = T.Flush(Activations.Tanh(T.Load(cell, j)));
        T o = T.Flush(Activations.Sigmoid(T.Load(output, j)));
        i.Store(input, j); f.Store(forget, j); g.Store(cell, j); o.Store(output, j);
        T cNew = T.Flush(T.Fma(f, T.Load(cPrev, j), i * g));
        cNew.Store(c, j);
        T t = Activations.Tanh(cNew);
        t.Store(tanhC, j);
        T hNew = T.Flush(o * t);
        hNew.Store(h, j);
        if (copy) hNew.Store(hCopy, j);
    }

    /// <summary>The scalar reference of <see cref="Forward"/>, same argument layout.</summary>
    public static void ForwardReference(Span<float> input, Span<float> forget, Span<float> cell, Span<float> output,
        ReadOnlySpan<float> cPrev, Span<float> c, Span<float> tanhC, Span<float> h)
    {
        for (int j = 0; j < c.Length; j++)
        {
            float i = input[j] = Subnormal.Flush(Activations.Sigmoid(input[j]));
            float f = forget[j] = Subnormal.Flush(Activations.Sigmoid(forget[j]));
            float g = cell[j] = Subnormal.Flush(Activations.Tanh(cell[j]));
            float o = output[j] = Subnormal.Flush(Activations.Sigmoid(output[j]));
            c[j] = Subnormal.Flush(MathF.FusedMultiplyAdd(f, cPrev[j], i * g));
            tanhC[j] = Activations.Tanh(c[j]);
            h[j] = Subnormal.Flush(o * tanhC[j]);
        }
    }

    /// <summary>
    /// Backward through one LSTM cell for one sequence, H elements wide (PyTorch's equations):
    /// c = f⊙c' + i⊙g, h = o⊙tanh(c), with i, f, o = σ(·) and g = tanh(·) of the gate pre-activations.
    /// With dh = dy + dhNext and dc = dcNext + dh⊙o⊙(1 − tanh²c):
    /// dâ_i = dc⊙g⊙i(1−i), dâ_f = dc⊙c'⊙f(1−f), dâ_g = dc⊙i⊙(1−g²), dâ_o = dh⊙tanh(c)⊙o(1−o), dc' = dc⊙f.
    /// <paramref name="gates"/> holds [i | f | g | o] activations (4H) on entry and the pre-activation gradients
    /// on return; <paramref name="dc"/> holds dcNext on entry and dc' on return.
    /// </summary>
    public static void Backward(Span<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> dhNext, Span<float> dc)
    {
        int h = CheckCell(gates.Length, cPrev.Length, tanhC.Length, dy.Length, dhNext.Length, dc.Length);
        var gi = gates[..h]; var gf = gates.Slice(h, h); var gg = gates.Slice(2 * h, h); var go = gates.Slice(3 * h, h);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j <= h - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                var one = Vector512<float>.One;
                var i = Vector512.Create(gi[j..]); var f = Vector512.Create(gf[j..]);
                var g = Vector512.Create(gg[j..]); var o = Vector512.Create(go[j..]);
                var t = Vector512.Create(tanhC[j..]);
                var dh = Vector512.Create(dy[j..]) + Vector512.Create(dhNext[j..]);
                var dcv = Vector512.Create(dc[j..]) + dh * o * (one - t * t);
                Subnormal.Flush(dcv * g * i * (one - i)).CopyTo(gi[j..]);
                Subnormal.Flush(dcv * Vector512.Create(cPrev[j..]) * f * (one - f)).CopyTo(gf[j..]);
                Subnormal.Flush(dcv * i * (one - g * g)).CopyTo(gg[j..]);
                Subnormal.Flush(dh * t * o * (one - o)).CopyTo(go[j..]);
                Subnormal.Flush(dcv * f).CopyTo(dc[j..]);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; j <= h - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var one = Vector256<float>.One;
                var i = Vector256.Create(gi[j..]); var f = Vector256.Create(gf[j..]);
                var g = Vector256.Create(gg[j..]); var o = Vector256.Create(go[j..]);
                var t = Vector256.Create(tanhC[j..]);
                var dh = Vector256.Create(dy[j..]) + Vector256.Create(dhNext[j..]);
                var dcv = Vector256.Create(dc[j..]) + dh * o * (one - t * t);
                Subnormal.Flush(dcv * g * i * (one - i)).CopyTo(gi[j..]);
                Subnormal.Flush(dcv * Vector256.Create(cPrev[j..]) * f * (one - f)).CopyTo(gf[j..]);
                Subnormal.Flush(dcv * i * (one - g * g)).CopyTo(gg[j..]);
                Subnormal.Flush(dh * t * o * (one - o)).CopyTo(go[j..]);
                Subnormal.Flush(dcv * f).CopyTo(dc[j..]);
            }
        CellBackwardScalar(gi[j..], gf[j..], gg[j..], go[j..], cPrev[j..h], tanhC[j..h], dy[j..h], dhNext[j..h], dc[j..h]);
    }

    /// <summary>The scalar reference of <see cref="Backward"/>, same argument layout.</summary>
    public static void BackwardReference(Span<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> dhNext, Span<float> dc)
    {
        int h = CheckCell(gates.Length, cPrev.Length, tanhC.Length, dy.Length, dhNext.Length, dc.Length);
        CellBackwardScalar(gates[..h], gates.Slice(h, h), gates.Slice(2 * h, h), gates.Slice(3 * h, h), cPrev, tanhC, dy, dhNext, dc);
    }

    private static void CellBackwardScalar(Span<float> gi, Span<float> gf, Span<float> gg, Span<float> go,
        ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhNext, Span<float> dc)
    {
        for (int j = 0; j < dc.Length; j++)
        {
            float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tanhC[j];
            float dh = dy[j] + dhNext[j];
            float dcv = dc[j] + dh * o * (1f - t * t);
            gi[j] = Subnormal.Flush(dcv * g * i * (1f - i));
            gf[j] = Subnormal.Flush(dcv * cPrev[j] * f * (1f - f));
            gg[j] = Subnormal.Flush(dcv * i * (1f - g * g));
            go[j] = Subnormal.Flush(dh * t * o * (1f - o));
            dc[j] = Subnormal.Flush(dcv * f);
        }
    }

    private static int CheckCell(int gates, int cPrev, int tanhC, int dy, int dhNext, int dc)
    {
        int h = dc;
        if (gates != 4 * h || cPrev != h || tanhC != h || dy != h || dhNext != h)
            throw new ShapeException($"LstmCell.Backward: gates must be 4H and the rest H (H = {h}); got gates {gates}, cPrev {cPrev}, tanhC {tanhC}, dy {dy}, dhNext {dhNext}.");
        return h;
    }
}
