#ifndef C_TALKTIME_SCHEDULING_H
#define C_TALKTIME_SCHEDULING_H

#include <stdint.h>

/// Makes the calling thread background work for the scheduler: nice `nice`, and on Linux 6.12 or later (EEVDF
/// custom slices) a time slice of `slice_ns`, so that a thread woken with a default slice preempts it at once
/// instead of waiting for its slice to run out. Returns 0, or the errno of the call that failed (older kernels
/// ignore the slice for normal threads; other systems only get the nice value).
int talktime_make_thread_background(int nice, uint64_t slice_ns);

#endif
