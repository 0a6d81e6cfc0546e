/*
 * qvl_fault.h - fault injection in the store's I/O, for tests.
 *
 * The daemon arms it from the environment variable QVL_FAULT:
 *
 *   QVL_FAULT=OP:N[:KIND[:COUNT]][,OP:N...]
 *
 *   OP     read | write (io_uring completions of frame reads and writes)
 *          | fsync (the fdatasync that makes a frame durable)
 *   N      the Nth such operation, counted from 1 since the daemon started
 *   KIND   eio (default) | enospc | short: the operation fails with that
 *          error, or says it moved half the bytes it moved (rounded down
 *          to 4 KiB; a transfer under 8 KiB is left whole) | slow: it
 *          goes through 200 ms late (a busy disk: what waits for it?)
 *   COUNT  how many operations from the Nth on fail (default 1; 0 means
 *          every one from then on: a disk that died)
 *
 * An injected failure leaves what a failing disk may leave: a failed write
 * puts junk where the frame was to go and a failed read junk in the buffer
 * (nvme_io.c), so a caller that used either despite the error is caught.
 * Unarmed, each hook is one relaxed load of a flag.
 */
#ifndef QVL_FAULT_H
#define QVL_FAULT_H

#include <stdbool.h>
#include <stdint.h>

enum qvl_fault_op {
	QVL_FAULT_READ,
	QVL_FAULT_WRITE,
	QVL_FAULT_FSYNC,
	QVL_FAULT_OPS
};

/* qvl_fault_arm() - parse @spec and arm it (replacing any earlier plan);
 * NULL or "" disarms.  Returns 0 or -EINVAL for a spec that does not parse,
 * leaving nothing armed. */
int qvl_fault_arm(const char *spec);

/* qvl_fault_armed() - whether any fault is planned. */
bool qvl_fault_armed(void);

/*
 * qvl_fault_io() - count one @op that the kernel answered with @res (bytes
 * moved, or -errno) and return what the caller is to believe: @res itself,
 * or the planned fault.
 */
int qvl_fault_io(enum qvl_fault_op op, int res);

/* qvl_fault_injected() - faults injected so far, all operations. */
uint64_t qvl_fault_injected(void);

#endif /* QVL_FAULT_H */
