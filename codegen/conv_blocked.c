/*
 * conv_blocked.c - conv2d on blocked channels (nChw16c with AVX-512,
 * nChw8c with AVX2): a register tile of output-channel blocks x output
 * pixels.
 *
 * The output is [OCB][OH][OW][B] (B = vec channels per block); the input is
 * blocked the same way, or NCHW for a first layer with a few channels (then
 * it reads as blocks of one channel). The weights are packed at load time
 * (a PREPARE_PACK_BLOCKED step) to [OCB][ICB][KH][KW][BI][B], so for one
 * input channel and one tap the B output channels of a block are one vector.
 *
 * One work item is a group of nb output-channel blocks on one output row,
 * or on `rows` consecutive rows when the layer's weights are too large to
 * stay in cache from one row to the next (og_major): each chunk of input
 * blocks then serves every row of the item before the next chunk, so the
 * weights stream from memory once per `rows` rows, not once per row, and
 * each row prefetches its share of the next chunk's weights into L2
 * (prefetch_next_chunk).
 * The row is covered by tiles of t output pixels; for a tile the nb x t
 * accumulators (vectors of B output channels) stay in registers while
 *
 *   acc[j][u] += splat(x[icb][ih][(ow0 + u)*S + kw*D - P][icl]) * w[ob0 + j][icb][kh][kw][icl][:]
 *
 * runs over icb, kh (a row outside the image is skipped as a whole), kw and
 * icl, all loops kept rolled (llvm.loop.unroll.disable): per icl step nb
 * weight loads, t broadcasts (embedded in the FMA) and nb*t FMAs. Only the
 * tile is unrolled. Bias starts the accumulators; the activation is applied
 * at the store. The input blocks run in chunks whose weights stay in L1
 * across the row's tiles, or, when a group's weights fit in L2 (a 3x3 layer
 * of up to 128 channels at nb = 4), all in one pass, each weight load
 * prefetching a few steps ahead (as oneDNN's brgemm kernels do).
 *
 * Padding costs no masks: the pixels whose every tap lies inside the row
 * (the interior) are covered by tiles in a loop with no checks; the pixels
 * before and after it, and the interior's remainder that fills no whole tile,
 * are tiles at compile-time positions with kw unrolled, where each pixel's
 * out-of-row taps are left out when the code is emitted. When fewer than t
 * pixels precede the interior, the first such tile takes interior pixels to
 * be whole. An odd width costs a tile of the remainder's size, not a whole
 * one.
 *
 * A strided conv writing a network output (NCHW) from blocked input runs
 * the same code on a workspace slice per item, [nb][rows][OW][B], and
 * finally transposes it into the output B x B at a time (shuffles in
 * registers), adding the residual and applying the activation on the way:
 * no reorder node and no second pass over the output.
 *
 * The summation order differs from the reference loops (blocks of input
 * channels, then kh, kw, then the channel within the block), so results
 * match PyTorch within rounding, not the reference bit for bit. Every
 * output pixel is computed by one tile of one item, whatever the threads.
 */
#include "codegen/cg_internal.h"

enum { MAX_LANES = 16, MAX_ACC = 32, MAX_STATIC_TILES = 48, MAX_KW = 16, ITEM_BYTES = 512 << 10, MIN_ITEMS = 4,
       L2_GROUP = 512 << 10, PF_AHEAD = 64 };

/* The register tile and the order of the work items. */
typedef struct {
    int nb, t;      /* output-channel blocks x output pixels */
    int og_major;   /* items ordered by channel group first: a group's weights
                       stay in cache across the rows */
    int64_t icc;    /* input blocks per chunk: the chunk's weights stay in L1
                       while every tile of the row uses them */
    int64_t pf;     /* 0, or how far ahead (floats) each weight load prefetches:
                       the tiles stream a group's weights from L2 */
    int64_t rows;   /* output rows per item: 1, or more when og_major */
} BlockedTile;

/* The output pixels whose every tap lies inside the input row: [lo, hi). */
static void interior(const IrNode *n, const IrTensor *in, const IrTensor *out, int64_t *lo, int64_t *hi)
{
    const IrGeom *l = &n->geom;
    int64_t s = l->stride[1], p = l->pad_begin[1], last = in->w - 1 + p - (l->kernel[1] - 1) * l->dilation[1];
    *lo = (p + s - 1) / s;
    *hi = last < 0 ? 0 : last / s + 1;
    if (*lo > out->w)
        *lo = out->w;
    if (*hi > out->w)
        *hi = out->w;
    if (*hi < *lo)
        *hi = *lo;
}

/* The accumulators and the nb weight vectors of a step fill the register
 * file: 30 of 32 with AVX-512 (the broadcast is embedded in the FMA): 4 x 6,
 * 3 x 9, 2 x 14; 16 with AVX2, where the broadcast takes one more: 3 x 4,
 * 2 x 6 (4 x 2 would load a weight per two FMAs). nb is the first of the
 * list dividing the output blocks; t no wider than the row. */
static BlockedTile blocked_tile(int vec, const IrModule *m, const IrNode *n)
{
    static const int nbs512[] = {4, 3, 2, 1}, nbs256[] = {3, 2, 1, 1};
    const int *nbs = vec == 16 ? nbs512 : nbs256;
    const IrTensor *in = &m->tensors[n->in[0]], *o = &m->tensors[n->out];
    int64_t ocb = (o->c + vec - 1) / vec;
    int regs = vec == 16 ? 30 : 15;
    BlockedTile bt = {.nb = 1};
    for (int i = 0; i < 4; i++) {
        if (ocb % nbs[i] == 0) {
            bt.nb = nbs[i];
            break;
        }
    }
    bt.t = (regs - bt.nb) / bt.nb;
    if (bt.t > MAX_ACC / bt.nb)
        bt.t = MAX_ACC / bt.nb;
    if (bt.t > o->w)
        bt.t = (int)o->w;
    /* weights of the whole layer larger than about half of L2: item order by group */
    int64_t wbytes = ocb * vec * in->c * n->geom.kernel[0] * n->geom.kernel[1] * 4;
    bt.og_major = wbytes > (1 << 20);
    bt.rows = 1;
    if (bt.og_major) {
        /* as many rows as keep the item's partial sums within ITEM_BYTES (in
           L2), in row blocks of about equal height; more blocks while the
           layer has fewer than MIN_ITEMS items */
        int64_t most = ITEM_BYTES / (o->w * bt.nb * vec * 4);
        if (most < 1)
            most = 1;
        int64_t nrb = (o->h + most - 1) / most;
        while (nrb < o->h && ocb / bt.nb * nrb < MIN_ITEMS)
            nrb++;
        bt.rows = (o->h + nrb - 1) / nrb;
    }
    /* weights of one input block: bi channels (1 for an NCHW input: a first layer's 3 channels
       are one chunk, not three) */
    int64_t bi = ir_layout_block(in->layout);
    int64_t chunk_bytes = (int64_t)bt.nb * vec * bi * n->geom.kernel[0] * n->geom.kernel[1] * 4;
    bt.icc = (24 << 10) / chunk_bytes;
    if (bt.icc < 1)
        bt.icc = 1;
    /* A group's weights within L2_GROUP: every tile runs all input blocks and
       streams them from L2, prefetching PF_AHEAD floats ahead. Chunks kept in
       L1 cost a pass over the row per chunk and share L1 with KH input rows
       (64 -> 64 at 256 x 256: 3 rows of 64 KB): 3-7% slower at 64 and 128
       channels, the same at 256 (A/B on the Xeon, 1 and 2 threads). */
    int64_t icb_n = (in->c + bi - 1) / bi;
    if (vec == 16 && !bt.og_major && n->geom.kernel[0] * n->geom.kernel[1] > 1 && chunk_bytes * icb_n <= L2_GROUP) {
        bt.icc = icb_n;
        bt.pf = chunk_bytes * icb_n > (32 << 10) ? PF_AHEAD : 0;
    }
    /* A 1x1 or strided conv whose short rows the tiles would cover with a
       1-pixel remainder (7 = 6 + 1: nb weight loads for nb FMAs, and a
       tile's loop overhead for few FMAs) takes half as many blocks and the
       whole row in one tile. A/B on the Xeon, alternating rounds: ResNet-50's
       7 x 7 1x1 and stride-2 layers 4-17% faster at 1 and 2 threads,
       MobileNetV2's 7 x 7 convs 1-10%, ResNet-18's stride-2 conv 12-17%. Its
       stride-1 3x3 layers on 7 x 7 were 6-9% slower with 2 x 7 (ResNet-50's
       1-4% faster), so those keep 4 x 6 + 4 x 1. The chunks stay as chosen
       for 4 blocks: chunks of twice as many input blocks, as many bytes,
       measured 10% slower on ResNet-50's 7 x 7 1x1 convs. */
    int k1 = n->geom.kernel[0] * n->geom.kernel[1] == 1;
    if (vec == 16 && (k1 || n->geom.stride[1] > 1) && bt.nb == 4 && o->w > 1 && o->w % bt.t == 1 &&
        2 * o->w + 2 <= regs) {
        bt.nb = 2;
        bt.t = (int)o->w;
    }
    return bt;
}

/* Where the interior loop's tiles of t pixels start: the interior's first
 * pixel, or t when fewer than t pixels lie before the interior: the first
 * compile-time tile then takes interior pixels to be whole rather than
 * of a pixel or two (a 1-pixel tile runs nb FMAs per nb weight loads). */
static int64_t loop_start(int64_t lo, int64_t hi, int t)
{
    return lo > 0 && lo < t && hi >= t ? t : lo;
}

/* Tiles at compile-time positions: the pixels before the interior loop
 * and after its whole tiles, t at a time. */
static int64_t static_tiles(const IrNode *n, const IrTensor *in, const IrTensor *out, int t)
{
    int64_t lo, hi;
    interior(n, in, out, &lo, &hi);
    lo = loop_start(lo, hi, t);
    int64_t rest = out->w - lo - (hi - lo) / t * t;
    return (lo + t - 1) / t + (rest + t - 1) / t;
}

/* conv2d, groups 1, its code of bounded size, at most a quarter of its
 * output lanes padding (8 channels would compute 16 with AVX-512: the NCHW
 * tiled kernel does less work there). */
static int blocked_fits(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    if (n->kind != IR_CONV || n->geom.groups != 1 || n->geom.kernel[1] > MAX_KW)
        return 0;
    const IrTensor *in = &m->tensors[n->in[0]], *out = &m->tensors[n->out];
    int64_t padded = (out->c + t->vec - 1) / t->vec * t->vec;
    if (in->rank != 3 || out->rank != 3 || (padded - out->c) * 4 > padded)
        return 0;
    BlockedTile bt = blocked_tile(t->vec, m, n);
    return static_tiles(n, in, out, bt.t) <= MAX_STATIC_TILES;
}

static IrLayout blocked_of(int vec) { return vec == 16 ? LAYOUT_NCHW16C : LAYOUT_NCHW8C; }

/* A conv writing a network output (NCHW) from blocked input channels: the
 * rows are summed blocked in the item's workspace and transposed into the
 * output at the end. Taken where the NCHW tiled kernel is slow: a stride
 * above 1 (its vectors along the row load strided pixels); at stride 1 it
 * was as fast (net2, net3, net5, net6 of the tutorial). The activation must
 * work on vectors. */
static int nchw_out_fits(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    return m->tensors[n->out].is_output && m->tensors[n->in[0]].c > 4 && n->geom.stride[1] > 1 &&
           cg_vector_act(n->act) && blocked_fits(t, m, n);
}

IrLayout cg_blocked_layout(const CgTarget *t, const IrModule *m, const IrNode *n, int input)
{
    if (!blocked_fits(t, m, n))
        return LAYOUT_NCHW;
    if (input >= 0 && m->tensors[n->in[input]].c <= 4) /* a first layer: read the image as it is */
        return LAYOUT_NCHW;
    if (input >= 0 && m->tensors[n->out].layout == LAYOUT_NCHW && !nchw_out_fits(t, m, n))
        return LAYOUT_NCHW;
    return blocked_of(t->vec);
}

static int blocked_applies(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    if (!blocked_fits(t, m, n))
        return 0;
    IrLayout in = m->tensors[n->in[0]].layout, out = m->tensors[n->out].layout;
    if (out == LAYOUT_NCHW)
        return in == blocked_of(t->vec) && nchw_out_fits(t, m, n);
    return out == blocked_of(t->vec) && (in == LAYOUT_NCHW || in == blocked_of(t->vec));
}

/* The weights packed for the kernel: a derived parameter written once
 * after loading by a PREPARE_PACK_BLOCKED step; the node reads it. A
 * transposed conv's weight is [I, O, KH, KW] (conv_t_blocked.c). */
void cg_blocked_prepare(const CgTarget *t, IrModule *m, int i)
{
    IrNode *n = &m->nodes[i];
    IrParam w = m->params[n->weight]; /* a copy: ir_add_derived may move m->params */
    int tr = n->kind == IR_CONV_T;
    /* output blocks of vec channels, also for an NCHW output (summed blocked) */
    int64_t bo = t->vec, bi = ir_layout_block(m->tensors[n->in[0]].layout);
    int64_t dims[4] = {(w.dims[tr] + bo - 1) / bo * bo, (w.dims[!tr] + bi - 1) / bi * bi, w.dims[2], w.dims[3]};
    int packed = ir_add_derived(m, ir_strcat(w.name, "", ".packed"), 4, dims);
    IrPrepare *p = ir_add_prepare(m, PREPARE_PACK_BLOCKED, ir_strcat(w.name, "", ".pack"), i);
    p->nout = 1;
    p->nin = 1;
    p->params[0] = packed;
    p->params[1] = m->nodes[i].weight;
    m->nodes[i].weight = packed;
}

/* One item per (output block, input block): KH*KW*BI vectors of BO
 * output channels,
 *   packed[ob][ib][k][i][o] = w[ob*BO + o][ib*BI + i][k]  (0 past O or I)
 * (w[ib*BI + i][ob*BO + o][k] for a transposed conv) */
static int64_t pack_work(const Cg *g, const IrPrepare *p)
{
    const IrParam *d = &g->m->params[p->params[0]];
    const IrNode *n = &g->m->nodes[p->node];
    return d->dims[0] / g->vec * (d->dims[1] / ir_layout_block(g->m->tensors[n->in[0]].layout));
}

static void pack_body(CgPrepare *k)
{
    Cg *g = k->g;
    const IrModule *m = g->m;
    const IrNode *n = &m->nodes[k->p->node];
    const IrParam *d = &m->params[k->p->params[0]], *w = &m->params[k->p->params[1]];
    int64_t bo = g->vec, bi = ir_layout_block(m->tensors[n->in[0]].layout);
    int tr = n->kind == IR_CONV_T;
    int64_t co = w->dims[tr], ci = w->dims[!tr], kk = w->dims[2] * w->dims[3], nib = d->dims[1] / bi;
    LLVMValueRef ob = cg_div(g, k->r, cg_i64(g, nib)), ib = cg_rem(g, k->r, cg_i64(g, nib));
    LLVMValueRef out = cg_gep(g, k->param[0], cg_mul(g, k->r, cg_i64(g, kk * bi * bo)));
    CgLoop t = cg_loop(g, cg_i64(g, 0), cg_i64(g, kk), "k");
    CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, bi), "i");
    LLVMValueRef ic = cg_add(g, cg_mul(g, ib, cg_i64(g, bi)), i.iv);
    CgLoop o = cg_loop(g, cg_i64(g, 0), cg_i64(g, bo), "o");
    LLVMValueRef oc = cg_add(g, cg_mul(g, ob, cg_i64(g, bo)), o.iv);
    LLVMValueRef real = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, oc, cg_i64(g, co), ""),
                                     LLVMBuildICmp(g->b, LLVMIntSLT, ic, cg_i64(g, ci), ""), "");
    LLVMValueRef src = tr ? cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, ic, cg_i64(g, co)), oc), cg_i64(g, kk)), t.iv)
                          : cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, ci)), ic), cg_i64(g, kk)), t.iv);
    LLVMValueRef v = cg_load(g, k->param[1], LLVMBuildSelect(g->b, real, src, cg_i64(g, 0), ""));
    LLVMValueRef at = cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, t.iv, cg_i64(g, bi)), i.iv), cg_i64(g, bo)), o.iv);
    cg_store(g, out, at, LLVMBuildSelect(g->b, real, v, cg_f32(g, 0.0), ""));
    cg_loop_end(g, &o);
    cg_loop_end(g, &i);
    cg_loop_end(g, &t);
}

const CgPrepareLowering cg_prepare_pack_blocked = {.work = pack_work, .emit = pack_body};

static int64_t blocked_work(const Cg *g, const IrNode *n);

/* NCHW output: per item, its nb blocks x rows of the output, blocked:
 * [nb][rows][W][B] */
static int64_t item_floats(int vec, const IrModule *m, const IrNode *n)
{
    const IrTensor *o = &m->tensors[n->out];
    BlockedTile bt = blocked_tile(vec, m, n);
    return bt.nb * bt.rows * o->w * vec;
}

static int64_t blocked_scratch(const CgTarget *t, const IrModule *m, const IrNode *n)
{
    if (m->tensors[n->out].layout != LAYOUT_NCHW)
        return 0;
    Cg g = {.m = m, .vec = t->vec};
    return item_floats(t->vec, m, n) * blocked_work(&g, n);
}

static int64_t blocked_work(const Cg *g, const IrNode *n)
{
    const IrTensor *o = &g->m->tensors[n->out];
    BlockedTile bt = blocked_tile(g->vec, g->m, n);
    return (o->c + g->vec - 1) / g->vec / bt.nb * ((o->h + bt.rows - 1) / bt.rows);
}

/* Everything the code of one item needs. */
typedef struct {
    Cg *g;
    const IrNode *n;
    const IrTensor *in, *out;
    BlockedTile tile;
    int64_t bi, bo, icb_n;      /* channels per input / output block; input blocks */
    LLVMValueRef x, w, y, bias; /* bias: NULL if none */
    LLVMValueRef rows;          /* NULL, or the item's blocked rows ([nb][rows][W][B]) when
                                   the output is NCHW */
    LLVMValueRef ob0, oh;       /* first output block, output row */
    LLVMValueRef oh0, oh1;      /* the item's output rows: [oh0, oh1) */
    LLVMValueRef acc[MAX_ACC];  /* allocas, [j * t + u] */
    CgKernel *k;
    LLVMValueRef init[4];       /* each block's bias vector (or 0) */
    int from_bias, finish;      /* the current pass over the row is the first (tiles start
                                   from the bias, not the row) / the last (tiles store the
                                   finished value: residual added, activation applied) */
} Item;

/* One kw tap over icl in [0, nicl) for the pixels of the tile that are
 * live: nb weight vectors, then per live pixel a broadcast and nb FMAs. */
static void tap(Item *I, LLVMValueRef xrow, LLVMValueRef wk[], LLVMValueRef ow0, LLVMValueRef kw, int cnt,
                const int *live, int64_t nicl)
{
    Cg *g = I->g;
    const IrGeom *l = &I->n->geom;
    int nb = I->tile.nb, t = I->tile.t;
    CgLoop icl = cg_loop(g, cg_i64(g, 0), cg_i64(g, nicl), "icl");
    LLVMValueRef wv[4];
    LLVMValueRef woff = cg_mul(g, cg_add(g, cg_mul(g, kw, cg_i64(g, I->bi)), icl.iv), cg_i64(g, I->bo));
    for (int j = 0; j < nb; j++)
        wv[j] = LLVMBuildLoad2(g->b, g->vf, cg_gep(g, wk[j], woff), "");
    if (I->tile.pf)
        for (int j = 0; j < nb; j++)
            cg_prefetch(g, cg_gep(g, wk[j], cg_add(g, woff, cg_i64(g, I->tile.pf))));
    /* input column of pixel 0 at this tap */
    LLVMValueRef col0 = cg_add(g, cg_mul(g, ow0, cg_i64(g, l->stride[1])),
                               cg_sub(g, cg_mul(g, kw, cg_i64(g, l->dilation[1])), cg_i64(g, l->pad_begin[1])));
    for (int u = 0; u < cnt; u++) {
        if (!live[u])
            continue;
        LLVMValueRef col = cg_add(g, col0, cg_i64(g, u * l->stride[1]));
        LLVMValueRef xs = cg_splat(g, cg_load(g, xrow, cg_add(g, cg_mul(g, col, cg_i64(g, I->bi)), icl.iv)), g->vf);
        for (int j = 0; j < nb; j++) {
            LLVMValueRef a = I->acc[j * t + u];
            cg_set(g, a, cg_fmuladd(g, xs, wv[j], cg_get(g, a)));
        }
    }
    cg_loop_end_rolled(g, &icl);
}

/* The taps of input block icb (nicl channels of it) for the tile at ow0:
 * kh a loop; kw a loop when the tile is in the interior (ow0c < 0: a run-time
 * position), else unrolled with each pixel's taps outside the row left out. */
static void block_taps(Item *I, LLVMValueRef icb, int64_t nicl, LLVMValueRef ow0, int64_t ow0c, int cnt)
{
    Cg *g = I->g;
    const IrGeom *l = &I->n->geom;
    const IrTensor *in = I->in;
    int64_t kh_n = l->kernel[0], kw_n = l->kernel[1];
    CgLoop kh = cg_loop(g, cg_i64(g, 0), cg_i64(g, kh_n), "kh");
    LLVMValueRef ih = cg_add(g, cg_sub(g, cg_mul(g, I->oh, cg_i64(g, l->stride[0])), cg_i64(g, l->pad_begin[0])),
                             cg_mul(g, kh.iv, cg_i64(g, l->dilation[0])));
    LLVMBasicBlockRef merge;
    cg_if(g, cg_in_range(g, ih, in->h), &merge);
    LLVMValueRef xrow = cg_gep(g, I->x, cg_mul(g, cg_add(g, cg_mul(g, icb, cg_i64(g, in->h)), ih), cg_i64(g, in->w * I->bi)));
    LLVMValueRef wk[4];
    for (int j = 0; j < I->tile.nb; j++) {
        /* w[ob0 + j][icb][kh][0][0][0] */
        LLVMValueRef ob = cg_add(g, I->ob0, cg_i64(g, j));
        LLVMValueRef blk = cg_add(g, cg_mul(g, cg_add(g, cg_mul(g, ob, cg_i64(g, I->icb_n)), icb), cg_i64(g, kh_n)), kh.iv);
        wk[j] = cg_gep(g, I->w, cg_mul(g, blk, cg_i64(g, kw_n * I->bi * I->bo)));
    }
    int live[MAX_ACC];
    if (ow0c < 0) {
        for (int u = 0; u < cnt; u++)
            live[u] = 1;
        CgLoop kw = cg_loop(g, cg_i64(g, 0), cg_i64(g, kw_n), "kw");
        tap(I, xrow, wk, ow0, kw.iv, cnt, live, nicl);
        cg_loop_end_rolled(g, &kw);
    } else {
        for (int64_t kw = 0; kw < kw_n; kw++) {
            int any = 0;
            for (int u = 0; u < cnt; u++) {
                int64_t col = (ow0c + u) * l->stride[1] + kw * l->dilation[1] - l->pad_begin[1];
                live[u] = col >= 0 && col < in->w;
                any |= live[u];
            }
            if (any)
                tap(I, xrow, wk, ow0, cg_i64(g, kw), cnt, live, nicl);
        }
    }
    cg_if_end(g, merge);
    cg_loop_end_rolled(g, &kh);
}

static void static_run(Item *I, int64_t from, int64_t to, LLVMValueRef icb0, LLVMValueRef icb1, int64_t nicl);

/* The address of pixel ow of block j of the item's output row. */
static LLVMValueRef out_at(Item *I, int j, LLVMValueRef ow)
{
    Cg *g = I->g;
    const IrTensor *o = I->out;
    if (I->rows) {
        LLVMValueRef row = cg_add(g, cg_i64(g, j * I->tile.rows), cg_sub(g, I->oh, I->oh0));
        return cg_gep(g, I->rows, cg_mul(g, cg_add(g, cg_mul(g, row, cg_i64(g, o->w)), ow), cg_i64(g, I->bo)));
    }
    LLVMValueRef row = cg_add(g, cg_mul(g, cg_add(g, I->ob0, cg_i64(g, j)), cg_i64(g, o->h)), I->oh);
    return cg_gep(g, I->y, cg_mul(g, cg_add(g, cg_mul(g, row, cg_i64(g, o->w)), ow), cg_i64(g, I->bo)));
}

/* v, the finished sum at `at` of the output: the residual added, the
 * activation applied (ty: a vector, or one float for an activation that
 * runs by element) */
static LLVMValueRef finish_value(Item *I, LLVMTypeRef ty, LLVMValueRef v, LLVMValueRef at)
{
    Cg *g = I->g;
    LLVMValueRef res = cg_residual(I->k, at);
    if (res)
        v = LLVMBuildFAdd(g->b, v, LLVMBuildLoad2(g->b, ty, res, ""), "");
    return cg_act(g, I->n, v);
}

/* One tile of cnt pixels at ow0 (ow0c: its compile-time value, or -1 in
 * the interior loop) over input blocks [icb0, icb1) (nicl channels each):
 * the partial sums from the output row (the bias in the first pass), the
 * taps, back to the row (finished in the last pass). */
static void tile(Item *I, LLVMValueRef ow0, int64_t ow0c, int cnt, LLVMValueRef icb0, LLVMValueRef icb1, int64_t nicl)
{
    Cg *g = I->g;
    int nb = I->tile.nb, t = I->tile.t;
    for (int j = 0; j < nb; j++)
        for (int u = 0; u < cnt; u++)
            cg_set(g, I->acc[j * t + u],
                   I->from_bias ? I->init[j]
                               : LLVMBuildLoad2(g->b, g->vf, out_at(I, j, cg_add(g, ow0, cg_i64(g, u))), ""));
    CgLoop icb = cg_loop(g, icb0, icb1, "icb");
    block_taps(I, icb.iv, nicl, ow0, ow0c, cnt);
    cg_loop_end_rolled(g, &icb);
    for (int j = 0; j < nb; j++)
        for (int u = 0; u < cnt; u++) {
            LLVMValueRef at = out_at(I, j, cg_add(g, ow0, cg_i64(g, u))), v = cg_get(g, I->acc[j * t + u]);
            LLVMBuildStore(g->b, I->finish ? finish_value(I, g->vf, v, at) : v, at);
        }
}

/* Every tile of the row over input blocks [icb0, icb1): the tiles before
 * the interior, the interior's whole tiles in a loop, the rest. */
static void row_tiles(Item *I, LLVMValueRef icb0, LLVMValueRef icb1, int64_t nicl)
{
    Cg *g = I->g;
    int64_t lo, hi, t = I->tile.t;
    interior(I->n, I->in, I->out, &lo, &hi);
    lo = loop_start(lo, hi, (int)t);
    int64_t whole = (hi - lo) / t;
    static_run(I, 0, lo, icb0, icb1, nicl);
    if (whole > 0) {
        CgLoop tl = cg_loop(g, cg_i64(g, 0), cg_i64(g, whole), "tile");
        tile(I, cg_add(g, cg_i64(g, lo), cg_mul(g, tl.iv, cg_i64(g, t))), -1, (int)t, icb0, icb1, nicl);
        cg_loop_end_rolled(g, &tl);
    }
    static_run(I, lo + whole * t, I->out->w, icb0, icb1, nicl);
}

/* Static tiles over pixels [from, to), t at a time. */
static void static_run(Item *I, int64_t from, int64_t to, LLVMValueRef icb0, LLVMValueRef icb1, int64_t nicl)
{
    for (int64_t p = from; p < to; p += I->tile.t) {
        int cnt = (int)(to - p < I->tile.t ? to - p : I->tile.t);
        tile(I, cg_i64(I->g, p), p, cnt, icb0, icb1, nicl);
    }
}

/* for (I->oh = oh0; I->oh < oh1; I->oh++): the item's rows */
static CgLoop rows_loop(Item *I)
{
    CgLoop r = cg_loop(I->g, I->oh0, I->oh1, "row");
    I->oh = r.iv;
    return r;
}

/* v[p] lane c becomes v[c] lane p: one bit of the lane and of the vector
 * index swapped per stage, two-source shuffles. */
static void transpose(Cg *g, LLVMValueRef *v, int n)
{
    LLVMValueRef lo[MAX_LANES], hi[MAX_LANES];
    for (int bit = 1; bit < n; bit <<= 1) {
        for (int l = 0; l < n; l++) {
            /* lane l of the pair's first vector: A[l] or B[l - bit]; of the second: A[l + bit] or B[l] */
            lo[l] = LLVMConstInt(g->i32, (unsigned long long)(l & bit ? n + (l & ~bit) : l), 0);
            hi[l] = LLVMConstInt(g->i32, (unsigned long long)(l & bit ? n + l : l | bit), 0);
        }
        LLVMValueRef mlo = LLVMConstVector(lo, (unsigned)n), mhi = LLVMConstVector(hi, (unsigned)n);
        for (int p = 0; p < n; p++) {
            if (p & bit)
                continue;
            LLVMValueRef a = v[p], b = v[p | bit];
            v[p] = LLVMBuildShuffleVector(g->b, a, b, mlo, "");
            v[p | bit] = LLVMBuildShuffleVector(g->b, a, b, mhi, "");
        }
    }
}

/* The cnt pixels from ow of block j's row (cnt <= B): B vectors of
 * channels, transposed to B vectors of pixels, each channel's with the
 * residual and the activation stored to its NCHW row (masked past cnt;
 * channels past C skipped). */
static void px_block(CgKernel *k, Item *I, int j, LLVMValueRef ow, int cnt)
{
    Cg *g = I->g;
    const IrTensor *o = I->out;
    int B = (int)I->bo;
    LLVMValueRef v[MAX_LANES];
    for (int p = 0; p < B; p++)
        v[p] = p < cnt ? LLVMBuildLoad2(g->b, g->vf, out_at(I, j, cg_add(g, ow, cg_i64(g, p))), "")
                       : LLVMConstNull(g->vf);
    transpose(g, v, B);
    LLVMValueRef mask = cnt < B ? cg_lane_mask(g, ow, o->w) : LLVMConstAllOnes(g->vi1);
    LLVMValueRef c0 = cg_mul(g, cg_add(g, I->ob0, cg_i64(g, j)), cg_i64(g, B));
    for (int c = 0; c < B; c++) {
        LLVMValueRef oc = cg_add(g, c0, cg_i64(g, c));
        LLVMBasicBlockRef merge = NULL;
        if (o->c % B)
            cg_if(g, LLVMBuildICmp(g->b, LLVMIntSLT, oc, cg_i64(g, o->c), ""), &merge);
        LLVMValueRef row = cg_mul(g, cg_add(g, cg_mul(g, oc, cg_i64(g, o->h)), I->oh), cg_i64(g, o->w));
        LLVMValueRef at = cg_gep(g, I->y, cg_add(g, row, ow)), res = cg_residual(k, at), x = v[c];
        if (res)
            x = LLVMBuildFAdd(g->b, x, cg_masked_load(g, res, mask), "");
        cg_masked_store(g, cg_act(g, I->n, x), at, mask);
        if (merge)
            cg_if_end(g, merge);
    }
}

/* NCHW output: the item's finished rows, B pixels of a block at a time. */
static void store_nchw(CgKernel *k, Item *I)
{
    Cg *g = I->g;
    int64_t B = I->bo, whole = I->out->w / B, rest = I->out->w % B;
    CgLoop r = rows_loop(I);
    for (int j = 0; j < I->tile.nb; j++) {
        if (whole > 0) {
            CgLoop v = cg_loop(g, cg_i64(g, 0), cg_i64(g, whole), "px");
            px_block(k, I, j, cg_mul(g, v.iv, cg_i64(g, B)), (int)B);
            cg_loop_end_rolled(g, &v);
        }
        if (rest)
            px_block(k, I, j, cg_i64(g, whole * B), (int)rest);
    }
    cg_loop_end_rolled(g, &r);
}

/* A layer whose weights stream from memory (og_major) reads each chunk's
 * weights from DRAM in the first tile that uses it, which then waits on
 * every line. So each row of the item also prefetches its share of the
 * next chunk's weights into L2 (the item's rows split the lines evenly),
 * and the chunk is there when the rows come back to the first tile.
 * next: the next chunk's first input block; nothing when it is `full`. */
static void prefetch_next_chunk(Item *I, LLVMValueRef next, LLVMValueRef full)
{
    Cg *g = I->g;
    const IrGeom *l = &I->n->geom;
    int64_t block = l->kernel[0] * l->kernel[1] * I->bi * I->bo; /* floats of one [ob][icb] */
    int64_t line = 64 / 4, lines = I->tile.icc * block / line;
    int64_t per_row = (lines + I->tile.rows - 1) / I->tile.rows;
    LLVMBasicBlockRef merge;
    cg_if(g, LLVMBuildICmp(g->b, LLVMIntSLT, next, full, ""), &merge);
    LLVMValueRef lo = cg_mul(g, cg_sub(g, I->oh, I->oh0), cg_i64(g, per_row));
    LLVMValueRef hi = cg_add(g, lo, cg_i64(g, per_row));
    hi = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, hi, cg_i64(g, lines), ""), hi, cg_i64(g, lines), "");
    CgLoop pl = cg_loop(g, lo, hi, "pf");
    for (int j = 0; j < I->tile.nb; j++) {
        LLVMValueRef blk = cg_add(g, cg_mul(g, cg_add(g, I->ob0, cg_i64(g, j)), cg_i64(g, I->icb_n)), next);
        LLVMValueRef at = cg_add(g, cg_mul(g, blk, cg_i64(g, block)), cg_mul(g, pl.iv, cg_i64(g, line)));
        cg_prefetch_l2(g, cg_gep(g, I->w, at));
    }
    cg_loop_end_rolled(g, &pl);
    cg_if_end(g, merge);
}

static void emit_conv_blocked(CgKernel *k)
{
    Cg *g = k->g;
    const IrNode *n = k->n;
    Item I = {.g = g, .n = n, .in = k->in[0], .out = k->out, .tile = blocked_tile(g->vec, g->m, n),
              .x = k->x[0], .w = k->p[0], .y = k->y, .bias = n->bias >= 0 ? k->p[1] : NULL, .k = k};
    const IrTensor *o = I.out;
    I.bi = ir_layout_block(I.in->layout);
    I.bo = g->vec;
    I.icb_n = (I.in->c + I.bi - 1) / I.bi;
    int64_t groups = (o->c + I.bo - 1) / I.bo / I.tile.nb;
    int64_t rows = I.tile.rows, nrb = (o->h + rows - 1) / rows;
    LLVMValueRef og, rb;
    if (I.tile.og_major) {
        og = cg_div(g, k->r, cg_i64(g, nrb));
        rb = cg_rem(g, k->r, cg_i64(g, nrb));
    } else {
        og = cg_rem(g, k->r, cg_i64(g, groups));
        rb = cg_div(g, k->r, cg_i64(g, groups));
    }
    I.ob0 = cg_mul(g, og, cg_i64(g, I.tile.nb));
    I.oh0 = cg_mul(g, rb, cg_i64(g, rows));
    LLVMValueRef end = cg_add(g, I.oh0, cg_i64(g, rows));
    I.oh1 = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, end, cg_i64(g, o->h), ""), end, cg_i64(g, o->h), "");
    if (o->layout == LAYOUT_NCHW)
        I.rows = cg_gep(g, k->scratch, cg_mul(g, k->r, cg_i64(g, item_floats(g->vec, g->m, n))));
    for (int i = 0; i < I.tile.nb * I.tile.t; i++)
        I.acc[i] = cg_var(g, g->vf, NULL);

    /* each block's bias vector: the tiles of the first pass start from it, or every row
       does when that pass is a loop of chunks */
    for (int j = 0; j < I.tile.nb; j++) {
        I.init[j] = LLVMConstNull(g->vf);
        if (I.bias) {
            LLVMValueRef c0 = cg_mul(g, cg_add(g, I.ob0, cg_i64(g, j)), cg_i64(g, I.bo));
            if (o->c % I.bo) {
                I.init[j] = cg_masked_load(g, cg_gep(g, I.bias, c0), cg_lane_mask(g, c0, o->c));
            } else {
                I.init[j] = LLVMBuildLoad2(g->b, g->vf, cg_gep(g, I.bias, c0), "");
                LLVMSetAlignment(I.init[j], 4);
            }
        }
    }
    /* The passes over each row: chunks of icc whole input blocks, then the
       last block's real channels. A pass known at compile time to be the
       first starts its tiles from the bias (no row of bias stored first);
       one known to be the last finishes them (no pass over the finished
       rows), unless the output is an NCHW output's workspace or the
       activation runs by element. */
    int64_t full = I.in->c / I.bi, rem = I.in->c % I.bi, icc = I.tile.icc, nch = (full + icc - 1) / icc;
    int finishes = !I.rows && (n->act == ACT_NONE || cg_vector_act(n->act));
    if (full > 0 && nch > 1) {
        CgLoop r0 = rows_loop(&I);
        for (int j = 0; j < I.tile.nb; j++) {
            CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, o->w), "init");
            LLVMBuildStore(g->b, I.init[j], out_at(&I, j, i.iv));
            cg_loop_end(g, &i);
        }
        cg_loop_end_rolled(g, &r0);
    }
    if (full > 0) {
        I.from_bias = nch == 1;
        I.finish = nch == 1 && rem == 0 && finishes;
        CgLoop ch = cg_loop(g, cg_i64(g, 0), cg_i64(g, nch), "chunk");
        LLVMValueRef icb0 = cg_mul(g, ch.iv, cg_i64(g, icc));
        LLVMValueRef end = cg_add(g, icb0, cg_i64(g, icc));
        LLVMValueRef icb1 = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, end, cg_i64(g, full), ""), end,
                                            cg_i64(g, full), "");
        CgLoop r1 = rows_loop(&I);
        if (I.tile.og_major && nch > 1)
            prefetch_next_chunk(&I, icb1, cg_i64(g, full));
        row_tiles(&I, icb0, icb1, I.bi);
        cg_loop_end_rolled(g, &r1);
        cg_loop_end_kept(g, &ch);
    }
    if (rem) {
        I.from_bias = full == 0;
        I.finish = finishes;
        CgLoop r2 = rows_loop(&I);
        row_tiles(&I, cg_i64(g, full), cg_i64(g, full + 1), rem);
        cg_loop_end_rolled(g, &r2);
    }
    /* the residual and the activation on the finished rows, unless the last pass did them */
    if (I.rows) {
        store_nchw(k, &I);
    } else if (!I.finish && (n->act != ACT_NONE || n->nin > 1)) {
        CgLoop r3 = rows_loop(&I);
        for (int j = 0; j < I.tile.nb; j++) {
            LLVMValueRef p = out_at(&I, j, cg_i64(g, 0));
            int vector = cg_vector_act(n->act); /* else sigmoid, tanh, silu: by element */
            CgLoop i = cg_loop(g, cg_i64(g, 0), cg_i64(g, vector ? o->w : o->w * I.bo), "act");
            LLVMValueRef at = cg_gep(g, p, vector ? cg_mul(g, i.iv, cg_i64(g, I.bo)) : i.iv);
            LLVMTypeRef ty = vector ? g->vf : g->f32;
            LLVMBuildStore(g->b, finish_value(&I, ty, LLVMBuildLoad2(g->b, ty, at, ""), at), at);
            cg_loop_end(g, &i);
        }
        cg_loop_end_rolled(g, &r3);
    }
}

/* A layer whose weights do not stay in cache (og_major) and are at least
 * 4x a sample's input runs every sample of an item before the next: its
 * weights stream once per batch, the samples' inputs once per channel group.
 * Where the input is nearly as large (ResNet-50's stride-2 layers at 28 x 28
 * into 14 x 14: 2 MB of weights, 0.8-1.6 MB of input), reading each sample's
 * input once per group was measured slower than streaming the weights per
 * sample (--profile at batch 8). */
static int blocked_sample_inner(const Cg *g, const IrNode *n)
{
    const IrTensor *in = &g->m->tensors[n->in[0]];
    int64_t wbytes = n->geom.kernel[0] * n->geom.kernel[1] * in->c * g->m->tensors[n->out].c * 4;
    return blocked_tile(g->vec, g->m, n).og_major && wbytes >= 4 * 4 * ir_tensor_size(in);
}

const CgLowering cg_lower_conv_blocked = {.applies = blocked_applies, .work = blocked_work, .scratch = blocked_scratch,
                                          .emit = emit_conv_blocked, .prepare = cg_blocked_prepare,
                                          .sample_inner = blocked_sample_inner};
