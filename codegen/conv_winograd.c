/*
 * conv_winograd.c - 3x3 stride-1 conv2d by Winograd's minimal filtering
 * F(4x4, 3x3) (Lavin and Gray 2015): each 4x4 block of outputs ("tile") of
 * one output channel is
 *
 *   Y = A^T [ sum_ic (G g[oc,ic] G^T) .* (B^T d[ic] B) ] A
 *
 * where d is the tile's 6x6 input window (rows 4*th - P .. +5), g the 3x3
 * weight, and .* the elementwise product. 36 multiplications per tile and
 * input channel instead of 144: 4x fewer, at the price of three transforms
 * and a larger rounding error (docs/design.md has the measured error).
 *
 * U = G g G^T is the weight transform, computed once at load time (the
 * prepare step PREPARE_WINOGRAD_WEIGHTS) as [sub-block][36][Cin][j]; where
 * the map is a single unit of fewer than 64 tiles (per_run: each U value is
 * used once per sample, UNet's 16 x 16 layers) only the weights are kept,
 * reordered to [sub-block][Cin][9][j] (a quarter of U's size), and the
 * kernel computes U = G g G^T per run into its workspace, 64 input channels
 * at a time, while it prefetches the next 64 channels' weights. The
 * buffers' strides avoid multiples of 4 KiB (pad_stride). Per
 * run, one work item runs units in turn, each a block of tiles x a block of
 * output channels: input transform into V, 36 independent GEMMs
 * M[p] = V[p] U[p] with a register tile summed over the input channels in
 * registers, output transform Y = A^T M A with bias and activation. V and M
 * are the item's own slice of the node's workspace, so items never share
 * memory and the result does not depend on the thread count. Two ways to
 * put the work in vectors of 16 lanes (AVX-512 only):
 *
 * - nChw16c in and out (what the layout pass gives 3x3 convs): 16 channels
 *   per vector. A unit is ntp consecutive tiles of the map. The input
 *   transform loads the 6 x 6 pixel vectors of a tile and channel block
 *   (masked to 0 outside the input) into V[p][tile][Cin]; the GEMM's
 *   register tile is tr tiles x jb blocks of 16 output channels, one
 *   broadcast V value against jb U vectors per input channel; the output
 *   transform writes 4 x 4 pixel vectors of a block, with bias, activation,
 *   and the padding channels of the last block 0.
 * - otherwise (NCHW on either side): 16 tiles per vector along a tile row.
 *   The input transform combines 6 input rows vertically with contiguous
 *   loads, then picks the columns of each tile out of the combined rows
 *   with shuffles (an nChw16c side is read by stride-16 gathers and written
 *   by scatters); V[p][ic][tile], a register tile of vt vectors of 16 tiles
 *   x j output channels; the output transform interleaves the 4 columns of
 *   16 tiles back into contiguous output rows.
 */
#include <stdio.h>
#include <string.h>

#include "codegen/cg_internal.h"

enum { LANES = 16, TILE = 4, ALPHA = 6, NP = ALPHA * ALPHA, TAPS = 9 };

/* How a node's tiles and output channels are split (a function of the IR
 * only, so applies, work, scratch, the prepare step and emit agree). Two
 * ways to vectorise: 16 tiles per vector (NCHW tensors), or 16 channels per
 * vector (`chan`: nChw16c in and out; no gathers). */
typedef struct {
    int chan;           /* 1: vectors of 16 channels, 0: vectors of 16 tiles */
    int64_t th, tw;     /* tile rows and tiles per row */
    int64_t rows;       /* tiles: tile rows per unit */
    int64_t ntp;        /* tiles per unit, padded to vt * 16 (chan: to tr) */
    int vt;             /* tiles: register tile of vt vectors of 16 tiles x j output channels */
    int tr, jb;         /* chan: register tile of tr tiles x jb blocks of 16 output channels */
    int64_t j;          /* output channels of one U sub-block (chan: jb * 16) */
    int64_t nsub;       /* sub-blocks of j output channels (the last one zero-padded) */
    int64_t sub_per_item, row_blocks, co_blocks;
    int64_t items, units_per_item; /* units (row block x channel block) run in turn by one item */
    int per_run;        /* chan, one row block: U computed per run (below) */
} WinoPlan;

/* Work items per sample: units of one item run one after the other in the
 * item's workspace slice, so the workspace is at most this many slices
 * (fewer for the channel-vectorised plan, whose slices are larger). */
enum { MAX_ITEMS = 16, MAX_CHAN_ITEMS = 8 };

/* per_run only for maps of fewer tiles: from 64 tiles (UNet's 32 x 32
 * layers) the stored U was 1.2-1.5x faster on a Xeon (Sapphire Rapids
 * class), for 4x the weights' memory (UNet-256: +122 MB peak RSS, still
 * below ONNX Runtime's); at 16 tiles (16 x 16 maps) per_run was as fast. */
enum { PER_RUN_TILES = 64 };

/* per_run: input channels of one chunk of U computed in the kernel
 * (36 x 64 x 64 floats = 576 KiB for 64 output channels: within L2) */
enum { U_CHUNK = 64 };

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Floats of the derived parameter per input channel and output channel of a
 * sub-block: U's 36, or per_run the 3x3 weight's own 9 (reordered). */
static int64_t kept_values(const WinoPlan *P) { return P->per_run ? TAPS : NP; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

/* About 4 units: split the output channels' sub-blocks when there are few
 * row blocks; then at most max_items items. */
static void split_units(WinoPlan *P, int64_t max_items)
{
    int64_t want_cb = ceil_div(4, P->row_blocks);
    P->sub_per_item = ceil_div(P->nsub, want_cb < P->nsub ? want_cb : P->nsub);
    P->co_blocks = ceil_div(P->nsub, P->sub_per_item);
    int64_t units = P->row_blocks * P->co_blocks;
    P->units_per_item = ceil_div(units, max_items);
    P->items = ceil_div(units, P->units_per_item);
}

/* Tiles in vectors. Chooses the rows per item and the register tile: the
 * fewest padded tile lanes, a small penalty for thin register tiles (vt = 1
 * loads one broadcast per FMA), and at least 64 tiles per item where the
 * map has them (every item streams its part of U from memory once; at
 * 16 x 16 maps U is the largest operand). */
static WinoPlan lane_plan(const IrTensor *o)
{
    static const double thin[5] = {0, 0.15, 0.05, 0.02, 0};
    WinoPlan P = {.th = ceil_div(o->h, TILE), .tw = ceil_div(o->w, TILE)};
    int64_t want = P.th * P.tw < 64 ? P.th * P.tw : 64;
    double best = 1e30;
    for (int64_t r = 1; r <= P.th && r * P.tw <= 4 * want; r++) {
        if (2 * r * P.tw < want)
            continue;
        for (int vt = 4; vt >= 1; vt--) {
            int64_t ntp = round_up(r * P.tw, vt * LANES);
            double score = (double)ntp / (double)(r * P.tw) + thin[vt] + (r * P.tw < want ? 0.1 : 0);
            if (score < best) {
                best = score;
                P.rows = r, P.ntp = ntp, P.vt = vt;
            }
        }
    }
    P.j = 24 / P.vt;
    P.nsub = ceil_div(o->c, P.j);
    P.row_blocks = ceil_div(P.th, P.rows);
    split_units(&P, MAX_ITEMS);
    return P;
}

/* The fewest padded blocks of 16 output channels in sub-blocks of jb (jb = 1
 * penalised: 24 broadcasts per input channel). */
static int fewest_padded_blocks(int64_t cob)
{
    int best_jb = 1;
    double best = 1e30;
    for (int jb = 4; jb >= 1; jb--) {
        double score = (double)round_up(cob, jb) / (double)cob + (jb == 1 ? 0.2 : 0);
        if (jb <= cob && score < best)
            best = score, best_jb = jb;
    }
    return best_jb;
}

/* A map of one unit (per_run below 64 tiles, U read once whatever the
 * tile): jb and tr chosen together, for the least padded work (output
 * blocks x tiles) and then the most accumulators. At 16 x 16 (16 tiles)
 * into 512 or 1024 channels that is 8 tiles x 3 blocks (2 passes over the
 * tiles, 11 loads per 24 FMAs, 3% padded blocks) rather than 4 x 4 (4
 * passes, 8 loads per 16 FMAs): 7-12% faster on a Xeon (512 and 1024 ->
 * 1024 channels, --profile). */
static void one_unit_tile(WinoPlan *P, int64_t cob, int64_t tiles)
{
    double best = 1e30;
    for (int jb = 4; jb >= 1; jb--) {
        if (jb > cob)
            continue;
        for (int tr = 24 / jb; tr >= 4; tr--) {
            int64_t ntp = round_up(tiles, tr);
            double score = (double)round_up(cob, jb) / (double)cob * (double)ntp / (double)tiles +
                           0.01 * (24 - tr * jb) + (jb == 1 ? 0.2 : 0);
            if (score < best)
                best = score, P->jb = jb, P->tr = tr, P->ntp = ntp;
        }
    }
    P->j = P->jb * LANES;
    P->nsub = ceil_div(cob, P->jb);
    P->row_blocks = 1;
}

/* Channels in vectors. The register tile: jb blocks of 16 output channels
 * (the fewest padded blocks; jb = 1 penalised: 24 broadcasts per input
 * channel) x tr tiles, tr * jb <= 24 accumulators. A unit covers ntp
 * consecutive tiles of the map (row-major over all tile rows), a multiple
 * of tr: at most about 3640 / (Cin + min(Cout, 256)) tiles, so that the
 * unit's V and M (36 x ntp x channels floats) stay in L2 while the GEMM
 * works on them, clamped to 18..48; where not even 18 tiles fit, up to 64,
 * since V and M leave L2 anyway and U, read once per unit, is then the
 * traffic to save; up to 128 from 256 input channels, where U (36 x Cin x
 * Cout) is largest, on maps of at most 4 such units (the workspace, a
 * slice per item, then stays within what 64-tile units take): UNet's 64 x
 * 64 layers with 256-512 input channels ran 12-20% faster on a Xeon, its
 * 128 -> 128 ones 4-12% slower, so those keep 64.
 * Among those: the fewest padded tiles, then the most accumulators, then
 * larger units (score below; measured in docs/design.md). A map of one unit
 * below 64 tiles (per_run) chooses jb and tr together (one_unit_tile). */
static WinoPlan chan_plan(const IrTensor *in, const IrTensor *o)
{
    WinoPlan P = {.chan = 1, .th = ceil_div(o->h, TILE), .tw = ceil_div(o->w, TILE)};
    int64_t cob = ceil_div(o->c, LANES), tiles = P.th * P.tw;
    int64_t cop = round_up(o->c, LANES) < 256 ? round_up(o->c, LANES) : 256;
    int64_t most = 3640 / (round_up(in->c, LANES) + cop);
    most = most < 18 ? (in->c >= 256 && tiles <= 4 * 128 ? 128 : 64) : most > 48 ? 48 : most;
    if (tiles < PER_RUN_TILES && tiles <= most) {
        one_unit_tile(&P, cob, tiles);
    } else {
        P.jb = fewest_padded_blocks(cob);
        P.j = P.jb * LANES;
        P.nsub = ceil_div(cob, P.jb);
        double best = 1e30;
        for (int tr = 24 / P.jb; tr >= 4; tr--)
            for (int64_t ni = tr; ni <= most || ni == tr; ni += tr) {
                int64_t units = ceil_div(tiles, ni);
                double score = (double)(units * ni) / (double)tiles + 0.01 * (24 - tr * P.jb) + 3.0 / (double)ni;
                if (score < best)
                    best = score, P.tr = tr, P.ntp = ni, P.row_blocks = units;
                if (ni >= tiles)
                    break;
            }
    }
    split_units(&P, MAX_CHAN_ITEMS);
    P.per_run = P.row_blocks == 1 && tiles < PER_RUN_TILES;
    return P;
}

static int chan_layouts(const IrModule *m, const IrNode *n)
{
    return m->tensors[n->in[0]].layout == LAYOUT_NCHW16C && m->tensors[n->out].layout == LAYOUT_NCHW16C;
}

static WinoPlan wino_plan(const IrModule *m, const IrNode *n)
{
    const IrTensor *in = &m->tensors[n->in[0]], *o = &m->tensors[n->out];
    return chan_layouts(m, n) ? chan_plan(in, o) : lane_plan(o);
}

/* Input channels of V: in the chan plan padded to whole blocks. */
static int64_t v_channels(const IrModule *m, const IrNode *n, const WinoPlan *P)
{
    int64_t c = m->tensors[n->in[0]].c;
    return P->chan ? round_up(c, LANES) : c;
}

/* Strides in V, M and (per_run) U, in floats. A multiple of 256 floats
 * (1 KiB) gets a line of padding, so that what is read or written together
 * does not fall a multiple of 4 KiB apart, on one L1 set: the 36 panels
 * (positions) that the transforms write and read, and in the chan plan the
 * rows (tiles) that the GEMM's register tile reads. At 16 x 16, 1024 -> 1024
 * channels, the 36 stores of U per run to one set made the layer 1.25x
 * slower on a Xeon. */
static int64_t pad_stride(int64_t floats)
{
    return floats % 256 == 0 ? floats + LANES : floats;
}

/* The chan plan's V and M rows (the lane plan's rows are contiguous tiles
 * of one channel, read in order) */
static int64_t row_stride(const WinoPlan *P, int64_t floats)
{
    return P->chan ? pad_stride(floats) : floats;
}

/* per_run: floats of one position's panel of the U chunk, icn x j padded:
 * icn is U_CHUNK, or the last chunk's cin % U_CHUNK */
static LLVMValueRef u_panel(Cg *g, const WinoPlan *P, int64_t cin, LLVMValueRef icn)
{
    LLVMValueRef full = LLVMBuildICmp(g->b, LLVMIntEQ, icn, cg_i64(g, U_CHUNK), "");
    return LLVMBuildSelect(g->b, full, cg_i64(g, pad_stride(U_CHUNK * P->j)),
                           cg_i64(g, pad_stride(cin % U_CHUNK * P->j)), "");
}

/* The chan plan's row t of panel p of V or M: p * panel + t * row floats */
static LLVMValueRef chan_row_at(Cg *g, LLVMValueRef p, int64_t panel, LLVMValueRef t, int64_t row)
{
    return cg_add(g, cg_mul(g, p, cg_i64(g, panel)), cg_mul(g, t, cg_i64(g, row)));
}

static LLVMValueRef chan_row(Cg *g, int p, int64_t panel, LLVMValueRef t, int64_t row)
{
    return chan_row_at(g, cg_i64(g, p), panel, t, row);
}

/* Floats of one item's workspace: V [36][Cin][ntp] and M [36][sub_per_item * j][ntp]
 * (chan: V [36][ntp][Cin] and M [36][ntp][sub_per_item * j]; per_run: then U of one
 * sub-block, [36][Cin][j]). */
static int64_t slice_floats(const IrModule *m, const IrNode *n, const WinoPlan *P)
{
    int64_t cin = m->tensors[n->in[0]].c;
    int64_t u = P->per_run ? (int64_t)NP * pad_stride((cin < U_CHUNK ? cin : U_CHUNK) * P->j) : 0;
    int64_t vp = pad_stride(P->ntp * row_stride(P, v_channels(m, n, P)));
    int64_t mp = pad_stride(P->ntp * row_stride(P, P->sub_per_item * P->j));
    return (int64_t)NP * (vp + mp) + u;
}

/* The cost model (--winograd=auto): Winograd does 4x fewer
 * multiplications but pays for three transforms per input and output
 * channel, and reads U (4x the weights) once per item: it needs enough
 * channels and enough tiles to use each U value on (docs/design.md,
 * "Winograd on few channels"). From 64 tiles (32 x 32) it was 1.4-2.5x
 * faster than the direct kernel with 16-64 channels on each side, except
 * 16 -> 16 (0.94-1.03 up to 64 x 64; Zen 4). Between nChw16c tensors
 * (the chan plan), measured on a Xeon after the strides were padded
 * (pad_stride): from 32 tiles (28 x 28, 49 tiles) 1.65-2.4x at 1 thread
 * and 1.2-2.0x at 2 with 16-512 channels; on 16-31 tiles (14 x 14, 16 x
 * 16) 1.15-2.2x at 1 thread but 0.62-0.69x at 2 with 16-64 channels (one
 * item of output channels: one thread idles), 1.34x from 128 -> 128; below
 * 16 tiles (10 x 10, 7 x 7) 0.55-1.25x, not tried. NCHW on a side (the
 * lane plan, vectors of 16 tiles along a row: mostly padding on a small
 * map) keeps the earlier rule below 64 tiles: Cin x Cout >= 256 x 256. */
static int wino_pays(const IrTensor *in, const IrTensor *o)
{
    int64_t tiles = ceil_div(o->h, TILE) * ceil_div(o->w, TILE);
    int chan = in->layout == LAYOUT_NCHW16C && o->layout == LAYOUT_NCHW16C;
    if (in->c < 16 || o->c < 16 || tiles < 16)
        return 0;
    if (tiles >= 64 || (chan && tiles >= 32))
        return in->c + o->c >= 48;
    return chan ? in->c * o->c >= 128 * 128 : in->c * o->c >= 256 * 256;
}

/* 3x3, stride 1, no dilation, one group, NCHW or nChw16c, AVX-512 (an
 * AVX2 target's nChw8c convs get the direct kernels), an activation cg_act
 * computes on vectors. */
static int wino_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    const IrGeom *l = &n->geom;
    if (n->kind != IR_CONV || t->winograd == CG_WINOGRAD_OFF || t->vec != LANES || !cg_vector_act(n->act))
        return 0;
    if (l->kernel[0] != 3 || l->kernel[1] != 3 || l->stride[0] != 1 || l->stride[1] != 1 ||
        l->dilation[0] != 1 || l->dilation[1] != 1 || l->groups != 1)
        return 0;
    const IrTensor *in = &m->tensors[n->in[0]], *o = &m->tensors[n->out];
    if ((in->layout != LAYOUT_NCHW && in->layout != LAYOUT_NCHW16C) ||
        (o->layout != LAYOUT_NCHW && o->layout != LAYOUT_NCHW16C))
        return 0;
    return t->winograd == CG_WINOGRAD_ON || wino_pays(in, o);
}

static int64_t wino_work(const Cg *g, const IrNode *n)
{
    WinoPlan P = wino_plan(g->m, n);
    return P.items;
}

/* ---- the three transforms, on vectors (or scalars) ---- */

static LLVMValueRef fadd(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(g->b, a, b, ""); }
static LLVMValueRef fsub(Cg *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(g->b, a, b, ""); }

/* c * a + b for a constant c */
static LLVMValueRef cfma(Cg *g, double c, LLVMValueRef a, LLVMValueRef b)
{
    return cg_fmuladd(g, cg_fconst(g, LLVMTypeOf(a), c), a, b);
}

/* r = B^T d:
 *   [4  0 -5  0  1  0]
 *   [0 -4 -4  1  1  0]
 *   [0  4 -4 -1  1  0]
 *   [0 -2 -1  2  1  0]
 *   [0  2 -1 -2  1  0]
 *   [0  4  0 -5  0  1] */
static void input_1d(Cg *g, LLVMValueRef d[ALPHA], LLVMValueRef r[ALPHA])
{
    LLVMValueRef d34 = fadd(g, d[3], d[4]), d12 = fadd(g, d[1], d[2]);
    LLVMValueRef e43 = fsub(g, d[4], d[3]), e12 = fsub(g, d[1], d[2]);
    LLVMValueRef e42 = fsub(g, d[4], d[2]), e31 = fsub(g, d[3], d[1]);
    r[0] = cfma(g, 4, d[0], cfma(g, -5, d[2], d[4]));
    r[1] = cfma(g, -4, d12, d34);
    r[2] = cfma(g, 4, e12, e43);
    r[3] = cfma(g, 2, e31, e42);
    r[4] = cfma(g, -2, e31, e42);
    r[5] = cfma(g, 4, d[1], cfma(g, -5, d[3], d[5]));
}

/* o = A^T m:
 *   [1  1  1  1  1  0]
 *   [0  1 -1  2 -2  0]
 *   [0  1  1  4  4  0]
 *   [0  1 -1  8 -8  1] */
static void output_1d(Cg *g, LLVMValueRef m[ALPHA], LLVMValueRef o[TILE])
{
    LLVMValueRef a = fadd(g, m[1], m[2]), b = fsub(g, m[1], m[2]);
    LLVMValueRef c = fadd(g, m[3], m[4]), d = fsub(g, m[3], m[4]);
    o[0] = fadd(g, fadd(g, m[0], a), c);
    o[1] = cfma(g, 2, d, b);
    o[2] = cfma(g, 4, c, a);
    o[3] = fadd(g, cfma(g, 8, d, b), m[5]);
}

/* G (6x3) of F(4x4, 3x3) */
static const double G[ALPHA][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

/* t = G w for one 3x3 kernel w (row-major), of values of type ty (w already of that type) */
static void g_rows(Cg *g, LLVMTypeRef ty, LLVMValueRef w[9], LLVMValueRef t[ALPHA][3])
{
    for (int a = 0; a < ALPHA; a++)
        for (int c = 0; c < 3; c++) {
            t[a][c] = LLVMConstNull(ty);
            for (int b = 0; b < 3; b++)
                if (G[a][b] != 0)
                    t[a][c] = cfma(g, G[a][b], w[b * 3 + c], t[a][c]);
        }
}

/* u[p] = (t G^T)[p], p = 6 * row + column */
static void g_cols(Cg *g, LLVMTypeRef ty, LLVMValueRef t[ALPHA][3], LLVMValueRef u[NP])
{
    for (int a = 0; a < ALPHA; a++)
        for (int d = 0; d < ALPHA; d++) {
            u[a * ALPHA + d] = LLVMConstNull(ty);
            for (int c = 0; c < 3; c++)
                if (G[d][c] != 0)
                    u[a * ALPHA + d] = cfma(g, G[d][c], t[a][c], u[a * ALPHA + d]);
        }
}

/* G w of one 3x3 kernel (9 floats at src) in double: t */
static void load_g_rows(Cg *g, LLVMValueRef src, LLVMValueRef t[ALPHA][3])
{
    LLVMValueRef w[9];
    for (int i = 0; i < 9; i++)
        w[i] = LLVMBuildFPExt(g->b, cg_load(g, src, cg_i64(g, i)), g->f64, "");
    g_rows(g, g->f64, w, t);
}

/* u = G w G^T in double for one 3x3 kernel w (9 floats at src), rounded
 * once to float and stored at dst[p * stride], p = 6 * row + column. */
static void weight_transform(Cg *g, LLVMValueRef src, LLVMValueRef dst, int64_t stride)
{
    LLVMValueRef t[ALPHA][3], u[NP];
    load_g_rows(g, src, t);
    g_cols(g, g->f64, t, u);
    for (int p = 0; p < NP; p++)
        cg_store(g, dst, cg_i64(g, p * stride), LLVMBuildFPTrunc(g->b, u[p], g->f32, ""));
}

/* U for sub-block sb of j output channels, [36][Cin][j] at dst (per_run:
 * the weights as they are, [Cin][9][j], from which the kernel loads the 9
 * taps of 16 output channels as vectors and computes U = G w G^T); zero for
 * the padding channels of the last sub-block. Loops, not unrolled: the
 * transform is about 100 operations, and j is up to 24. */
static void emit_weight_block(Cg *g, const IrModule *m, const IrNode *n, const WinoPlan *P,
                              LLVMValueRef w, LLVMValueRef dst, LLVMValueRef sb)
{
    int64_t cin = m->tensors[n->in[0]].c, cout = m->tensors[n->out].c;
    int64_t values = kept_values(P), stride = P->per_run ? P->j : cin * P->j;
    CgLoop ic = cg_loop(g, cg_i64(g, 0), cg_i64(g, cin), "wic");
    CgLoop j = cg_loop(g, cg_i64(g, 0), cg_i64(g, P->j), "wj");
    LLVMValueRef oc = cg_add(g, cg_mul(g, sb, cg_i64(g, P->j)), j.iv);
    LLVMValueRef at = cg_gep(g, dst, cg_add(g, cg_mul(g, ic.iv, cg_i64(g, P->per_run ? TAPS * P->j : P->j)), j.iv));
    LLVMBasicBlockRef pad = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "pad");
    LLVMBasicBlockRef real = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "real");
    LLVMBasicBlockRef merge = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "wend");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, oc, cg_i64(g, cout), ""), real, pad);
    LLVMPositionBuilderAtEnd(g->b, real);
    LLVMValueRef src = cg_gep(g, w, cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, cin)), ic.iv), cg_i64(g, 9)));
    if (P->per_run) {
        for (int a = 0; a < TAPS; a++)
            cg_store(g, at, cg_i64(g, a * stride), cg_load(g, src, cg_i64(g, a)));
    } else {
        weight_transform(g, src, at, stride);
    }
    LLVMBuildBr(g->b, merge);
    LLVMPositionBuilderAtEnd(g->b, pad);
    for (int p = 0; p < values; p++)
        cg_store(g, at, cg_i64(g, p * stride), cg_f32(g, 0));
    LLVMBuildBr(g->b, merge);
    LLVMPositionBuilderAtEnd(g->b, merge);
    cg_loop_end(g, &j);
    cg_loop_end(g, &ic);
}

/* ---- lane shuffles ---- */

static LLVMValueRef shuffle(Cg *g, LLVMValueRef a, LLVMValueRef b, const int *idx, int n)
{
    LLVMValueRef c[64];
    for (int i = 0; i < n; i++)
        c[i] = LLVMConstInt(g->i32, (unsigned long long)idx[i], 0);
    return LLVMBuildShuffleVector(g->b, a, b, LLVMConstVector(c, (unsigned)n), "");
}

/* a ++ b */
static LLVMValueRef concat(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    int n = (int)LLVMGetVectorSize(LLVMTypeOf(a)), idx[64];
    for (int i = 0; i < 2 * n; i++)
        idx[i] = i;
    return shuffle(g, a, b, idx, 2 * n);
}

/* The columns of 16 tiles: lane l of phase k is column 4*l + k of the 80
 * columns c[0..4] (k < 6). */
static void split_columns(Cg *g, LLVMValueRef c[5], LLVMValueRef ph[ALPHA])
{
    LLVMValueRef lo = concat(g, c[0], c[1]), hi = concat(g, c[2], c[3]);
    int idx[LANES];
    for (int k = 0; k < TILE; k++) {
        for (int l = 0; l < LANES; l++)
            idx[l] = TILE * l + k;
        ph[k] = shuffle(g, lo, hi, idx, LANES);
    }
    /* phases 4 and 5 are phases 0 and 1 one tile on: lanes 1..15, then column 64 or 65 */
    for (int k = 4; k < ALPHA; k++) {
        for (int l = 0; l < LANES; l++)
            idx[l] = l + 1 < LANES ? l + 1 : LANES + (k - 4);
        ph[k] = shuffle(g, ph[k - 4], c[4], idx, LANES);
    }
}

/* The inverse: 64 contiguous output columns (4 vectors) from the 4 columns
 * o[0..3] of 16 tiles: out[q] lane l is o[l % 4] lane 4*q + l/4. */
static void join_columns(Cg *g, LLVMValueRef o[TILE], LLVMValueRef out[TILE])
{
    LLVMValueRef lo = concat(g, o[0], o[1]), hi = concat(g, o[2], o[3]);
    int idx[LANES];
    for (int q = 0; q < TILE; q++) {
        for (int l = 0; l < LANES; l++)
            idx[l] = (l % TILE) * LANES + TILE * q + l / TILE;
        out[q] = shuffle(g, lo, hi, idx, LANES);
    }
}

/* V and M are read and written with 4-byte alignment: a slice starts on 64
 * bytes in sample 0, but the workspace of sample n starts n workspace sizes
 * in, which need not be a multiple of 16 floats (--scratch-probe adds any). */
static LLVMValueRef load_vec(Cg *g, LLVMValueRef p, unsigned align)
{
    LLVMValueRef v = LLVMBuildLoad2(g->b, g->vf, p, "");
    LLVMSetAlignment(v, align);
    return v;
}

static void store_vec(Cg *g, LLVMValueRef v, LLVMValueRef p, unsigned align)
{
    LLVMSetAlignment(LLVMBuildStore(g->b, v, p), align);
}

static LLVMValueRef and_row(Cg *g, LLVMValueRef mask, LLVMValueRef row_ok)
{
    return LLVMBuildAnd(g->b, mask, cg_splat(g, row_ok, g->vi1), "");
}

/* ---- one work item ---- */

typedef struct {
    CgKernel *k;
    WinoPlan P;
    int64_t cin, cout, ih, iw, oh, ow, pt, pl;
    LLVMValueRef v, mbuf, u;   /* the item's V and M, the whole U (per_run: the item's U of one sub-block) */
    int64_t cbp;               /* channels of M: sub_per_item * j */
    int in_blocked, out_blocked; /* nChw16c (else NCHW) */
    LLVMValueRef th0;          /* tiles: first tile row of the unit */
    LLVMValueRef chan, sb0;    /* tiles: the input channel being transformed; the unit's first sub-block */
    LLVMValueRef t0, nt;       /* chan: first tile of the unit, and its tiles (<= ntp) */
    int64_t cinp;              /* chan: Cin padded to blocks of 16 */
    int64_t vrow, mrow;        /* chan: floats of a V row and an M row (row_stride) */
    int64_t vpanel, mpanel;    /* floats of V[p] and M[p] (pad_stride) */
} Wino;

/* fn(W, i, j) for i < ni, j < nj: the transforms' loop nests (tile rows x
 * chunks of 16 tiles, or tiles x channel blocks) */
typedef void LoopBody(Wino *W, LLVMValueRef i, LLVMValueRef j);

static void loop2(Wino *W, LLVMValueRef ni, LLVMValueRef nj, LoopBody *fn)
{
    Cg *g = W->k->g;
    CgLoop i = cg_loop(g, cg_i64(g, 0), ni, "l2i");
    CgLoop j = cg_loop(g, cg_i64(g, 0), nj, "l2j");
    fn(W, i.iv, j.iv);
    cg_loop_end(g, &j);
    cg_loop_end(g, &i);
}

/* Where row h of channel c of t starts: NCHW, or nChw16c (then the row's
 * columns are 16 floats apart). */
static LLVMValueRef row_start(Wino *W, const IrTensor *t, LLVMValueRef base, LLVMValueRef c, LLVMValueRef h)
{
    Cg *g = W->k->g;
    if (t->layout == LAYOUT_NCHW)
        return cg_gep(g, base, cg_mul(g, cg_add(g, cg_mul(g, c, cg_i64(g, t->h)), h), cg_i64(g, t->w)));
    LLVMValueRef blk = cg_div(g, c, cg_i64(g, LANES)), lane = cg_rem(g, c, cg_i64(g, LANES));
    LLVMValueRef at = cg_mul(g, cg_add(g, cg_mul(g, blk, cg_i64(g, t->h)), h), cg_i64(g, t->w * LANES));
    return cg_gep(g, base, cg_add(g, at, lane));
}

/* V[p][ic][rr*tw + tw0 + lane] for the 16 tiles from tw0 = 16 * chunk of
 * tile row th0 + rr, ic = W->chan */
static void input_chunk(Wino *W, LLVMValueRef rr, LLVMValueRef chunk)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    LLVMValueRef ic = W->chan, tw0 = cg_mul(g, chunk, cg_i64(g, LANES));
    LLVMValueRef th = cg_add(g, W->th0, rr);
    LLVMValueRef col0 = cg_sub(g, cg_mul(g, tw0, cg_i64(g, TILE)), cg_i64(g, W->pl));
    LLVMValueRef t[ALPHA][5];
    LLVMValueRef d[5][ALPHA];
    for (int r = 0; r < ALPHA; r++) {
        LLVMValueRef h = cg_add(g, cg_sub(g, cg_mul(g, th, cg_i64(g, TILE)), cg_i64(g, W->pt)), cg_i64(g, r));
        LLVMValueRef ok = cg_in_range(g, h, W->ih);
        h = LLVMBuildSelect(g->b, ok, h, cg_i64(g, 0), "");
        LLVMValueRef row = row_start(W, W->k->in[0], W->k->x[0], ic, h);
        for (int c = 0; c < 5; c++) {
            LLVMValueRef start = cg_add(g, col0, cg_i64(g, c * LANES));
            LLVMValueRef mask = and_row(g, cg_lane_mask(g, start, W->iw), ok);
            d[c][r] = W->in_blocked ? cg_masked_gather(g, cg_gep(g, row, cg_mul(g, start, cg_i64(g, LANES))), LANES, mask)
                                    : cg_masked_load(g, cg_gep(g, row, start), mask);
        }
    }
    for (int c = 0; c < 5; c++) {
        LLVMValueRef r[ALPHA];
        input_1d(g, d[c], r);
        for (int i = 0; i < ALPHA; i++)
            t[i][c] = r[i];
    }
    LLVMValueRef smask = cg_lane_mask(g, tw0, P->tw);
    LLVMValueRef tile = cg_add(g, cg_mul(g, rr, cg_i64(g, P->tw)), tw0);
    for (int i = 0; i < ALPHA; i++) {
        LLVMValueRef ph[ALPHA], r[ALPHA];
        split_columns(g, t[i], ph);
        input_1d(g, ph, r);
        for (int k = 0; k < ALPHA; k++) {
            LLVMValueRef at = cg_add(g, cg_add(g, cg_i64(g, (i * ALPHA + k) * W->vpanel), cg_mul(g, ic, cg_i64(g, P->ntp))), tile);
            cg_masked_store(g, r[k], cg_gep(g, W->v, at), smask);
        }
    }
}

/* Zero the vectors of V past the item's last tile, so the GEMM reads
 * defined values (the transform's masked stores leave them alone). */
static void zero_tail(Wino *W, LLVMValueRef ntiles)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    CgLoop p = cg_loop(g, cg_i64(g, 0), cg_i64(g, NP), "ztailp");
    CgLoop row = cg_loop(g, cg_i64(g, 0), cg_i64(g, W->cin), "ztail");
    LLVMValueRef base = cg_gep(g, W->v, cg_add(g, cg_mul(g, p.iv, cg_i64(g, W->vpanel)), cg_mul(g, row.iv, cg_i64(g, P->ntp))));
    CgLoop q = cg_loop(g, cg_div(g, ntiles, cg_i64(g, LANES)), cg_i64(g, P->ntp / LANES), "zq");
    store_vec(g, LLVMConstNull(g->vf), cg_gep(g, base, cg_mul(g, q.iv, cg_i64(g, LANES))), 4);
    cg_loop_end(g, &q);
    cg_loop_end(g, &row);
    cg_loop_end(g, &p);
}

static void input_transform(Wino *W, LLVMValueRef nrows)
{
    Cg *g = W->k->g;
    CgLoop ic = cg_loop(g, cg_i64(g, 0), cg_i64(g, W->cin), "ic");
    W->chan = ic.iv;
    loop2(W, nrows, cg_i64(g, ceil_div(W->P.tw, LANES)), input_chunk);
    cg_loop_end(g, &ic);
}

/* M[p][s*j + jj][t0 ..] for one register tile: vt vectors of tiles from t0 x
 * the j channels of sub-block sb (the item's s-th), summed over ic in registers. */
static void gemm_tile(Wino *W, LLVMValueRef p, LLVMValueRef t0, LLVMValueRef sb, LLVMValueRef s)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    int vt = P->vt, nj = P->j;
    LLVMValueRef acc[24];
    for (int i = 0; i < vt * nj; i++)
        acc[i] = cg_var(g, g->vf, LLVMConstNull(g->vf));
    LLVMValueRef vbase = cg_gep(g, W->v, cg_add(g, cg_mul(g, p, cg_i64(g, W->vpanel)), t0));
    LLVMValueRef ubase = cg_gep(g, W->u, cg_mul(g, cg_add(g, cg_mul(g, sb, cg_i64(g, NP)), p), cg_i64(g, W->cin * nj)));
    CgLoop ic = cg_loop(g, cg_i64(g, 0), cg_i64(g, W->cin), "gic");
    LLVMValueRef vrow = cg_gep(g, vbase, cg_mul(g, ic.iv, cg_i64(g, P->ntp)));
    LLVMValueRef urow = cg_gep(g, ubase, cg_mul(g, ic.iv, cg_i64(g, nj)));
    LLVMValueRef xv[4];
    for (int u = 0; u < vt; u++)
        xv[u] = load_vec(g, cg_gep(g, vrow, cg_i64(g, u * LANES)), 4);
    for (int j = 0; j < nj; j++) {
        LLVMValueRef ws = cg_splat(g, cg_load(g, urow, cg_i64(g, j)), g->vf);
        for (int u = 0; u < vt; u++)
            cg_set(g, acc[j * vt + u], cg_fmuladd(g, ws, xv[u], cg_get(g, acc[j * vt + u])));
    }
    cg_loop_end(g, &ic);
    LLVMValueRef ch0 = cg_mul(g, s, cg_i64(g, nj)), panel = cg_add(g, cg_mul(g, p, cg_i64(g, W->mpanel)), t0);
    for (int j = 0; j < nj; j++) {
        LLVMValueRef mrow = cg_gep(g, W->mbuf, cg_add(g, panel, cg_mul(g, cg_add(g, ch0, cg_i64(g, j)), cg_i64(g, P->ntp))));
        for (int u = 0; u < vt; u++)
            store_vec(g, cg_get(g, acc[j * vt + u]), cg_gep(g, mrow, cg_i64(g, u * LANES)), 4);
    }
}

/* p outermost: V[p] (Cin x ntp) stays in cache while every sub-block of
 * output channels reads it; each U[sb][p] is read once. */
static void gemm(Wino *W, LLVMValueRef sb0, LLVMValueRef nsb)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    CgLoop p = cg_loop(g, cg_i64(g, 0), cg_i64(g, NP), "p");
    CgLoop s = cg_loop(g, cg_i64(g, 0), nsb, "sb");
    CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, P->ntp / (P->vt * LANES)), "tiles");
    gemm_tile(W, p.iv, cg_mul(g, t.iv, cg_i64(g, P->vt * LANES)), cg_add(g, sb0, s.iv), s.iv);
    cg_loop_end(g, &t);
    cg_loop_end(g, &s);
    cg_loop_end(g, &p);
}

/* y[oc] rows 4*th .. +3, columns 4*tw0 .. +63 from M[.][ch][rr*tw + tw0 ..],
 * tw0 = 16 * chunk, ch = W->chan, oc = sb0 * j + ch */
static void output_chunk(Wino *W, LLVMValueRef rr, LLVMValueRef chunk)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    LLVMValueRef ch = W->chan, tw0 = cg_mul(g, chunk, cg_i64(g, LANES));
    LLVMValueRef oc = cg_add(g, cg_mul(g, W->sb0, cg_i64(g, P->j)), ch);
    const IrNode *n = W->k->n;
    LLVMValueRef tile = cg_add(g, cg_mul(g, rr, cg_i64(g, P->tw)), tw0);
    LLVMValueRef m[ALPHA][ALPHA], s[TILE][ALPHA];
    for (int a = 0; a < ALPHA; a++)
        for (int b = 0; b < ALPHA; b++) {
            LLVMValueRef at = cg_add(g, cg_add(g, cg_i64(g, (a * ALPHA + b) * W->mpanel), cg_mul(g, ch, cg_i64(g, P->ntp))), tile);
            m[a][b] = load_vec(g, cg_gep(g, W->mbuf, at), 4);
        }
    for (int b = 0; b < ALPHA; b++) {
        LLVMValueRef col[ALPHA], r[TILE];
        for (int a = 0; a < ALPHA; a++)
            col[a] = m[a][b];
        output_1d(g, col, r);
        for (int i = 0; i < TILE; i++)
            s[i][b] = r[i];
    }
    LLVMValueRef bias = n->bias >= 0 ? cg_splat(g, cg_load(g, W->k->p[1], oc), g->vf) : NULL;
    LLVMValueRef th = cg_add(g, W->th0, rr);
    LLVMValueRef col0 = cg_mul(g, tw0, cg_i64(g, TILE));
    for (int i = 0; i < TILE; i++) {
        LLVMValueRef o[TILE], out[TILE];
        output_1d(g, s[i], o);
        for (int c = 0; c < TILE; c++)
            if (bias)
                o[c] = fadd(g, o[c], bias);
        join_columns(g, o, out);
        LLVMValueRef oh = cg_add(g, cg_mul(g, th, cg_i64(g, TILE)), cg_i64(g, i));
        LLVMValueRef ok = cg_in_range(g, oh, W->oh);
        oh = LLVMBuildSelect(g->b, ok, oh, cg_i64(g, 0), "");
        LLVMValueRef row = row_start(W, W->k->out, W->k->y, oc, oh);
        for (int q = 0; q < TILE; q++) {
            LLVMValueRef start = cg_add(g, col0, cg_i64(g, q * LANES));
            LLVMValueRef mask = and_row(g, cg_lane_mask(g, start, W->ow), ok);
            LLVMValueRef at = cg_gep(g, row, W->out_blocked ? cg_mul(g, start, cg_i64(g, LANES)) : start);
            LLVMValueRef res = cg_residual(W->k, at), v = out[q];
            if (res) /* a fused residual, laid out as the output */
                v = fadd(g, v, W->out_blocked ? cg_masked_gather(g, res, LANES, mask) : cg_masked_load(g, res, mask));
            v = cg_act(g, n, v);
            if (W->out_blocked)
                cg_masked_scatter(g, v, at, LANES, mask);
            else
                cg_masked_store(g, v, at, mask);
        }
    }
}

static void output_transform(Wino *W, LLVMValueRef sb0, LLVMValueRef nsb, LLVMValueRef nrows)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    CgLoop ch = cg_loop(g, cg_i64(g, 0), cg_mul(g, nsb, cg_i64(g, P->j)), "och");
    LLVMValueRef oc = cg_add(g, cg_mul(g, sb0, cg_i64(g, P->j)), ch.iv);
    LLVMBasicBlockRef merge;
    cg_if(g, LLVMBuildICmp(g->b, LLVMIntSLT, oc, cg_i64(g, W->cout), ""), &merge);
    W->chan = ch.iv, W->sb0 = sb0;
    loop2(W, nrows, cg_i64(g, ceil_div(P->tw, LANES)), output_chunk);
    cg_if_end(g, merge);
    cg_loop_end(g, &ch);
}

/* nChw16c output: the padding channels of the last block are 0 (as a
 * reorder writes them), here for the output rows of the unit's tiles. */
static void zero_padding_channels(Wino *W, LLVMValueRef nrows)
{
    Cg *g = W->k->g;
    int64_t padded = ceil_div(W->cout, LANES) * LANES;
    if (!W->out_blocked || padded == W->cout)
        return;
    LLVMValueRef oh0 = cg_mul(g, W->th0, cg_i64(g, TILE));
    LLVMValueRef oh1 = cg_mul(g, cg_add(g, W->th0, nrows), cg_i64(g, TILE));
    oh1 = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, oh1, cg_i64(g, W->oh), ""), oh1, cg_i64(g, W->oh), "");
    CgLoop oc = cg_loop(g, cg_i64(g, W->cout), cg_i64(g, padded), "padc");
    CgLoop oh = cg_loop(g, oh0, oh1, "padh");
    LLVMValueRef row = row_start(W, W->k->out, W->k->y, oc.iv, oh.iv);
    for (int64_t c = 0; c < W->ow; c += LANES)
        cg_masked_scatter(g, LLVMConstNull(g->vf), cg_gep(g, row, cg_i64(g, c * LANES)), LANES,
                          cg_lane_mask(g, cg_i64(g, c), W->ow));
    cg_loop_end(g, &oh);
    cg_loop_end(g, &oc);
}

/* min(a, b) of i64 values */
static LLVMValueRef min_i64(Cg *g, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, a, b, ""), a, b, "");
}

/* ---- channels in vectors (nChw16c in and out) ---- */

/* pixel (h, w) of channel block cb of the nChw16c tensor t at base */
static LLVMValueRef pixel(Cg *g, const IrTensor *t, LLVMValueRef base, LLVMValueRef cb, LLVMValueRef h, LLVMValueRef w)
{
    LLVMValueRef at = cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, cb, cg_i64(g, t->h)), h), cg_i64(g, t->w)), w);
    return cg_gep(g, base, cg_mul(g, at, cg_i64(g, LANES)));
}

/* v <- the clamped coordinate (0 outside [0, hi)); returns whether it was inside */
static LLVMValueRef clamp_in(Cg *g, LLVMValueRef *v, int64_t hi)
{
    LLVMValueRef ok = cg_in_range(g, *v, hi);
    *v = LLVMBuildSelect(g->b, ok, *v, cg_i64(g, 0), "");
    return ok;
}

/* The first output row and column of tile t of the unit */
static void tile_origin(Wino *W, LLVMValueRef t, LLVMValueRef *h, LLVMValueRef *w)
{
    Cg *g = W->k->g;
    LLVMValueRef gt = cg_add(g, W->t0, t), tw = cg_i64(g, W->P.tw);
    *h = cg_mul(g, cg_div(g, gt, tw), cg_i64(g, TILE));
    *w = cg_mul(g, cg_rem(g, gt, tw), cg_i64(g, TILE));
}

/* V[p][t][16 cb ..] = (B^T d B)[p] for the 6 x 6 pixels d of channel block
 * cb around tile t; pixels outside the input (padding) and tiles past the
 * unit's last are 0. The tile's masks do not depend on cb, the inner loop. */
static void chan_input(Wino *W, LLVMValueRef t, LLVMValueRef cb)
{
    Cg *g = W->k->g;
    LLVMValueRef h0, w0, wc[ALPHA], okw[ALPHA], d[ALPHA][ALPHA], tr[ALPHA][ALPHA];
    tile_origin(W, t, &h0, &w0);
    LLVMValueRef valid = LLVMBuildICmp(g->b, LLVMIntSLT, t, W->nt, "");
    for (int c = 0; c < ALPHA; c++) {
        wc[c] = cg_add(g, w0, cg_i64(g, c - W->pl));
        okw[c] = clamp_in(g, &wc[c], W->iw);
    }
    for (int r = 0; r < ALPHA; r++) {
        LLVMValueRef h = cg_add(g, h0, cg_i64(g, r - W->pt));
        LLVMValueRef okh = LLVMBuildAnd(g->b, clamp_in(g, &h, W->ih), valid, "");
        for (int c = 0; c < ALPHA; c++) {
            LLVMValueRef mask = cg_splat(g, LLVMBuildAnd(g->b, okh, okw[c], ""), g->vi1);
            d[c][r] = cg_masked_load(g, pixel(g, W->k->in[0], W->k->x[0], cb, h, wc[c]), mask);
        }
    }
    for (int c = 0; c < ALPHA; c++) {
        LLVMValueRef r[ALPHA];
        input_1d(g, d[c], r);
        for (int i = 0; i < ALPHA; i++)
            tr[i][c] = r[i];
    }
    for (int i = 0; i < ALPHA; i++) {
        LLVMValueRef r[ALPHA];
        input_1d(g, tr[i], r);
        for (int k = 0; k < ALPHA; k++) {
            LLVMValueRef at = cg_add(g, chan_row(g, i * ALPHA + k, W->vpanel, t, W->vrow), cg_mul(g, cb, cg_i64(g, LANES)));
            store_vec(g, r[k], cg_gep(g, W->v, at), 4);
        }
    }
}

/* M[p][t0 + i][16 (s jb + b) ..] for i < tr, b < jb: sum over ic of
 * V[p][t0 + i][ic] (broadcast) x U[sb0 + s][p][ic][16 b ..], in registers.
 * per_run: over the input channels [ic0, ic0 + icn) of the U chunk in the
 * slice, [36][icn][j], continuing M's sums unless first (the same FMAs in
 * the same order as one pass over every input channel). */
static void chan_gemm_tile(Wino *W, LLVMValueRef p, LLVMValueRef s, LLVMValueRef t0, LLVMValueRef ic0,
                           LLVMValueRef icn, LLVMValueRef first, LLVMValueRef pf, int64_t pf_step)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    int tr = P->tr, jb = P->jb;
    LLVMValueRef acc[24], uv[4], mrow[24];
    for (int i = 0; i < tr; i++) {
        LLVMValueRef row = chan_row_at(g, p, W->mpanel, cg_add(g, t0, cg_i64(g, i)), W->mrow);
        mrow[i] = cg_gep(g, W->mbuf, cg_add(g, row, cg_mul(g, s, cg_i64(g, P->j))));
        for (int b = 0; b < jb; b++) {
            LLVMValueRef init = LLVMConstNull(g->vf);
            if (P->per_run)
                init = LLVMBuildSelect(g->b, first, init, load_vec(g, cg_gep(g, mrow[i], cg_i64(g, b * LANES)), 4), "");
            acc[i * jb + b] = cg_var(g, g->vf, init);
        }
    }
    LLVMValueRef vbase = cg_gep(g, W->v, cg_add(g, chan_row_at(g, p, W->vpanel, t0, W->vrow), ic0));
    LLVMValueRef ubase = P->per_run ? cg_gep(g, W->u, cg_mul(g, p, u_panel(g, P, W->cin, icn)))
                                    : cg_gep(g, W->u, cg_mul(g, cg_add(g, cg_mul(g, cg_add(g, W->sb0, s), cg_i64(g, NP)), p),
                                                             cg_i64(g, W->cin * P->j)));
    if (P->per_run) {
        /* this pass's tiles' V rows of the chunk at the next position (a unit of
           1024 channels is 7.5 MB of V at 49 tiles, past L2, and the broadcasts
           waited on it: 1024 -> 1024 at 28 x 28 36.7 -> 32.3 ms, Xeon) */
        LLVMValueRef vnext = cg_gep(g, vbase, cg_i64(g, W->vpanel));
        for (int i = 0; i < tr; i++)
            for (int64_t l = 0; l < U_CHUNK; l += LANES)
                cg_prefetch(g, cg_gep(g, vnext, cg_i64(g, i * W->vrow + l)));
    }
    CgLoop ic = cg_loop(g, cg_i64(g, 0), icn, "cic");
    LLVMValueRef urow = cg_gep(g, ubase, cg_mul(g, ic.iv, cg_i64(g, P->j)));
    for (int b = 0; b < jb; b++)
        uv[b] = load_vec(g, cg_gep(g, urow, cg_i64(g, b * LANES)), 4);
    if (pf)
        cg_prefetch(g, cg_gep(g, pf, cg_mul(g, ic.iv, cg_i64(g, pf_step))));
    for (int i = 0; i < tr; i++) {
        LLVMValueRef x = cg_splat(g, cg_load(g, vbase, cg_add(g, cg_i64(g, i * W->vrow), ic.iv)), g->vf);
        for (int b = 0; b < jb; b++)
            cg_set(g, acc[i * jb + b], cg_fmuladd(g, x, uv[b], cg_get(g, acc[i * jb + b])));
    }
    cg_loop_end_rolled(g, &ic);
    for (int i = 0; i < tr; i++)
        for (int b = 0; b < jb; b++)
            store_vec(g, cg_get(g, acc[i * jb + b]), cg_gep(g, mrow[i], cg_i64(g, b * LANES)), 4);
}

/* p outermost: V[p] of the unit (ntp x Cin) stays in L2 while every
 * sub-block reads it; each U[sb][p] panel is read once per unit. */
static void chan_gemm(Wino *W, LLVMValueRef nsb)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    int64_t passes = P->ntp / P->tr, panel = W->cin * P->j;
    int64_t pf_step = ceil_div(panel, passes * W->cin);
    CgLoop p = cg_loop(g, cg_i64(g, 0), cg_i64(g, NP), "cp");
    CgLoop s = cg_loop(g, cg_i64(g, 0), nsb, "csb");
    /* the next panel of U in this loop order, U[sb0 + s + 1][p] or U[sb0][p + 1],
       prefetched while the tiles' passes read this one */
    LLVMValueRef last = LLVMBuildICmp(g->b, LLVMIntEQ, cg_add(g, s.iv, cg_i64(g, 1)), nsb, "");
    LLVMValueRef np = LLVMBuildSelect(g->b, last, cg_add(g, p.iv, cg_i64(g, 1)), p.iv, "");
    LLVMValueRef ns = LLVMBuildSelect(g->b, last, cg_i64(g, 0), cg_add(g, s.iv, cg_i64(g, 1)), "");
    LLVMValueRef next = cg_gep(g, W->u, cg_mul(g, cg_add(g, cg_mul(g, cg_add(g, W->sb0, ns), cg_i64(g, NP)), np), cg_i64(g, panel)));
    CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, passes), "ctiles");
    LLVMValueRef pf = cg_gep(g, next, cg_mul(g, t.iv, cg_i64(g, W->cin * pf_step)));
    chan_gemm_tile(W, p.iv, s.iv, cg_mul(g, t.iv, cg_i64(g, P->tr)), cg_i64(g, 0), cg_i64(g, W->cin),
                   LLVMConstInt(g->i1, 1, 0), pf, pf_step);
    cg_loop_end(g, &t);
    cg_loop_end(g, &s);
    cg_loop_end(g, &p);
}

/* per_run: for each sub-block of the unit and each chunk of U_CHUNK input
 * channels, U of the chunk into the item's slice, [36][chunk][j] (the 9
 * taps of 16 output channels loaded as vectors from the parameter, U =
 * G w G^T in float), then the chunk's part of the 36 GEMMs: the chunk's U
 * stays in L2 between the two, and the GEMMs prefetch the next chunk's
 * weights. Keeping T = G w (18 values, in double) instead was 1.1-1.2x
 * slower at 16 x 16 and 32 x 32 (512 -> 1024 and 1024 -> 512 channels):
 * U's arithmetic is cheap, streaming twice the bytes from memory is not. */
static void chan_gemm_per_run(Wino *W, LLVMValueRef nsb)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    CgLoop s = cg_loop(g, cg_i64(g, 0), nsb, "usb");
    LLVMValueRef wb = cg_gep(g, W->k->p[0], cg_mul(g, cg_add(g, W->sb0, s.iv), cg_i64(g, W->cin * TAPS * P->j)));
    CgLoop c = cg_loop(g, cg_i64(g, 0), cg_i64(g, ceil_div(W->cin, U_CHUNK)), "uchunk");
    LLVMValueRef ic0 = cg_mul(g, c.iv, cg_i64(g, U_CHUNK));
    LLVMValueRef icn = min_i64(g, cg_i64(g, U_CHUNK), cg_sub(g, cg_i64(g, W->cin), ic0));
    CgLoop ic = cg_loop(g, cg_i64(g, 0), icn, "uic");
    CgLoop b = cg_loop(g, cg_i64(g, 0), cg_i64(g, P->jb), "ub");
    LLVMValueRef col = cg_mul(g, b.iv, cg_i64(g, LANES));
    LLVMValueRef wrow = cg_gep(g, wb, cg_add(g, cg_mul(g, cg_add(g, ic0, ic.iv), cg_i64(g, TAPS * P->j)), col));
    LLVMValueRef w[TAPS], gw[ALPHA][3], u[NP];
    for (int a = 0; a < TAPS; a++)
        w[a] = load_vec(g, cg_gep(g, wrow, cg_i64(g, a * P->j)), 4);
    g_rows(g, g->vf, w, gw);
    g_cols(g, g->vf, gw, u);
    for (int p = 0; p < NP; p++) {
        LLVMValueRef at = cg_add(g, cg_add(g, cg_mul(g, cg_i64(g, p), u_panel(g, P, W->cin, icn)), cg_mul(g, ic.iv, cg_i64(g, P->j))), col);
        store_vec(g, u[p], cg_gep(g, W->u, at), 4);
    }
    cg_loop_end_rolled(g, &b);
    cg_loop_end_rolled(g, &ic);
    LLVMValueRef first = LLVMBuildICmp(g->b, LLVMIntEQ, c.iv, cg_i64(g, 0), "");
    CgLoop p = cg_loop(g, cg_i64(g, 0), cg_i64(g, NP), "up");
    /* the next chunk's weights (the next sub-block's first after the last)
       stream from memory while the FMAs run: one prefetch per input channel
       of every register tile's loop, pf_step floats apart, spread over the
       whole chunk (passes x U_CHUNK iterations at each of the 36 positions) */
    int64_t passes = P->ntp / P->tr, pf_step = ceil_div((int64_t)TAPS * P->j, (int64_t)NP * passes);
    LLVMValueRef next = cg_gep(g, wb, cg_mul(g, cg_add(g, ic0, icn), cg_i64(g, TAPS * P->j)));
    CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, passes), "utiles");
    LLVMValueRef q0 = cg_mul(g, cg_add(g, cg_mul(g, p.iv, cg_i64(g, passes)), t.iv), cg_i64(g, U_CHUNK * pf_step));
    chan_gemm_tile(W, p.iv, s.iv, cg_mul(g, t.iv, cg_i64(g, P->tr)), ic0, icn, first, cg_gep(g, next, q0), pf_step);
    cg_loop_end(g, &t);
    cg_loop_end(g, &p);
    cg_loop_end(g, &c);
    cg_loop_end(g, &s);
}

/* Output block sb0 * jb + b, tile t: A^T M A + bias, activation, the
 * padding channels of the last block 0, the pixels inside the output stored. */
static void chan_output(Wino *W, LLVMValueRef t, LLVMValueRef b)
{
    Cg *g = W->k->g;
    const IrNode *n = W->k->n;
    LLVMValueRef ob = cg_add(g, cg_mul(g, W->sb0, cg_i64(g, W->P.jb)), b), oc0 = cg_mul(g, ob, cg_i64(g, LANES));
    LLVMValueRef m[ALPHA][ALPHA], s[TILE][ALPHA], h0, w0;
    for (int a = 0; a < ALPHA; a++)
        for (int c = 0; c < ALPHA; c++) {
            LLVMValueRef at = cg_add(g, chan_row(g, a * ALPHA + c, W->mpanel, t, W->mrow), cg_mul(g, b, cg_i64(g, LANES)));
            m[c][a] = load_vec(g, cg_gep(g, W->mbuf, at), 4);
        }
    for (int c = 0; c < ALPHA; c++) {
        LLVMValueRef r[TILE];
        output_1d(g, m[c], r);
        for (int i = 0; i < TILE; i++)
            s[i][c] = r[i];
    }
    LLVMValueRef live = cg_lane_mask(g, oc0, W->cout);
    LLVMValueRef bias = n->bias >= 0 ? cg_masked_load(g, cg_gep(g, W->k->p[1], oc0), live) : NULL;
    tile_origin(W, t, &h0, &w0);
    for (int i = 0; i < TILE; i++) {
        LLVMValueRef o[TILE], h = cg_add(g, h0, cg_i64(g, i));
        LLVMValueRef okh = clamp_in(g, &h, W->oh);
        output_1d(g, s[i], o);
        for (int c = 0; c < TILE; c++) {
            LLVMValueRef w = cg_add(g, w0, cg_i64(g, c));
            LLVMValueRef ok = LLVMBuildAnd(g->b, okh, clamp_in(g, &w, W->ow), "");
            LLVMValueRef at = pixel(g, W->k->out, W->k->y, ob, h, w), okv = cg_splat(g, ok, g->vi1);
            LLVMValueRef v = bias ? fadd(g, o[c], bias) : o[c], res = cg_residual(W->k, at);
            if (res) /* a fused residual, laid out as the output */
                v = fadd(g, v, cg_masked_load(g, res, okv));
            v = cg_act(g, n, v);
            if (W->cout % LANES)
                v = LLVMBuildSelect(g->b, live, v, LLVMConstNull(g->vf), "");
            cg_masked_store(g, v, at, okv);
        }
    }
}

/* One unit: tiles [t0, t0 + nt) x sub-blocks [sb0, sb0 + nsb) */
static void chan_unit(Wino *W, LLVMValueRef rb, LLVMValueRef sb0, LLVMValueRef nsb)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    W->t0 = cg_mul(g, rb, cg_i64(g, P->ntp));
    W->nt = min_i64(g, cg_i64(g, P->ntp), cg_sub(g, cg_i64(g, P->th * P->tw), W->t0));
    W->sb0 = sb0;
    loop2(W, cg_i64(g, P->ntp), cg_i64(g, W->cinp / LANES), chan_input);
    if (P->per_run)
        chan_gemm_per_run(W, nsb);
    else
        chan_gemm(W, nsb);
    LLVMValueRef blocks = min_i64(g, cg_mul(g, nsb, cg_i64(g, P->jb)),
                                  cg_sub(g, cg_i64(g, ceil_div(W->cout, LANES)), cg_mul(g, sb0, cg_i64(g, P->jb))));
    loop2(W, W->nt, blocks, chan_output);
}

/* One unit: the input transform of a row block, then the GEMMs and the
 * output transform of a block of output channels. */
static void emit_unit(Wino *W, LLVMValueRef unit)
{
    Cg *g = W->k->g;
    const WinoPlan *P = &W->P;
    LLVMValueRef rb = cg_div(g, unit, cg_i64(g, P->co_blocks)), cb = cg_rem(g, unit, cg_i64(g, P->co_blocks));
    LLVMValueRef sb0 = cg_mul(g, cb, cg_i64(g, P->sub_per_item));
    LLVMValueRef nsb = min_i64(g, cg_i64(g, P->sub_per_item), cg_sub(g, cg_i64(g, P->nsub), sb0));
    if (P->chan) {
        chan_unit(W, rb, sb0, nsb);
        return;
    }
    W->th0 = cg_mul(g, rb, cg_i64(g, P->rows));
    LLVMValueRef nrows = min_i64(g, cg_i64(g, P->rows), cg_sub(g, cg_i64(g, P->th), W->th0));
    zero_tail(W, cg_mul(g, nrows, cg_i64(g, P->tw)));
    input_transform(W, nrows);
    gemm(W, sb0, nsb);
    output_transform(W, sb0, nsb, nrows);
    LLVMBasicBlockRef merge;
    cg_if(g, LLVMBuildICmp(g->b, LLVMIntEQ, cb, cg_i64(g, P->co_blocks - 1), ""), &merge);
    zero_padding_channels(W, nrows);
    cg_if_end(g, merge);
}

/* item r runs units [r * units_per_item, ...); unit = row_block * co_blocks + co_block,
 * so the units of an item share input rows */
static void emit_winograd(CgKernel *k)
{
    Cg *g = k->g;
    const IrModule *m = g->m;
    const IrNode *n = k->n;
    const IrTensor *in = k->in[0], *o = k->out;
    Wino W = {.k = k, .P = wino_plan(m, n), .cin = in->c, .cout = o->c, .ih = in->h, .iw = in->w,
              .oh = o->h, .ow = o->w, .pt = n->geom.pad_begin[0], .pl = n->geom.pad_begin[1]};
    const WinoPlan *P = &W.P;
    W.cbp = P->sub_per_item * P->j;
    W.in_blocked = in->layout == LAYOUT_NCHW16C;
    W.out_blocked = o->layout == LAYOUT_NCHW16C;
    W.v = cg_gep(g, k->scratch, cg_mul(g, k->r, cg_i64(g, slice_floats(m, n, P))));
    W.cinp = v_channels(m, n, P);
    W.vrow = row_stride(P, W.cinp);
    W.mrow = row_stride(P, W.cbp);
    W.vpanel = pad_stride(P->ntp * W.vrow);
    W.mpanel = pad_stride(P->ntp * W.mrow);
    W.mbuf = cg_gep(g, W.v, cg_i64(g, (int64_t)NP * W.vpanel));
    W.u = P->per_run ? cg_gep(g, W.mbuf, cg_i64(g, (int64_t)NP * W.mpanel)) : k->p[0];
    LLVMValueRef first = cg_mul(g, k->r, cg_i64(g, P->units_per_item));
    LLVMValueRef count = min_i64(g, cg_i64(g, P->units_per_item), cg_sub(g, cg_i64(g, P->row_blocks * P->co_blocks), first));
    CgLoop u = cg_loop(g, cg_i64(g, 0), count, "unit");
    emit_unit(&W, cg_add(g, first, u.iv));
    cg_loop_end(g, &u);
}

/* Workspace: one slice per item. */
static int64_t wino_scratch(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    WinoPlan P = wino_plan(m, n);
    return P.items * slice_floats(m, n, &P);
}

/* The node reads U, a derived parameter [nsub][36][Cin][j] that the prepare
 * step PREPARE_WINOGRAD_WEIGHTS writes from its weight at load time (per_run:
 * the weight reordered, [nsub][Cin][9][j], a quarter of U's size). */
static void wino_prepare(const CgTarget *t, IrModule *m, int i)
{
    WinoPlan P = wino_plan(m, &m->nodes[i]);
    int64_t dims[1] = {P.nsub * kept_values(&P) * m->tensors[m->nodes[i].in[0]].c * P.j};
    const char *name = ir_strcat(m->params[m->nodes[i].weight].name, "", ".winograd");
    int u = ir_add_derived(m, name, 1, dims);
    IrPrepare *s = ir_add_prepare(m, PREPARE_WINOGRAD_WEIGHTS, name, i);
    s->nout = 1, s->nin = 1;
    s->params[0] = u, s->params[1] = m->nodes[i].weight;
    m->nodes[i].weight = u;
}

const CgLowering cg_lower_conv_winograd = {.applies = wino_applies, .work = wino_work, .scratch = wino_scratch,
                                           .emit = emit_winograd, .prepare = wino_prepare};

/* ---- the prepare step: one item per sub-block of j output channels ---- */

static int64_t weights_work(const Cg *g, const IrPrepare *p)
{
    return wino_plan(g->m, &g->m->nodes[p->node]).nsub;
}

/* params: 0 U (written), 1 the conv's weight [Cout, Cin, 3, 3] */
static void weights_body(CgPrepare *k)
{
    Cg *g = k->g;
    const IrNode *n = &g->m->nodes[k->p->node];
    WinoPlan P = wino_plan(g->m, n);
    int64_t block = kept_values(&P) * g->m->tensors[n->in[0]].c * P.j;
    LLVMValueRef dst = cg_gep(g, k->param[0], cg_mul(g, k->r, cg_i64(g, block)));
    emit_weight_block(g, g->m, n, &P, k->param[1], dst, k->r);
}

const CgPrepareLowering cg_prepare_winograd_weights = {.work = weights_work, .emit = weights_body};
