/*
 * convert.c - little-endian float16, bfloat16, float32 and float64 arrays to
 * float32, exactly (float16 subnormals, infinities and NaNs included; float64
 * rounds to nearest). Sources may be unaligned: they are read with memcpy.
 */
#include <math.h>
#include <string.h>

#include "runtime/rt_internal.h"

/* IEEE binary16: sign, 5-bit exponent (bias 15), 10-bit fraction. */
static float half_to_float(uint16_t h)
{
    uint32_t exp = h >> 10 & 0x1F, man = h & 0x3FF;
    float v = exp == 0x1F ? (man ? NAN : INFINITY)
            : exp ? ldexpf((float)(man | 0x400), (int)exp - 25)
                  : ldexpf((float)man, -24);
    return h & 0x8000 ? -v : v;
}

void rt_convert_to_f32(float *dst, const unsigned char *src, int64_t n, RtFloatType type)
{
    if (type == RT_F32) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        if (type == RT_F64) {
            double d;
            memcpy(&d, src + 8 * i, sizeof d);
            dst[i] = (float)d;
            continue;
        }
        uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
        if (type == RT_F16) {
            dst[i] = half_to_float(h);
        } else {
            uint32_t bits = (uint32_t)h << 16; /* bfloat16 is the top half of a float32 */
            memcpy(&dst[i], &bits, sizeof bits);
        }
    }
}
