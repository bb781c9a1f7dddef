/* ring buffer of bytes, single producer / single consumer */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RING_SIZE 1024u  /* must be a power of two */

typedef struct {
    uint8_t data[RING_SIZE];
    volatile uint32_t head, tail;
} ring_t;

static inline uint32_t ring_used(const ring_t *r) { return r->head - r->tail; }

int ring_push(ring_t *r, const void *src, uint32_t n) {
    if (RING_SIZE - ring_used(r) < n) return -1;
    for (uint32_t i = 0; i < n; ++i)
        r->data[(r->head + i) & (RING_SIZE - 1)] = ((const uint8_t *)src)[i];
    r->head += n;
    return 0;
}

int main(int argc, char **argv) {
    ring_t r;
    memset(&r, 0, sizeof r);
    const char *msg = argc > 1 ? argv[1] : "hello, world\n";
    if (ring_push(&r, msg, (uint32_t)strlen(msg)) != 0) {
        fprintf(stderr, "full: %u/%u\n", ring_used(&r), RING_SIZE);
        return 1;
    }
    printf("%-8s|%08x|%+.3e\t%%\n", "used", ring_used(&r), 6.02214076e23);
    return 0;
}
