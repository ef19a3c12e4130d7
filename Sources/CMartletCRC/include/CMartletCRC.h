#ifndef CMARTLET_CRC_H
#define CMARTLET_CRC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Continues a CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) over `length` bytes.
/// Pass 0 to start; the result is the finished CRC and can be passed back in to continue
/// (the pre- and post-inversion happen inside, as with zlib's crc32).
/// Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8 table otherwise.
uint32_t martlet_crc32c_update(uint32_t crc, const void *data, size_t length);

/// Continues a CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout ~0)
/// over `length` bytes. Pass 0 to start; the result is the finished CRC and can be passed
/// back in to continue. Uses carry-less multiplication (PCLMULQDQ) folding when the CPU has
/// it, a slicing-by-8 table otherwise.
uint64_t martlet_crc64nvme_update(uint64_t crc, const void *data, size_t length);

/// The table-driven CRC-64/NVME, whatever the CPU: lets tests check the fast path against it.
uint64_t martlet_crc64nvme_update_portable(uint64_t crc, const void *data, size_t length);

/// The table-driven CRC-32C, whatever the CPU: lets tests check the fast path against it.
uint32_t martlet_crc32c_update_portable(uint32_t crc, const void *data, size_t length);

#ifdef __cplusplus
}
#endif

#endif
