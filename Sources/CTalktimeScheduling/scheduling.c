#include "CTalktimeScheduling.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>

// The kernel's struct sched_attr (include/uapi/linux/sched/types.h); glibc 2.36 has no wrapper for the call.
struct talktime_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};
#endif

int talktime_make_thread_background(int nice, uint64_t slice_ns) {
#if defined(__linux__) && defined(SYS_sched_setattr)
    struct talktime_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.sched_policy = 0;  // SCHED_OTHER
    attr.sched_nice = nice;
    attr.sched_runtime = slice_ns;  // the slice, for SCHED_OTHER since Linux 6.12
    if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0) {
        return 0;
    }
#endif
    // On Linux a thread's nice value is its own (who = 0 is the calling thread).
    if (setpriority(PRIO_PROCESS, 0, nice) != 0) {
        return errno;
    }
    return 0;
}
