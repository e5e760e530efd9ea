// The callbacks libfido2 1.12 drives a virtual key through.
//
// How libfido2 uses them (src/io.c, src/dev.c of 1.12):
//  - io.open/io.close bracket every device, whichever path carries the traffic.
//  - When transport functions are set (fido_dev_info_set(..., &io, &transport) + fido_dev_new_with_info), ALL
//    traffic goes through transport.tx/transport.rx as whole CTAPHID messages (INIT, CBOR, CANCEL); io.read
//    and io.write are never called, and libfido2 never sees keepalives: transport.rx must skip them itself.
//  - With io functions only (fido_dev_set_io_functions + fido_dev_open), libfido2 frames messages itself:
//    io.write gets a 65-byte report (report id 0 + 64 bytes), io.read must return exactly 64 bytes per call,
//    and libfido2 skips keepalive reports in its own receive loop.
#pragma once

#include <fido.h>

namespace vfido {

// "vfido:<index>" for each virtual key.
inline constexpr char path_prefix[] = "vfido:";

extern const fido_dev_io_t io_functions;
extern const fido_dev_transport_t transport_functions;

}  // namespace vfido
