// What a thread's frames left on its stack: codes, sessions and tokens pass through it (a code on its way
// into a request, a token being parsed), and glibc keeps an ended thread's stack for the next thread it
// starts. Used by the helper's login threads (helper/server.cpp) and the network worker's connection threads
// (pool_worker/main.cpp).
#pragma once

namespace pp {

// Zeroes the 64 KiB just below the caller's frame, where the frames of what the thread did lay (a code login
// reaches about 30 KiB down: libcurl, OpenSSL, json-c); they stay resident for the thread's next use. The
// pages below them are given back (MADV_DONTNEED: they read as zeros afterwards and cost no memory; for pages
// nothing touched, the usual case, the call finds nothing to do). Call it from the thread's outermost frame.
void wipe_spent_stack();

}  // namespace pp
