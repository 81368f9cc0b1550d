using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

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
        _backward = backward; _batch = batch; _hidden = hidden; _lengths = lengths; _packed = packed;
        _packedLength = packedLength; _outputStride = outputStride;
        int threads = (long)batch * 4 * hidden * hidden < MinParallelStepMacs ? 1 : pool?.Threads ?? 1;
        int tiles = (batch + Gemm.RowsPerTile - 1) / Gemm.RowsPerTile;
        _rowsPerItem = (tiles + threads - 1) / threads * Gemm.RowsPerTile;
        _items = (batch + _rowsPerItem - 1) / _rowsPerItem;
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
        Span<float> h = Row(HNext, b, H).Slice(first, units);
        LstmCell.Forward(g.Slice(first, units), g.Slice(H + first, units), g.Slice(2 * H + first, units), g.Slice(3 * H + first, units),
            Row(CPrev, b, H).Slice(first, units), Row(CNext, b, H).Slice(first, units), Row(TanhCell, b, H).Slice(first, units), h, hOut);
    }

    private void BackwardRows(int first, int rows)
    {
        int H = _hidden, fourH = 4 * H;
        for (int b = first; b < first + rows; b++)
        {
            if (Time >= _lengths[b]) { Row(Gates, b, fourH).Clear(); continue; }
            LstmCell.Backward(Row(Gates, b, fourH), Row(CPrev, b, H), Row(TanhCell, b, H),
                new ReadOnlySpan<float>(DOut + (long)b * _outputStride, H), Row(Dh, b, H), Row(Dc, b, H));
        }
        // dh' = dâ·W_hh for the valid rows; a padded row passes its gradient through unchanged.
        Gemm.MultiplyPacked(rows, H, fourH, new ReadOnlySpan<float>(Gates + (long)first * fourH, rows * fourH), fourH,
            new ReadOnlySpan<float>(_packed, _packedLength), new Span<float>(DhOther + (long)first * H, rows * H), H, accumulate: false);
        Subnormal.Flush(new Span<float>(DhOther + (long)first * H, rows * H));
        for (int b = first; b < first + rows; b++)
            if (Time >= _lengths[b]) Row(Dh, b, H).CopyTo(Row(DhOther, b, H));
    }
}
