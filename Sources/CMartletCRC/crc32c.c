#include "CMartletCRC.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

// CRC-32C (Castagnoli), reflected: https://www.rfc-editor.org/rfc/rfc3720#appendix-B.4
// S3 names it CRC32C: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static int crc32c_has_sse42;

static void crc32c_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        }
        crc32c_table[0][n] = c;
    }
    // Slicing-by-8: table[k][n] is the CRC of byte n followed by k zero bytes.
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = crc32c_table[0][n];
        for (int k = 1; k < 8; k++) {
            c = crc32c_table[0][c & 0xff] ^ (c >> 8);
            crc32c_table[k][n] = c;
        }
    }
#if defined(__x86_64__)
    crc32c_has_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static inline uint64_t load_le64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/// Works on the raw register (no pre/post inversion).
static uint32_t crc32c_raw_table(uint32_t crc, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint64_t w = load_le64(p) ^ crc;
        crc = crc32c_table[7][w & 0xff] ^ crc32c_table[6][(w >> 8) & 0xff] ^
              crc32c_table[5][(w >> 16) & 0xff] ^ crc32c_table[4][(w >> 24) & 0xff] ^
              crc32c_table[3][(w >> 32) & 0xff] ^ crc32c_table[2][(w >> 40) & 0xff] ^
              crc32c_table[1][(w >> 48) & 0xff] ^ crc32c_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) {
        crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_raw_sse42(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        c = _mm_crc32_u64(c, load_le64(p));
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) {
        c32 = _mm_crc32_u8(c32, *p++);
    }
    return c32;
}
#endif

uint32_t martlet_crc32c_update(uint32_t crc, const void *data, size_t length) {
    pthread_once(&crc32c_once, crc32c_init);
    uint32_t raw = ~crc;
#if defined(__x86_64__)
    if (crc32c_has_sse42) {
        return ~crc32c_raw_sse42(raw, (const unsigned char *)data, length);
    }
#endif
    return ~crc32c_raw_table(raw, (const unsigned char *)data, length);
}

uint32_t martlet_crc32c_update_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&crc32c_once, crc32c_init);
    return ~crc32c_raw_table(~crc, (const unsigned char *)data, length);
}
