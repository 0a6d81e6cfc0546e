/* codec_float_i.h - scalar float conversions for the lossy codecs. */
#ifndef QVL_CODEC_FLOAT_I_H
#define QVL_CODEC_FLOAT_I_H

#include <stdint.h>
#include <string.h>

#include "qvl_abi.h"

float qvl_bf16_to_float(uint16_t h);
uint16_t qvl_float_to_bf16(float f);
float qvl_f16_to_float(uint16_t h);
uint16_t qvl_float_to_f16(float f);
/* Load or store one value of @dtype (bf16, f16 or f32) at @p. */
float qvl_load_float(const uint8_t *p, enum qvl_dtype dtype);
void qvl_store_float(uint8_t *p, enum qvl_dtype dtype, float f);

#endif /* QVL_CODEC_FLOAT_I_H */
