// Every heap block the helper frees is wiped first, whoever frees it.
//
// Codes, PINs, Sessions and tokens pass through memory the helper does not own: libcurl's request and
// receive buffers, OpenSSL's record buffers (which decrypt in place), json-c's parse trees and tokenizer,
// libstdc++'s string temporaries. Each library frees that memory without wiping it, and freed heap memory
// stays in the process (in a core, or handed out again by a later allocation). Hooking each library's
// allocator in turn (curl_global_init_mem, CRYPTO_set_mem_functions; json-c has none) would leave every
// copy nobody thought of; replacing free() for the whole program leaves none. glibc supports this
// interposition (the program's free() is the one every library calls) and exports __libc_free() to hand
// the block on to. The cost is one explicit_bzero of the block's usable size per free (bench/README.md).
//
// realloc() is replaced too: glibc's moves a block with an internal free that would skip the wipe.
//
// Under AddressSanitizer its own allocator serves the program and __libc_free() would be handed blocks
// glibc never made; there the sanitizer fills every freed block itself (free_fill_byte), to the same effect.
#include <malloc.h>
#include <string.h>

#include <cerrno>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)

extern "C" const char* __asan_default_options() {
    // Options set in ASAN_OPTIONS come after these and win, key by key.
    return "max_free_fill_size=2147483647:free_fill_byte=0";
}

#else

extern "C" {
// glibc's own allocator, under names that interposition does not touch.
void* __libc_malloc(std::size_t size);
void __libc_free(void* block);

void free(void* block) noexcept {
    if (block == nullptr) return;
    explicit_bzero(block, malloc_usable_size(block));
    __libc_free(block);
}

void* realloc(void* block, std::size_t size) noexcept {
    if (block == nullptr) return __libc_malloc(size);
    if (size == 0) {
        free(block);
        return nullptr;
    }
    const std::size_t usable = malloc_usable_size(block);
    // A block that shrinks stays where it is, whole: splitting it would free its tail unwiped.
    if (size <= usable) return block;
    void* moved = __libc_malloc(size);
    if (moved == nullptr) return nullptr;  // malloc set errno; the old block stays valid, as realloc promises
    memcpy(moved, block, usable);
    free(block);
    return moved;
}

void* reallocarray(void* block, std::size_t count, std::size_t size) noexcept {
    std::size_t total = 0;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return nullptr;
    }
    return realloc(block, total);
}
}

#endif
