using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Tensors;

/// <summary>
/// Row-major single-precision matrix multiply: <c>C[M,N] = op(A)[M,K] · op(B)[K,N]</c>, or <c>+=</c> when
/// <c>accumulate</c> is set (how backward passes add into gradients).
/// op(X) is X or Xᵀ; <c>lda</c>, <c>ldb</c>, <c>ldc</c> are the row strides of the matrices as stored.
///
/// The main path (op(B) = B, so a row of op(B) is contiguous) is a register-blocked micro-kernel: 6 rows of C (8 with AVX-512) by
/// two vectors of columns, the widest of Vector512/256/128 the machine has, accumulated with fused multiply-adds
/// in order p = 0…K-1, starting from C itself when accumulating. K is split in blocks of
/// <see cref="KBlock"/> so a panel of B stays in cache while a band of rows sweeps over it (Aᵀ and B's panels are
/// copied to contiguous blocks per K block, or B comes pre-packed from <see cref="PackB"/>); the partial sum
/// goes through C and comes back unchanged, so every element sees the same sequence of roundings whatever the
/// blocking, vector width or thread that computes it. Hence results are bit-identical to
/// <see cref="MultiplyReference"/> for op(B) = B, and for any thread count.
/// op(B) = Bᵀ with op(A) = A is a dot product per element (FixedOrder.Dot); Aᵀ·Bᵀ, which no layer uses,
/// runs the scalar reference.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// Rows of C per micro-kernel tile: 8 with AVX-512 (an 8×2-vector block, 16 of its 32 registers accumulating), else 6
    /// (6×2, 12 of 16). Which rows share a tile never changes an element's arithmetic (each is one FMA chain over K in
    /// order), so the bits are the same either way; 8 fits the LSTM's batches of 32 and 64 without a part-empty tile
    /// and splits them evenly over two threads.
    /// </summary>
    internal static readonly int RowsPerTile = Vector512.IsHardwareAccelerated ? 8 : 6;
    internal const int KBlock = 256;
    private const int TilesPerBand = 16;

    /// <summary>Rows per band when Aᵀ is packed: up to 576 (96 tiles of 6 or 72 of 8; about 0.6 MB of packed Aᵀ per thread), as
    /// many as the threads leave each. Aᵀ's stored rows are then read whole (or in halves, on two threads) instead of
    /// 384 bytes of every 2 KB row: with 16 tiles a band the reads crossed a page every other row, where prefetching
    /// stops, and packing took 15 % of a FRAMES training step.</summary>
    private static readonly int MaxTransposedTilesPerBand = 576 / RowsPerTile;
    private const int PanelsPerBlock = 8;
    private const long ParallelThresholdFlops = 1 << 17;

    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, WorkerPool? pool = null)
    {
        Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (IsEmpty(m, n, k, c, ldc, accumulate)) return;
        if (transposeB && transposeA)
        {
            MultiplyReference(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        if (transposeB)
        {
            MultiplyDot(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
                Run(new PanelJob(pa, transposeA ? 1 : lda, transposeA ? lda : 1, pb, ldb, packedB: false, pc, ldc, m, n, k, accumulate, pool?.Threads ?? 1), pool);
        }
    }

    /// <summary>Length of <see cref="PackB"/>'s output for a K×N matrix.</summary>
    public static int PackedLength(int k, int n) => k * PanelCount(n) * PanelWidth;

    /// <summary>
    /// Copies B [K, N] (row stride ldb) panel by panel: panel P, row p, column j at
    /// <c>[(P·K + p)·PanelWidth + j]</c>, the last panel zero-padded. A B that many products share (an LSTM's
    /// recurrent weights, used at every step) is packed once and given to <see cref="MultiplyPacked"/>.
    /// </summary>
    public static void PackB(int k, int n, ReadOnlySpan<float> b, int ldb, Span<float> packed)
    {
        CheckMatrix("B", k, n, b.Length, ldb);
        Check.Length(packed, PackedLength(k, n), "packed B");
        int width = PanelWidth;
        unsafe
        {
            fixed (float* source = b, target = packed)
                for (int panel = 0, j0 = 0; j0 < n; panel++, j0 += width)
                    CopyPanel(source + j0, ldb, Math.Min(width, n - j0), k, target + (long)panel * k * width, width);
        }
    }

    /// <summary>
    /// Rows [0, rows) of a panel of B (the <paramref name="columns"/> at <paramref name="b"/>, row stride
    /// <paramref name="ldb"/>) into a contiguous block <paramref name="width"/> wide, zero-padded past the columns.
    /// </summary>
    private static unsafe void CopyPanel(float* b, int ldb, int columns, int rows, float* destination, int width)
    {
        for (int q = 0; q < rows; q++, destination += width)
        {
            new ReadOnlySpan<float>(b + (long)q * ldb, columns).CopyTo(new Span<float>(destination, columns));
            if (columns < width) new Span<float>(destination + columns, width - columns).Clear();
        }
    }

    /// <summary>
    /// <see cref="PackB"/> of B = Btᵀ, reading Bt [N, K] (row stride ldbt) directly: a layer's weight [out, in]
    /// packs as the B of x·Wᵀ without a transposed copy. One panel (16 rows of Bt) at a time, so both sides stay in L1.
    /// </summary>
    public static void PackBTransposed(int k, int n, ReadOnlySpan<float> bt, int ldbt, Span<float> packed)
    {
        CheckMatrix("Bt", n, k, bt.Length, ldbt);
        Check.Length(packed, PackedLength(k, n), "packed B");
        int width = PanelWidth;
        unsafe
        {
            fixed (float* source = bt, target = packed)
                for (int panel = 0, j0 = 0; j0 < n; panel++, j0 += width)
                {
                    int columns = Math.Min(width, n - j0);
                    float* destination = target + (long)panel * k * width;
                    if (columns < width) new Span<float>(destination, k * width).Clear();
                    // Row by row of the destination, reading the panel's rows of Bt side by side (all in L1).
                    for (int p = 0; p < k; p++)
                    {
                        float* column = source + (long)j0 * ldbt + p;
                        for (int j = 0; j < columns; j++) destination[(long)p * width + j] = column[(long)j * ldbt];
                    }
                }
        }
    }

    /// <summary>
    /// <c>C = A · B</c> (or <c>+=</c>) with B given as <see cref="PackB"/> wrote it; bit-identical to <see cref="Multiply"/>.
    /// With <paramref name="rowInit"/> [N] (not accumulating): <c>C = rowInit + A · B</c> for every row, bit-identical to
    /// copying rowInit into each row and accumulating — each work item writes it into its own tile of C just before the
    /// kernel reads it back (an LSTM's bias, at no serial pass over the gates).
    /// </summary>
    public static void MultiplyPacked(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> packedB,
        Span<float> c, int ldc, bool accumulate, WorkerPool? pool = null, ReadOnlySpan<float> rowInit = default)
    {
        if (m < 0 || n < 0 || k < 0) throw new ShapeException($"GEMM sizes must be non-negative, got M={m}, N={n}, K={k}.");
        CheckMatrix("A", m, k, a.Length, lda);
        CheckMatrix("C", m, n, c.Length, ldc);
        Check.Length(packedB, PackedLength(k, n), "packed B");
        if (!rowInit.IsEmpty)
        {
            if (accumulate) throw new ShapeException("GEMM: a row initialisation replaces accumulating into C; give one or the other.");
            Check.Length(rowInit, n, "GEMM row initialisation [N]");
            if (k == 0) { for (int i = 0; i < m; i++) rowInit.CopyTo(c.Slice(i * ldc, n)); return; }
        }
        if (IsEmpty(m, n, k, c, ldc, accumulate)) return;
        unsafe
        {
            fixed (float* pa = a, pb = packedB, pc = c, pInit = rowInit)
                Run(new PanelJob(pa, lda, 1, pb, PanelWidth, packedB: true, pc, ldc, m, n, k, accumulate) { RowInit = rowInit.IsEmpty ? null : pInit }, pool);
        }
    }

    /// <summary>A product with nothing to sum: C is left as is (M or N is 0, or accumulating) or cleared (K = 0).</summary>
    private static bool IsEmpty(int m, int n, int k, Span<float> c, int ldc, bool accumulate)
    {
        if (m == 0 || n == 0) return true;
        if (k != 0) return false;
        if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
        return true;
    }

    private static void Run(in PanelJob job, WorkerPool? pool)
    {
        long flops = 2L * job.M * job.N * job.K;
        if (pool is null || pool.Threads == 1 || flops < ParallelThresholdFlops || job.WorkItems == 1)
        {
            for (int w = 0; w < job.WorkItems; w++) job.Execute(w);
        }
        else
        {
            pool.RunGemm(job);
        }
    }

    /// <summary>Columns per panel of B: two of the widest vectors.</summary>
    internal static int PanelWidth => 2 * VectorWidth;
    private static int PanelCount(int n) => (n + PanelWidth - 1) / PanelWidth;

    /// <summary>The definition, one element at a time, kept as the reference the fast paths are tested against.</summary>
    public static void MultiplyReference(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = accumulate ? c[i * ldc + j] : 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum = MathF.FusedMultiplyAdd(av, bv, sum);
                }
                c[i * ldc + j] = sum;
            }
    }

    private static void Validate(bool transposeA, bool transposeB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ShapeException($"GEMM sizes must be non-negative, got M={m}, N={n}, K={k}.");
        (int aRows, int aCols) = transposeA ? (k, m) : (m, k);
        (int bRows, int bCols) = transposeB ? (n, k) : (k, n);
        CheckMatrix("A", aRows, aCols, aLength, lda);
        CheckMatrix("B", bRows, bCols, bLength, ldb);
        CheckMatrix("C", m, n, cLength, ldc);
    }

    private static void CheckMatrix(string name, int rows, int cols, int length, int stride)
    {
        if (stride < cols) throw new ShapeException($"GEMM: row stride of {name} is {stride}, smaller than its {cols} columns.");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * stride + cols;
        if (length < needed) throw new ShapeException($"GEMM: {name} is {rows}×{cols} with row stride {stride} and needs {needed} elements, but has {length}.");
    }

    private static void MultiplyDot(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var aRow = a.Slice(i * lda, k);
            var cRow = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
            {
                float dot = FixedOrder.Dot(aRow, b.Slice(j * ldb, k));
                cRow[j] = accumulate ? cRow[j] + dot : dot;
            }
        }
    }

    /// <summary>The pool keeps one of these so a parallel GEMM allocates nothing.</summary>
    internal sealed class PanelJobBox : IParallelWork
    {
        public PanelJob Job;
        public void Execute(int index) => Job.Execute(index);
    }

    /// <summary>
    /// Floats from one tile's packed Aᵀ to the next: KBlock·RowsPerTile (6 or 8 KB) and one cache line more, so that the
    /// band's 16 tiles, written side by side as Aᵀ is read row by row, fall into 16 different L1 sets (6 KB apart they
    /// shared two, and evicted each other).
    /// </summary>
    private static readonly int PackedTileStride = KBlock * RowsPerTile + 16;

    /// <summary>
    /// Packed copy of a band of Aᵀ, one per thread (see <see cref="EnsureThreadBuffers"/>).
    /// Layout: tile t, step q, row r at <c>[t·PackedTileStride + q·RowsPerTile + r]</c>, so the micro-kernel reads A as one
    /// contiguous stream whatever A's stride (rows past M are zeros and are never stored).
    /// </summary>
    [ThreadStatic] private static float[]? t_packedA;

    /// <summary>
    /// Allocates this thread's packing buffers if it has none yet. Every GEMM calls it, the packed-Aᵀ buffer (about 0.6 MB)
    /// included when it packs Aᵀ (backward's weight gradients: a thread that only predicts never has one), and pool
    /// workers call it with both when they start, so which thread happens to claim which work item never decides when
    /// the allocation happens: a warmed-up training step allocates nothing.
    /// </summary>
    internal static void EnsureThreadBuffers(bool transposedA = true)
    {
        if (transposedA) t_packedA ??= new float[MaxTransposedTilesPerBand * PackedTileStride];
        t_packedB ??= new float[KBlock * MaxPanelWidth];
    }

    /// <summary>One K block of one panel of B, contiguous (per thread).</summary>
    [ThreadStatic] private static float[]? t_packedB;

    private const int MaxPanelWidth = 32;

    /// <summary>
    /// One GEMM call split into work items: each item is one band of row tiles by one block of column panels (a
    /// panel is two vectors wide). A(i, p) is read as <c>a[i·strideI + p·strideP]</c>, which covers A and Aᵀ alike;
    /// Aᵀ (strideP ≠ 1) is packed per K block first, because reading it in place walks one cache line and one page
    /// per step and row tile.
    /// </summary>
    internal readonly unsafe struct PanelJob
    {
        private readonly float* _a, _b, _c;
        private readonly int _strideI, _strideP, _ldb, _ldc, _m, _n, _k, _panelWidth, _rowTiles, _tilesPerBand, _bands, _panelsPerBlock, _columnBlocks;
        private readonly long _bPanelStride;
        private readonly bool _accumulate, _packedB;

        public int M => _m;
        public int N => _n;
        public int K => _k;

        /// <summary>When set, [N] values every row of C starts from (see <see cref="MultiplyPacked"/>).</summary>
        public float* RowInit { get; init; }

        /// <param name="packedB">B is in <see cref="PackB"/>'s layout (then <paramref name="ldb"/> is the panel width).</param>
        public PanelJob(float* a, int strideI, int strideP, float* b, int ldb, bool packedB, float* c, int ldc, int m, int n, int k, bool accumulate, int threads = 1)
        {
            _a = a; _b = b; _c = c; _strideI = strideI; _strideP = strideP; _ldb = ldb; _ldc = ldc;
            _m = m; _n = n; _k = k; _accumulate = accumulate; _packedB = packedB;
            _panelWidth = PanelWidth;
            _bPanelStride = packedB ? (long)k * _panelWidth : _panelWidth;
            _rowTiles = (m + RowsPerTile - 1) / RowsPerTile;
            _tilesPerBand = strideP != 1 ? Math.Min(MaxTransposedTilesPerBand, (_rowTiles + threads - 1) / threads) : TilesPerBand;
            _bands = (_rowTiles + _tilesPerBand - 1) / _tilesPerBand;
            int panels = (n + _panelWidth - 1) / _panelWidth;
            // A packed Aᵀ band is reused across every panel; otherwise columns are split in blocks for more work items.
            _panelsPerBlock = strideP != 1 ? panels : PanelsPerBlock;
            _columnBlocks = (panels + _panelsPerBlock - 1) / _panelsPerBlock;
            WorkItems = _columnBlocks * _bands;
        }

        public int WorkItems { get; }

        public void Execute(int item)
        {
            int band = item / _columnBlocks, block = item % _columnBlocks;
            int jStart = block * _panelsPerBlock * _panelWidth, jEnd = Math.Min(_n, jStart + _panelsPerBlock * _panelWidth);
            int tileStart = band * _tilesPerBand, tileEnd = Math.Min(_rowTiles, tileStart + _tilesPerBand);
            bool packA = _strideP != 1;
            EnsureThreadBuffers(transposedA: packA);
            float[]? aBuffer = packA ? t_packedA : null;
            float[] bBuffer = t_packedB!;
            float* edgeC = stackalloc float[RowsPerTile * MaxPanelWidth];
            fixed (float* packedA = aBuffer, packedB = bBuffer)
            {
                for (int p0 = 0; p0 < _k; p0 += KBlock)
                {
                    int p1 = Math.Min(_k, p0 + KBlock);
                    bool initialise = RowInit != null && p0 == 0;
                    bool fromC = _accumulate || p0 > 0 || initialise;
                    if (packA) PackA(packedA, tileStart, tileEnd, p0, p1);
                    int j0 = jStart;
                    if (_m == 1)
                    {
                        // One row (batch-1 inference): four panels at a time, so 8 FMA chains run instead of 2 and no
                        // work goes to the other rows a tile would compute for nothing.
                        var row = packA ? new TileA(packedA, 1, 0, RowsPerTile) : new TileA(_a + p0, 1, 0, 1);
                        for (; j0 + 4 * _panelWidth <= jEnd; j0 += 4 * _panelWidth)
                        {
                            float* b = _b + j0 / _panelWidth * _bPanelStride + (long)p0 * _ldb;
                            if (initialise) InitialiseRows(_c + j0, _ldc, 1, RowInit + j0, 4 * _panelWidth);
                            RowPanels(row.Row(0), row.Step, b, _bPanelStride, _ldb, _c + j0, p1 - p0, fromC);
                        }
                    }
                    for (; j0 < jEnd; j0 += _panelWidth)
                    {
                        int columns = Math.Min(_panelWidth, _n - j0);
                        // B's panel is copied to a contiguous, zero-padded block when more than one tile reads it (a
                        // row stride of a power of two maps B's rows onto one L1 set) or when it is narrower than a panel.
                        bool packB = !_packedB && (tileEnd - tileStart > 1 || columns < _panelWidth);
                        float* b = _b + j0 / _panelWidth * _bPanelStride + (long)p0 * _ldb;
                        int ldb = _ldb;
                        if (packB) { CopyPanel(b, _ldb, columns, p1 - p0, packedB, _panelWidth); b = packedB; ldb = _panelWidth; }
                        for (int tile = tileStart; tile < tileEnd; tile++)
                        {
                            int i0 = tile * RowsPerTile;
                            int rows = Math.Min(RowsPerTile, _m - i0);
                            // Row r of the tile is read at Row(r)[q·Step] for q in [0, p1 − p0); rows past M read a valid row.
                            var tileA = packA
                                ? new TileA(packedA + (long)(tile - tileStart) * PackedTileStride, 1, RowsPerTile - 1, RowsPerTile)
                                : new TileA(_a + (long)i0 * _strideI + p0, _strideI, rows - 1, 1);
                            float* c = _c + (long)i0 * _ldc + j0;
                            if (initialise) InitialiseRows(c, _ldc, rows, RowInit + j0, columns);
                            if (columns == _panelWidth) Tile(tileA, b, ldb, c, _ldc, rows, p1 - p0, fromC);
                            else EdgeTile(tileA, b, edgeC, c, rows, columns, p1 - p0, fromC);
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Aᵀ's band [tileStart, tileEnd) × [p0, p1) into the packed layout. A is Aᵀ here (strideI = 1): row p of the
        /// stored matrix holds the band's rows side by side, so p is the outer loop and each step reads one contiguous
        /// run of the band. (Tile by tile instead, every p was a new cache line lda·4 bytes from the last: with lda a
        /// power of two those lines fell into two sets of L1 and missed nearly every time; 15 % of a FRAMES training step.)
        /// </summary>
        private void PackA(float* packed, int tileStart, int tileEnd, int p0, int p1)
        {
            int lastRows = Math.Min(RowsPerTile, _m - (tileEnd - 1) * RowsPerTile);
            PackTransposedBand(_a + (long)p0 * _strideP + (long)tileStart * RowsPerTile, _strideP, packed, tileEnd - tileStart, lastRows, p1 - p0);
        }

        /// <summary>Rows [0, rows) of C (stride ldc) at <paramref name="c"/> ← the <paramref name="columns"/> values at <paramref name="init"/>.</summary>
        private static void InitialiseRows(float* c, int ldc, int rows, float* init, int columns)
        {
            // A panel is 8 to 32 floats: copied in registers, not by a Memmove call per row (4 % of a SEED forward, perf).
            for (int r = 0; r < rows; r++)
            {
                float* row = c + (long)r * ldc;
                int j = 0;
                if (Vector256.IsHardwareAccelerated)
                    for (; j + Vector256<float>.Count <= columns; j += Vector256<float>.Count) Vector256.Store(Vector256.Load(init + j), row + j);
                for (; j < columns; j++) row[j] = init[j];
            }
        }

        /// <summary>The full-width kernel on the padded panel, through a tile buffer so only real columns of C are touched.</summary>
        private void EdgeTile(in TileA a, float* packedB, float* edgeC, float* c, int rows, int columns, int length, bool fromC)
        {
            if (fromC)
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < columns; j++) edgeC[r * _panelWidth + j] = c[(long)r * _ldc + j];
            Tile(a, packedB, _panelWidth, edgeC, _panelWidth, rows, length, fromC);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < columns; j++) c[(long)r * _ldc + j] = edgeC[r * _panelWidth + j];
        }

        private static void RowPanels(float* a, long step, float* b, long panelStride, int ldb, float* c, int length, bool fromC)
        {
            if (Vector512.IsHardwareAccelerated) RowKernel512(a, step, b, panelStride, ldb, c, length, fromC);
            else if (Vector256.IsHardwareAccelerated) RowKernel256(a, step, b, panelStride, ldb, c, length, fromC);
            else if (Vector128.IsHardwareAccelerated) RowKernel128(a, step, b, panelStride, ldb, c, length, fromC);
            else
                for (int panel = 0; panel < 4; panel++)
                {
                    var tile = new TileA(a, 1, 0, step);
                    TileScalar(tile, b + panel * panelStride, ldb, c + panel * PanelWidth, 0, 1, PanelWidth, length, fromC);
                }
        }

        private void Tile(in TileA a, float* b, int ldb, float* c, int ldc, int rows, int length, bool fromC)
        {
            if (Vector512.IsHardwareAccelerated) Kernel512(a, b, ldb, c, ldc, rows, length, fromC);
            else if (Vector256.IsHardwareAccelerated) Kernel256(a, b, ldb, c, ldc, rows, length, fromC);
            else if (Vector128.IsHardwareAccelerated) Kernel128(a, b, ldb, c, ldc, rows, length, fromC);
            else TileScalar(a, b, ldb, c, ldc, rows, _panelWidth, length, fromC);
        }

        private static void TileScalar(in TileA a, float* b, int ldb, float* c, int ldc, int rows, int columns, int length, bool fromC)
        {
            for (int r = 0; r < rows; r++)
            {
                float* aRow = a.Row(r);
                float* cRow = c + (long)r * ldc;
                for (int j = 0; j < columns; j++)
                {
                    float sum = fromC ? cRow[j] : 0f;
                    for (int q = 0; q < length; q++) sum = MathF.FusedMultiplyAdd(aRow[q * a.Step], b[(long)q * ldb + j], sum);
                    cRow[j] = sum;
                }
            }
        }
    }

    /// <summary>
    /// Packs <paramref name="tiles"/> row tiles of Aᵀ (stored as A: row p of the stored matrix holds the band's rows side
    /// by side, <paramref name="lda"/> apart) for <paramref name="steps"/> steps, into tile t, step q at
    /// <c>packed[t·PackedTileStride + q·RowsPerTile]</c>; the last tile's rows past <paramref name="lastRows"/> are zeros.
    /// Step by step, so each reads one contiguous run of the band (tile by tile, every step was a new cache line), and
    /// with locals only: as a member of the job, the JIT reloaded its fields after every store through a pointer.
    /// </summary>
    private static unsafe void PackTransposedBand(float* source, long lda, float* packed, int tiles, int lastRows, int steps)
    {
        int rowsPerTile = RowsPerTile, tileStride = PackedTileStride;
        int fullTiles = lastRows == rowsPerTile ? tiles : tiles - 1;
        for (int q = 0; q < steps; q++, source += lda)
        {
            float* from = source, to = packed + (long)q * rowsPerTile;
            if (rowsPerTile == 8)
                for (int t = 0; t < fullTiles; t++, from += 8, to += tileStride)
                    Unsafe.WriteUnaligned(to, Unsafe.ReadUnaligned<Vector256<float>>(from));
            else
                for (int t = 0; t < fullTiles; t++, from += 6, to += tileStride)
                {
                    // Six floats: four and two.
                    Unsafe.WriteUnaligned(to, Unsafe.ReadUnaligned<Vector128<float>>(from));
                    Unsafe.WriteUnaligned(to + 4, Unsafe.ReadUnaligned<long>(from + 4));
                }
            if (fullTiles < tiles)
            {
                int r = 0;
                for (; r < lastRows; r++) to[r] = from[r];
                for (; r < rowsPerTile; r++) to[r] = 0f;
            }
        }
    }

    /// <summary>Where a row tile's A lives: row r's element q at <c>Row(r)[q·Step]</c>.</summary>
    internal readonly unsafe struct TileA(float* first, long rowStep, long lastRow, long step)
    {
        public readonly long Step = step;
        public float* Row(int r) => first + Math.Min(r, lastRow) * rowStep;
    }

    internal static int VectorWidth =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count :
        Vector256.IsHardwareAccelerated ? Vector256<float>.Count :
        Vector128.IsHardwareAccelerated ? Vector128<float>.Count : 8;

    // The kernels are one register block at three widths, 6×2 vectors at 128 and 256 bits (12 accumulators: enough
    // independent FMA chains to cover two FMA pipes' latency, few enough for 16 vector registers) and 8×2 at 512 (AVX-512
    // has 32 registers):
    // for q in [0, length): c[r][v] = fma(A(r, q), B[q, v-th vector], c[r][v]). Each is its own method, not inlined
    // into the caller's large loop nest, and its loop steps pointers rather than multiplying q by the strides: the
    // loop body is then 2 loads, 6 (8) broadcasts, 12 (16) FMAs and 4 instructions of loop control (inlined, the JIT reloaded
    // three spilled values from the stack and did two multiplies per trip).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Kernel512(in TileA a, float* b, int ldb, float* c, int ldc, int rows, int length, bool fromC)
    {
        // 8×2 vectors (RowsPerTile is 8 wherever Vector512 is accelerated): 16 accumulators, 2 loads of B and 8
        // broadcasts per 16 FMAs.
        const int W = 16;
        float* a0 = a.Row(0), a1 = a.Row(1), a2 = a.Row(2), a3 = a.Row(3), a4 = a.Row(4), a5 = a.Row(5), a6 = a.Row(6), a7 = a.Row(7);
        long step = a.Step;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<float>.Zero;
        if (fromC)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + W);
            if (rows > 1) { c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + W); }
            if (rows > 2) { c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + W); }
            if (rows > 3) { c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + W); }
            if (rows > 4) { c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + W); }
            if (rows > 5) { c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + W); }
            if (rows > 6) { c60 = Vector512.Load(c + 6 * ldc); c61 = Vector512.Load(c + 6 * ldc + W); }
            if (rows > 7) { c70 = Vector512.Load(c + 7 * ldc); c71 = Vector512.Load(c + 7 * ldc + W); }
        }
        float* bRow = b;
        float* bEnd = b + (long)length * ldb;
        long o = 0;
        for (; bRow < bEnd; bRow += ldb, o += step)
        {
            var b0 = Vector512.Load(bRow);
            var b1 = Vector512.Load(bRow + W);
            var x = Vector512.Create(a0[o]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[o]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[o]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[o]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[o]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[o]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[o]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[o]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        c00.Store(c); c01.Store(c + W);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + W); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + W); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + W); }
        if (rows > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + W); }
        if (rows > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + W); }
        if (rows > 6) { c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + W); }
        if (rows > 7) { c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + W); }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Kernel256(in TileA a, float* b, int ldb, float* c, int ldc, int rows, int length, bool fromC)
    {
        const int W = 8;
        float* a0 = a.Row(0), a1 = a.Row(1), a2 = a.Row(2), a3 = a.Row(3), a4 = a.Row(4), a5 = a.Row(5);
        long step = a.Step;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        if (fromC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + W);
            if (rows > 1) { c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + W); }
            if (rows > 2) { c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + W); }
            if (rows > 3) { c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + W); }
            if (rows > 4) { c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + W); }
            if (rows > 5) { c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + W); }
        }
        float* bRow = b;
        float* bEnd = b + (long)length * ldb;
        long o = 0;
        for (; bRow < bEnd; bRow += ldb, o += step)
        {
            var b0 = Vector256.Load(bRow);
            var b1 = Vector256.Load(bRow + W);
            var x = Vector256.Create(a0[o]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[o]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[o]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[o]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[o]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[o]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        c00.Store(c); c01.Store(c + W);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + W); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + W); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + W); }
        if (rows > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + W); }
        if (rows > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + W); }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Kernel128(in TileA a, float* b, int ldb, float* c, int ldc, int rows, int length, bool fromC)
    {
        const int W = 4;
        float* a0 = a.Row(0), a1 = a.Row(1), a2 = a.Row(2), a3 = a.Row(3), a4 = a.Row(4), a5 = a.Row(5);
        long step = a.Step;
        Vector128<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector128<float>.Zero;
        if (fromC)
        {
            c00 = Vector128.Load(c); c01 = Vector128.Load(c + W);
            if (rows > 1) { c10 = Vector128.Load(c + ldc); c11 = Vector128.Load(c + ldc + W); }
            if (rows > 2) { c20 = Vector128.Load(c + 2 * ldc); c21 = Vector128.Load(c + 2 * ldc + W); }
            if (rows > 3) { c30 = Vector128.Load(c + 3 * ldc); c31 = Vector128.Load(c + 3 * ldc + W); }
            if (rows > 4) { c40 = Vector128.Load(c + 4 * ldc); c41 = Vector128.Load(c + 4 * ldc + W); }
            if (rows > 5) { c50 = Vector128.Load(c + 5 * ldc); c51 = Vector128.Load(c + 5 * ldc + W); }
        }
        float* bRow = b;
        float* bEnd = b + (long)length * ldb;
        long o = 0;
        for (; bRow < bEnd; bRow += ldb, o += step)
        {
            var b0 = Vector128.Load(bRow);
            var b1 = Vector128.Load(bRow + W);
            var x = Vector128.Create(a0[o]); c00 = Vector128.FusedMultiplyAdd(x, b0, c00); c01 = Vector128.FusedMultiplyAdd(x, b1, c01);
            x = Vector128.Create(a1[o]); c10 = Vector128.FusedMultiplyAdd(x, b0, c10); c11 = Vector128.FusedMultiplyAdd(x, b1, c11);
            x = Vector128.Create(a2[o]); c20 = Vector128.FusedMultiplyAdd(x, b0, c20); c21 = Vector128.FusedMultiplyAdd(x, b1, c21);
            x = Vector128.Create(a3[o]); c30 = Vector128.FusedMultiplyAdd(x, b0, c30); c31 = Vector128.FusedMultiplyAdd(x, b1, c31);
            x = Vector128.Create(a4[o]); c40 = Vector128.FusedMultiplyAdd(x, b0, c40); c41 = Vector128.FusedMultiplyAdd(x, b1, c41);
            x = Vector128.Create(a5[o]); c50 = Vector128.FusedMultiplyAdd(x, b0, c50); c51 = Vector128.FusedMultiplyAdd(x, b1, c51);
        }
        c00.Store(c); c01.Store(c + W);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + W); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + W); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + W); }
        if (rows > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + W); }
        if (rows > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + W); }
    }

    // One row of C across four panels (batch-1 products): c[v] = fma(A(0, q), B[q, v-th vector], c[v]) in order q.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowKernel512(float* a, long step, float* b, long panelStride, int ldb, float* c, int length, bool fromC)
    {
        const int W = 16;
        float* b0 = b, b1 = b + panelStride, b2 = b + 2 * panelStride, b3 = b + 3 * panelStride;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        if (fromC)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + W); c10 = Vector512.Load(c + 2 * W); c11 = Vector512.Load(c + 3 * W);
            c20 = Vector512.Load(c + 4 * W); c21 = Vector512.Load(c + 5 * W); c30 = Vector512.Load(c + 6 * W); c31 = Vector512.Load(c + 7 * W);
        }
        for (int q = 0; q < length; q++)
        {
            long o = (long)q * ldb;
            var x = Vector512.Create(a[q * step]);
            c00 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b0 + o), c00); c01 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b0 + o + W), c01);
            c10 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + o), c10); c11 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + o + W), c11);
            c20 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + o), c20); c21 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + o + W), c21);
            c30 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + o), c30); c31 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + o + W), c31);
        }
        c00.Store(c); c01.Store(c + W); c10.Store(c + 2 * W); c11.Store(c + 3 * W);
        c20.Store(c + 4 * W); c21.Store(c + 5 * W); c30.Store(c + 6 * W); c31.Store(c + 7 * W);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowKernel256(float* a, long step, float* b, long panelStride, int ldb, float* c, int length, bool fromC)
    {
        const int W = 8;
        float* b0 = b, b1 = b + panelStride, b2 = b + 2 * panelStride, b3 = b + 3 * panelStride;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero;
        if (fromC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + W); c10 = Vector256.Load(c + 2 * W); c11 = Vector256.Load(c + 3 * W);
            c20 = Vector256.Load(c + 4 * W); c21 = Vector256.Load(c + 5 * W); c30 = Vector256.Load(c + 6 * W); c31 = Vector256.Load(c + 7 * W);
        }
        for (int q = 0; q < length; q++)
        {
            long o = (long)q * ldb;
            var x = Vector256.Create(a[q * step]);
            c00 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + o), c00); c01 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + o + W), c01);
            c10 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + o), c10); c11 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + o + W), c11);
            c20 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + o), c20); c21 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + o + W), c21);
            c30 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + o), c30); c31 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + o + W), c31);
        }
        c00.Store(c); c01.Store(c + W); c10.Store(c + 2 * W); c11.Store(c + 3 * W);
        c20.Store(c + 4 * W); c21.Store(c + 5 * W); c30.Store(c + 6 * W); c31.Store(c + 7 * W);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowKernel128(float* a, long step, float* b, long panelStride, int ldb, float* c, int length, bool fromC)
    {
        const int W = 4;
        float* b0 = b, b1 = b + panelStride, b2 = b + 2 * panelStride, b3 = b + 3 * panelStride;
        Vector128<float> c00, c01, c10, c11, c20, c21, c30, c31;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector128<float>.Zero;
        if (fromC)
        {
            c00 = Vector128.Load(c); c01 = Vector128.Load(c + W); c10 = Vector128.Load(c + 2 * W); c11 = Vector128.Load(c + 3 * W);
            c20 = Vector128.Load(c + 4 * W); c21 = Vector128.Load(c + 5 * W); c30 = Vector128.Load(c + 6 * W); c31 = Vector128.Load(c + 7 * W);
        }
        for (int q = 0; q < length; q++)
        {
            long o = (long)q * ldb;
            var x = Vector128.Create(a[q * step]);
            c00 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b0 + o), c00); c01 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b0 + o + W), c01);
            c10 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b1 + o), c10); c11 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b1 + o + W), c11);
            c20 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b2 + o), c20); c21 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b2 + o + W), c21);
            c30 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b3 + o), c30); c31 = Vector128.FusedMultiplyAdd(x, Vector128.Load(b3 + o + W), c31);
        }
        c00.Store(c); c01.Store(c + W); c10.Store(c + 2 * W); c11.Store(c + 3 * W);
        c20.Store(c + 4 * W); c21.Store(c + 5 * W); c30.Store(c + 6 * W); c31.Store(c + 7 * W);
    }
}
