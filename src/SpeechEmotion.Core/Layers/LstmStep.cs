using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// The parallel work of one direction's time loop, in one of two shapes. A whole pass (<see cref="PrepareForwardPass"/>,
/// <see cref="PrepareBackwardPass"/>, when the batch gives every thread a whole row tile): each work item carries a block
/// of rows through every step — input projection, recurrent product and cell forward; cell backward and dh' backward —
/// and the threads meet once per pass. Otherwise one step per run (<see cref="Prepare"/>; batch-1 prediction): split by
/// hidden units (forward) or batch rows (backward, or a forward whose H does not split in whole panels). Either way
/// there is no serial elementwise phase, and each row's arithmetic is the same whichever thread runs it.
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

    // A whole pass (PrepareForwardPass, PrepareBackwardPass): every step of one direction, each work item a block of rows.
    private bool _pass, _reverse, _forwardOnly;
    private int _steps, _inputSize, _inputPackedLength;
    private float* _input, _inputPacked, _bias, _hiddenAll, _cells, _gatesAll, _tanhAll, _outputAll, _dOutAll, _dhA, _dhB;

    // Rows of a step gathered together when some of the batch's sequences have ended (see ActiveRows): per row, room for
    // its input, h' and gates (forward) or its gates and dh' (backward); an item's rows at first·stride. Pinned, so the
    // pointer stays; grown only when a larger batch or layer comes (never in a steady training step).
    private float[] _scratch = [];
    private float* _scratchP;
    private int _scratchStride;

    /// <summary>
    /// A step whose recurrent product has fewer multiply-adds than this (batch × 4H × H) runs on one thread: handing half
    /// of it to another core costs more than it saves. Measured with `ser bench` (batch-1 latency, 2 threads vs 1, Zen 4):
    /// FRAMES (H 128, 65,536) 1.36 vs 1.00 ms, SEED and FRAMES-L (H 256, 262,144) 0.57 vs 0.82 and 2.45 vs 3.94 ms.
    /// </summary>
    public const long MinParallelStepMacs = 1L << 17;

    /// <summary>
    /// How the step is shared for this pass: by hidden units (forward, when H splits in whole panels per thread),
    /// else by rows in whole GEMM row tiles (Gemm.RowsPerTile), as evenly over the pool's threads as tiles allow.
    /// </summary>
    public void Prepare(bool backward, int batch, int hidden, int* lengths, float* packed, int packedLength, int outputStride, WorkerPool? pool)
    {
        _pass = false;
        _backward = backward; _batch = batch; _hidden = hidden; _lengths = lengths; _packed = packed;
        _packedLength = packedLength; _outputStride = outputStride;
        Reserve(batch, 5 * hidden);
        int threads = (long)batch * 4 * hidden * hidden < MinParallelStepMacs ? 1 : pool?.Threads ?? 1;
        SplitRows(batch, threads);
        // Forward steps share the hidden units instead when they split in whole panels: every thread gets the same
        // work however the batch divides into row tiles, and keeps its slice of W_hh in its own cache (measured:
        // inference +8 % at SEED, training unchanged). Backward needs every gate of a row before dh', so it splits rows.
        _unitsPerItem = 0;
        if (!backward && threads > 1 && hidden % (threads * Gemm.PanelWidth) == 0)
        {
            _unitsPerItem = hidden / threads;
            _items = threads;
        }
    }

    /// <summary>
    /// Whether a direction's whole pass runs as one pool run of row blocks (<see cref="PrepareForwardPass"/>,
    /// <see cref="PrepareBackwardPass"/>) rather than one run per step: when the batch gives every thread a whole row tile.
    /// Rows never meet within a pass (each row's state, gates and dh' depend on that row alone), so each item carries its
    /// rows through every step and the threads meet once per pass instead of once per step. A batch too small to share
    /// (batch-1 prediction) keeps the per-step runs, split by hidden units.
    /// </summary>
    public static bool SharesByPass(int batch, WorkerPool? pool) => pool is null || pool.Threads == 1 || batch >= pool.Threads * Gemm.RowsPerTile;

    /// <summary>
    /// Forward, whole pass: item k takes its rows through every step — their input projection (bias + x·W_ihᵀ), then
    /// the recurrent product and the cell. Slots, gates and tanh(c) are where <see cref="Lstm.Forward"/> keeps them: a
    /// forward-only workspace reuses one step's gates and two state slots.
    /// </summary>
    public void PrepareForwardPass(int steps, bool reverse, bool forwardOnly, int batch, int hidden, int* lengths, int outputStride,
        float* input, int inputSize, float* inputPacked, int inputPackedLength, float* bias, float* packed, int packedLength,
        float* hidden0, float* cells, float* gatesAll, float* tanhAll, float* outputAll, WorkerPool? pool)
    {
        Prepare(backward: false, batch, hidden, lengths, packed, packedLength, outputStride, pool: null);
        Reserve(batch, inputSize + 5 * hidden);
        SetPass(steps, reverse, forwardOnly, batch, pool);
        _input = input; _inputSize = inputSize; _inputPacked = inputPacked; _inputPackedLength = inputPackedLength; _bias = bias;
        _hiddenAll = hidden0; _cells = cells; _gatesAll = gatesAll; _tanhAll = tanhAll; _outputAll = outputAll;
    }

    /// <summary>Backward, whole pass: item k takes its rows back through every step — cell backward, then dh' = dâ·W_hh.</summary>
    public void PrepareBackwardPass(int steps, bool reverse, int batch, int hidden, int* lengths, int outputStride, float* packed, int packedLength,
        float* cells, float* gatesAll, float* tanhAll, float* dOutAll, float* dhA, float* dhB, float* dc, WorkerPool? pool)
    {
        Prepare(backward: true, batch, hidden, lengths, packed, packedLength, outputStride, pool: null);
        SetPass(steps, reverse, forwardOnly: false, batch, pool);
        _cells = cells; _gatesAll = gatesAll; _tanhAll = tanhAll; _dOutAll = dOutAll; _dhA = dhA; _dhB = dhB; Dc = dc;
    }

    private void SetPass(int steps, bool reverse, bool forwardOnly, int batch, WorkerPool? pool)
    {
        _pass = true; _steps = steps; _reverse = reverse; _forwardOnly = forwardOnly;
        SplitRows(batch, pool?.Threads ?? 1);
        _unitsPerItem = 0;
    }

    private void Reserve(int batch, int stride)
    {
        _scratchStride = stride;
        long need = (long)batch * stride;
        if (_scratch.Length >= need) return;
        _scratch = GC.AllocateArray<float>(checked((int)need), pinned: true);
        _scratchP = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _scratch[0]);
    }

    /// <summary>
    /// How many of rows [first, first + rows) are still inside their sequence at <paramref name="time"/>. When some have
    /// ended, a step's products run over the others only, gathered into the scratch rows and scattered back: a row's
    /// arithmetic does not depend on which rows share its GEMM tile (<see cref="Gemm.RowsPerTile"/>), so the bits are
    /// the same, and the padding of a batch of mixed lengths (about 30 % of a step's rows in the corpora's batches of
    /// 32) costs nothing.
    /// </summary>
    private int ActiveRows(int first, int rows, int time)
    {
        int active = 0;
        for (int b = first; b < first + rows; b++) if (time < _lengths[b]) active++;
        return active;
    }

    /// <summary>Work items of whole GEMM row tiles (Gemm.RowsPerTile), as evenly over <paramref name="threads"/> as tiles allow.</summary>
    private void SplitRows(int batch, int threads)
    {
        int tiles = (batch + Gemm.RowsPerTile - 1) / Gemm.RowsPerTile;
        _rowsPerItem = (tiles + threads - 1) / threads * Gemm.RowsPerTile;
        _items = (batch + _rowsPerItem - 1) / _rowsPerItem;
    }

    /// <summary>
    /// The k-th forward step of a direction (k = 0 first): its time t, and the state slots it reads and writes — slot s
    /// holds the state before step s (forward) or after step s − 1 (reverse), or, forward-only, slot k mod 2 and the other.
    /// </summary>
    public static (int Time, int Previous, int Next) ForwardSlots(int k, int steps, bool reverse, bool forwardOnly)
    {
        int t = reverse ? steps - 1 - k : k;
        return (t, forwardOnly ? k % 2 : reverse ? t + 1 : t, forwardOnly ? (k + 1) % 2 : reverse ? t : t + 1);
    }

    /// <summary>Backward over forward step s (s = steps − 1 first): its time t and the slot of its previous state.</summary>
    public static (int Time, int Previous) BackwardSlots(int s, int steps, bool reverse)
    {
        int t = reverse ? steps - 1 - s : s;
        return (t, reverse ? t + 1 : t);
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
        if (_pass)
        {
            if (_backward) BackwardPass(first, rows); else ForwardPass(first, rows);
            return;
        }
        if (_backward) BackwardRows(first, rows, Time, CPrev, Gates, TanhCell, DOut, Dh, DhOther);
        else ForwardRows(first, rows, new StepState(Time, HPrev, CPrev, HNext, CNext, Gates, TanhCell, Output));
    }

    /// <summary>Where one step's rows live (forward): the previous and next state, gates, tanh(c) and output.</summary>
    private readonly struct StepState(int time, float* hPrev, float* cPrev, float* hNext, float* cNext, float* gates, float* tanhCell, float* output)
    {
        public readonly int Time = time;
        public readonly float* HPrev = hPrev, CPrev = cPrev, HNext = hNext, CNext = cNext, Gates = gates, TanhCell = tanhCell, Output = output;
    }

    private void ForwardPass(int first, int rows)
    {
        int H = _hidden, fourH = 4 * H, B = _batch, I = _inputSize;
        long stepStride = (long)B * H;
        var inputPacked = new ReadOnlySpan<float>(_inputPacked, _inputPackedLength);
        var bias = new ReadOnlySpan<float>(_bias, fourH);
        for (int k = 0; k < _steps; k++)
        {
            var (t, prevSlot, nextSlot) = ForwardSlots(k, _steps, _reverse, _forwardOnly);
            float* gates = _gatesAll + (_forwardOnly ? 0 : (long)t * B * fourH);
            var step = new StepState(t, _hiddenAll + prevSlot * stepStride, _cells + prevSlot * stepStride, _hiddenAll + nextSlot * stepStride,
                _cells + nextSlot * stepStride, gates, _tanhAll + (_forwardOnly ? 0 : (long)t * B * H), _outputAll + (long)t * B * _outputStride);
            // This step's input projection for these rows: the bias, then + x·W_ihᵀ (the same chain per element as a
            // projection of many steps at once).
            int active = ActiveRows(first, rows, t);
            if (active == rows)
            {
                Gemm.MultiplyPacked(rows, fourH, I, new ReadOnlySpan<float>(_input + ((long)t * B + first) * I, rows * I), I, inputPacked,
                    new Span<float>(gates + (long)first * fourH, rows * fourH), fourH, accumulate: false, rowInit: bias);
                ForwardRows(first, rows, step);
                continue;
            }
            // Some rows have ended: the products over the others, gathered (x, h'), then their gates scattered back. An
            // ended row's gates are left as they were: GateMath carries its state, and backward clears them.
            float* x = _scratchP + (long)first * _scratchStride, hPrev = x + (long)active * I, g = hPrev + (long)active * H;
            for (int b = first, j = 0; b < first + rows; b++)
            {
                if (t >= _lengths[b]) continue;
                new ReadOnlySpan<float>(_input + ((long)t * B + b) * I, I).CopyTo(new Span<float>(x + (long)j * I, I));
                Row(step.HPrev, b, H).CopyTo(new Span<float>(hPrev + (long)j * H, H));
                j++;
            }
            if (active > 0)
            {
                var gathered = new Span<float>(g, active * fourH);
                Gemm.MultiplyPacked(active, fourH, I, new ReadOnlySpan<float>(x, active * I), I, inputPacked, gathered, fourH, accumulate: false, rowInit: bias);
                Gemm.MultiplyPacked(active, fourH, H, new ReadOnlySpan<float>(hPrev, active * H), H, new ReadOnlySpan<float>(_packed, _packedLength),
                    gathered, fourH, accumulate: true);
                for (int b = first, j = 0; b < first + rows; b++)
                    if (t < _lengths[b]) gathered.Slice(j++ * fourH, fourH).CopyTo(Row(step.Gates, b, fourH));
            }
            for (int b = first; b < first + rows; b++) GateMath(step, b, 0, H);
        }
    }

    private void BackwardPass(int first, int rows)
    {
        int H = _hidden, B = _batch;
        long stepStride = (long)B * H;
        float* dhNow = _dhA, dhPrev = _dhB;
        for (int s = _steps - 1; s >= 0; s--)
        {
            var (t, prevSlot) = BackwardSlots(s, _steps, _reverse);
            BackwardRows(first, rows, t, _cells + prevSlot * stepStride, _gatesAll + (long)t * B * 4 * H, _tanhAll + (long)t * B * H,
                _dOutAll + (long)t * B * _outputStride, dhNow, dhPrev);
            float* swap = dhNow; dhNow = dhPrev; dhPrev = swap;
        }
    }

    private static Span<float> Row(float* start, int row, int width) => new(start + (long)row * width, width);

    private void ForwardRows(int first, int rows, in StepState step)
    {
        int H = _hidden, fourH = 4 * H;
        var packed = new ReadOnlySpan<float>(_packed, _packedLength);
        Gemm.MultiplyPacked(rows, fourH, H, new ReadOnlySpan<float>(step.HPrev + (long)first * H, rows * H), H, packed,
            new Span<float>(step.Gates + (long)first * fourH, rows * fourH), fourH, accumulate: true);
        for (int b = first; b < first + rows; b++) GateMath(step, b, 0, H);
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
        var step = new StepState(Time, HPrev, CPrev, HNext, CNext, Gates, TanhCell, Output);
        for (int b = 0; b < _batch; b++) GateMath(step, b, first, units);
    }

    /// <summary>Gate nonlinearities, new cell and hidden state for units [first, first + units) of row b.</summary>
    private void GateMath(in StepState step, int b, int first, int units)
    {
        int H = _hidden;
        Span<float> hOut = new Span<float>(step.Output + (long)b * _outputStride, H).Slice(first, units);
        if (step.Time >= _lengths[b])
        {
            Row(step.HPrev, b, H).Slice(first, units).CopyTo(Row(step.HNext, b, H).Slice(first, units));
            Row(step.CPrev, b, H).Slice(first, units).CopyTo(Row(step.CNext, b, H).Slice(first, units));
            hOut.Clear();
            return;
        }
        Span<float> g = Row(step.Gates, b, 4 * H);
        Span<float> h = Row(step.HNext, b, H).Slice(first, units);
        LstmCell.Forward(g.Slice(first, units), g.Slice(H + first, units), g.Slice(2 * H + first, units), g.Slice(3 * H + first, units),
            Row(step.CPrev, b, H).Slice(first, units), Row(step.CNext, b, H).Slice(first, units), Row(step.TanhCell, b, H).Slice(first, units), h, hOut);
    }

    private void BackwardRows(int first, int rows, int time, float* cPrev, float* gates, float* tanhCell, float* dOut, float* dh, float* dhOther)
    {
        int H = _hidden, fourH = 4 * H;
        for (int b = first; b < first + rows; b++)
        {
            if (time >= _lengths[b]) { Row(gates, b, fourH).Clear(); continue; }
            LstmCell.Backward(Row(gates, b, fourH), Row(cPrev, b, H), Row(tanhCell, b, H),
                new ReadOnlySpan<float>(dOut + (long)b * _outputStride, H), Row(dh, b, H), Row(Dc, b, H));
        }
        // dh' = dâ·W_hh for the valid rows; a padded row passes its gradient through unchanged.
        int active = ActiveRows(first, rows, time);
        if (active == rows)
        {
            Gemm.MultiplyPacked(rows, H, fourH, new ReadOnlySpan<float>(gates + (long)first * fourH, rows * fourH), fourH,
                new ReadOnlySpan<float>(_packed, _packedLength), new Span<float>(dhOther + (long)first * H, rows * H), H, accumulate: false);
            Subnormal.Flush(new Span<float>(dhOther + (long)first * H, rows * H));
            return;
        }
        // Some rows have ended (ActiveRows): the product over the others, gathered, scattered back.
        float* g = _scratchP + (long)first * _scratchStride, product = g + (long)active * fourH;
        for (int b = first, j = 0; b < first + rows; b++)
            if (time < _lengths[b]) Row(gates, b, fourH).CopyTo(new Span<float>(g + (long)j++ * fourH, fourH));
        if (active > 0)
        {
            var gathered = new Span<float>(product, active * H);
            Gemm.MultiplyPacked(active, H, fourH, new ReadOnlySpan<float>(g, active * fourH), fourH, new ReadOnlySpan<float>(_packed, _packedLength),
                gathered, H, accumulate: false);
            Subnormal.Flush(gathered);
        }
        for (int b = first, j = 0; b < first + rows; b++)
            if (time < _lengths[b]) new ReadOnlySpan<float>(product + (long)j++ * H, H).CopyTo(Row(dhOther, b, H));
            else Row(dh, b, H).CopyTo(Row(dhOther, b, H));
    }
}
