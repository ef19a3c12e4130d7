#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <zlib.h>
#if defined(__linux__)
#include <malloc.h>
#endif
