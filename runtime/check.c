/*
 * check.c - validates the RtModel constant before the runtime trusts it.
 *
 * An object compiled against another convrt.h (RtModel.magic and
 * abi_version) is refused first. Otherwise the generated code is the only producer of an
 * RtModel, so a failure here is a compiler bug; catching it turns a silent out-of-bounds write into a
 * one-line error (exit RT_EXIT_RUNTIME). Checked: counts and pointers,
 * every index in range, every tensor inside the arena, every parameter
 * inside its buffer, every prepare step's parameters present, no step
 * reading a transient parameter (the runtime frees those before any run).
 */
#include "runtime/rt_internal.h"

static int bad(const RtModel *m, const char *what, const char *name)
{
    return rt_error(RT_EXIT_RUNTIME, "malformed network '%s': %s%s%s%s (compiler bug)", m->name ? m->name : "?",
                    what, name ? " '" : "", name ? name : "", name ? "'" : "");
}

static int64_t param_numel(const RtParam *p)
{
    int64_t n = 1;
    for (int d = 0; d < p->rank; d++)
        if (p->dims[d] < 0 || rt_mul_overflows(n, p->dims[d], &n))
            return -1;
    return n;
}

/* C rounded up to the layout's channel block */
static int64_t padded_channels(const RtTensor *t)
{
    int64_t block = t->layout == RT_LAYOUT_NCHW16C ? 16 : t->layout == RT_LAYOUT_NCHW8C ? 8 : 1;
    return ((int64_t)t->c + block - 1) / block * block;
}

/* Floats from one sample of t to the next. */
static int64_t stride_of(const RtTensor *t) { return t->stride ? t->stride : t->size; }

static int check_tensors(const RtModel *m)
{
    for (int32_t i = 0; i < m->ntensors; i++) {
        const RtTensor *t = &m->tensors[i];
        if (!t->name || (t->rank != 1 && t->rank != 3) || t->c < 1 || t->h < 1 || t->w < 1 ||
            (t->rank == 1 && (t->h != 1 || t->w != 1)) || t->layout < 0 || t->layout > RT_LAYOUT_NCHW8C ||
            t->dtype != RT_DTYPE_F32 || t->size != padded_channels(t) * t->h * t->w ||
            t->bytes != t->size * (int64_t)sizeof(float))
            return bad(m, "bad shape of tensor", t->name);
        int64_t stride = stride_of(t);
        if (stride < t->size || t->view_off < 0 || t->view_off > stride - t->size || t->view_off % 16)
            return bad(m, "bad view of tensor", t->name);
        if (t->offset < 0 || t->offset > m->arena_floats - stride)
            return bad(m, "arena too small for tensor", t->name);
    }
    return 0;
}

static int check_params(const RtModel *m)
{
    for (int32_t i = 0; i < m->nparams; i++) {
        const RtParam *p = &m->params[i];
        int64_t n = p->rank >= 0 && p->rank <= 4 ? param_numel(p) : -1;
        if (!p->name || n < 0 || (p->source != RT_PARAM_LOAD && p->source != RT_PARAM_DERIVED) ||
            (p->buffer != RT_PARAM_RESIDENT && p->buffer != RT_PARAM_TRANSIENT))
            return bad(m, "bad parameter", p->name);
        int64_t floats = p->buffer == RT_PARAM_TRANSIENT ? m->prepare_floats : m->param_floats;
        if (p->offset < 0 || p->offset > floats - n)
            return bad(m, "parameter buffer too small for", p->name);
    }
    return 0;
}

/* Every parameter of a prepare step exists and each one it writes is derived. */
static int check_prepare(const RtModel *m)
{
    for (int32_t i = 0; i < m->nprepare; i++) {
        const RtPrepare *p = &m->prepare[i];
        if (!p->fn || p->work < 0 || p->nout < 1 || p->nin < 0 || p->nin > RT_MAX_PREPARE_PARAMS - p->nout)
            return bad(m, "bad prepare step", p->name);
        for (int j = 0; j < p->nout + p->nin; j++)
            if (p->params[j] < 0 || p->params[j] >= m->nparams)
                return bad(m, "prepare step refers to a missing parameter:", p->name);
        for (int j = 0; j < p->nout; j++)
            if (m->params[p->params[j]].source != RT_PARAM_DERIVED)
                return bad(m, "prepare step writes a parameter that is not derived:", p->name);
    }
    return 0;
}

static int check_steps(const RtModel *m)
{
    for (int32_t i = 0; i < m->nsteps; i++) {
        const RtStep *s = &m->steps[i];
        if (!s->fn || s->work < 0 || s->ntensors < 1 || s->ntensors > RT_MAX_STEP_TENSORS || s->nparams < 0 ||
            s->nparams > RT_MAX_STEP_PARAMS)
            return bad(m, "bad step", s->name);
        for (int j = 0; j < s->ntensors; j++)
            if (s->tensors[j] < 0 || s->tensors[j] >= m->ntensors)
                return bad(m, "step refers to a missing tensor:", s->name);
        for (int j = 0; j < s->nparams; j++)
            if (s->params[j] < 0 || s->params[j] >= m->nparams)
                return bad(m, "step refers to a missing parameter:", s->name);
            else if (m->params[s->params[j]].buffer != RT_PARAM_RESIDENT)
                return bad(m, "step reads a transient parameter:", s->name);
    }
    return 0;
}

static int check_ports(const RtModel *m, int32_t n, const int32_t *idx, const char *const *names)
{
    for (int32_t i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= m->ntensors || !names[i])
            return bad(m, "input or output refers to a missing tensor", NULL);
        if (m->tensors[idx[i]].layout != RT_LAYOUT_NCHW)
            return bad(m, "input or output not in NCHW layout:", names[i]);
        if (stride_of(&m->tensors[idx[i]]) != m->tensors[idx[i]].size)
            return bad(m, "input or output is a view of another tensor:", names[i]);
    }
    return 0;
}

int rt_model_matches(const RtModel *m)
{
    return m->magic == RT_MODEL_MAGIC && m->abi_version == RT_ABI_VERSION;
}

/* Only the first two fields are read until they match: an object built
 * against another convrt.h has another layout after them, or (before
 * versioning) its name pointer in their place. */
int rt_model_version_error(const RtModel *m)
{
    if (m->magic != RT_MODEL_MAGIC)
        return rt_error(RT_EXIT_RUNTIME, "the network object was compiled for another version of the runtime "
                        "(no ABI %d model descriptor): recompile it with this convc", RT_ABI_VERSION);
    if (m->abi_version != RT_ABI_VERSION)
        return rt_error(RT_EXIT_RUNTIME, "the network object was compiled for runtime ABI %d, this runtime has "
                        "ABI %d: recompile it with this convc", (int)m->abi_version, RT_ABI_VERSION);
    return 0;
}

int rt_check_model(const RtModel *m)
{
    int rc = rt_model_version_error(m);
    if (rc)
        return rc;
    if (m->ntensors < 0 || m->nparams < 0 || m->nprepare < 0 || m->nsteps < 0 || m->ninputs < 0 || m->noutputs < 1 ||
        m->arena_floats < 0 || m->param_floats < 0 || m->prepare_floats < 0 || m->macs < 0 || (m->ntensors && !m->tensors) ||
        (m->nparams && !m->params) || (m->nprepare && !m->prepare) || (m->nsteps && !m->steps) ||
        (m->ninputs && (!m->inputs || !m->input_names)) || !m->outputs || !m->output_names)
        return bad(m, "bad counts or pointers", NULL);
    rc = check_tensors(m);
    if (!rc)
        rc = check_params(m);
    if (!rc)
        rc = check_prepare(m);
    if (!rc)
        rc = check_steps(m);
    if (!rc)
        rc = check_ports(m, m->ninputs, m->inputs, m->input_names);
    if (!rc)
        rc = check_ports(m, m->noutputs, m->outputs, m->output_names);
    return rc;
}
