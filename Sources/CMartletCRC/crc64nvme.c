#include "CMartletCRC.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#include <wmmintrin.h>
#endif

// CRC-64/NVME as S3 uses it (x-amz-checksum-crc64nvme):
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
// Reflected polynomial 0x9A6C9329AC4BC9B5, init ~0, xorout ~0; check("123456789") = 0xAE8B14860A799888.

#define CRC64_POLY 0x9A6C9329AC4BC9B5ull

static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;
static int crc64_has_pclmul;

// Folding constants, x^n mod P in the reflected representation (see crc64_fold_constants).
static uint64_t k_fold512_lo, k_fold512_hi, k_fold128_lo, k_fold128_hi;

/// x^n mod P, reflected: bit j stands for x^(63-j), so multiplying by x shifts right.
static uint64_t crc64_xpow_mod(unsigned n) {
    uint64_t v = 1ull << 63;  // x^0
    while (n--) {
        v = (v & 1) ? (v >> 1) ^ CRC64_POLY : v >> 1;
    }
    return v;
}

static void crc64_init(void) {
    for (uint64_t n = 0; n < 256; n++) {
        uint64_t c = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY : c >> 1;
        }
        crc64_table[0][n] = c;
    }
    for (uint64_t n = 0; n < 256; n++) {
        uint64_t c = crc64_table[0][n];
        for (int k = 1; k < 8; k++) {
            c = crc64_table[0][c & 0xff] ^ (c >> 8);
            crc64_table[k][n] = c;
        }
    }
    // A 128-bit block A = L*x^64 + H (L: its first 8 bytes, the higher-degree half) moved d bits
    // further along the message is A*x^d = L*x^(d+64) + H*x^d. A carry-less product of two
    // reflected 64-bit values comes out multiplied by an extra x in the 128-bit reflected frame,
    // so the constants are x^(d+63) and x^(d-1) mod P.
    k_fold512_lo = crc64_xpow_mod(512 + 63);
    k_fold512_hi = crc64_xpow_mod(512 - 1);
    k_fold128_lo = crc64_xpow_mod(128 + 63);
    k_fold128_hi = crc64_xpow_mod(128 - 1);
#if defined(__x86_64__)
    crc64_has_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
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

/// Slicing-by-8 on the raw register (no pre/post inversion).
static uint64_t crc64_raw_table(uint64_t crc, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint64_t w = load_le64(p) ^ crc;
        crc = crc64_table[7][w & 0xff] ^ crc64_table[6][(w >> 8) & 0xff] ^
              crc64_table[5][(w >> 16) & 0xff] ^ crc64_table[4][(w >> 24) & 0xff] ^
              crc64_table[3][(w >> 32) & 0xff] ^ crc64_table[2][(w >> 40) & 0xff] ^
              crc64_table[1][(w >> 48) & 0xff] ^ crc64_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) {
        crc = crc64_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("pclmul,sse4.1")))
static inline __m128i crc64_fold(__m128i acc, __m128i k, __m128i next) {
    __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/// Folds 64-byte stripes through four 128-bit lanes, then one lane 16 bytes at a time, after
/// Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ". The last 16-byte lane
/// is reduced by running the table over its bytes from a zero register: its value is congruent
/// to the whole message so far, and the table computes exactly that value times x^64 mod P.
/// Requires n >= 64.
__attribute__((target("pclmul,sse4.1")))
static uint64_t crc64_raw_pclmul(uint64_t crc, const unsigned char *p, size_t n) {
    const __m128i k512 = _mm_set_epi64x((long long)k_fold512_hi, (long long)k_fold512_lo);
    const __m128i k128 = _mm_set_epi64x((long long)k_fold128_hi, (long long)k_fold128_lo);

    __m128i x0 = _mm_loadu_si128((const __m128i *)(p + 0));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    // The running register joins the message by XOR into its first 8 bytes.
    x0 = _mm_xor_si128(x0, _mm_cvtsi64_si128((long long)crc));
    p += 64;
    n -= 64;

    while (n >= 64) {
        x0 = crc64_fold(x0, k512, _mm_loadu_si128((const __m128i *)(p + 0)));
        x1 = crc64_fold(x1, k512, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = crc64_fold(x2, k512, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = crc64_fold(x3, k512, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }

    __m128i acc = crc64_fold(x0, k128, x1);
    acc = crc64_fold(acc, k128, x2);
    acc = crc64_fold(acc, k128, x3);
    while (n >= 16) {
        acc = crc64_fold(acc, k128, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }

    unsigned char lane[16];
    _mm_storeu_si128((__m128i *)lane, acc);
    uint64_t raw = crc64_raw_table(0, lane, sizeof lane);
    return crc64_raw_table(raw, p, n);
}
#endif

uint64_t martlet_crc64nvme_update(uint64_t crc, const void *data, size_t length) {
    pthread_once(&crc64_once, crc64_init);
    uint64_t raw = ~crc;
#if defined(__x86_64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (crc64_has_pclmul && length >= 64) {
        return ~crc64_raw_pclmul(raw, (const unsigned char *)data, length);
    }
#endif
    return ~crc64_raw_table(raw, (const unsigned char *)data, length);
}

uint64_t martlet_crc64nvme_update_portable(uint64_t crc, const void *data, size_t length) {
    pthread_once(&crc64_once, crc64_init);
    return ~crc64_raw_table(~crc, (const unsigned char *)data, length);
}
