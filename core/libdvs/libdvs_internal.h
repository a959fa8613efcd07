// Test and tool hooks of libdvs that are not part of the public API.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// The memfd of a DC table this process has mapped (because it is bound in that DC), or -1.
// The descriptor stays owned by libdvs. Used by tests that corrupt shared memory on purpose.
int dvs_internal_table_fd(int dcid);

#ifdef __cplusplus
}
#endif
