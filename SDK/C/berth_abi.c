/* Compile-time checks that the ABI structs keep the layout the header
 * promises: fields are only ever appended, so these offsets never move. */
#include "berth.h"

_Static_assert(offsetof(berth_plugin, magic) == 0, "magic must stay first");
_Static_assert(offsetof(berth_plugin, size) == 8, "size must stay at offset 8");
_Static_assert(offsetof(berth_host_api, size) == 8, "size must stay at offset 8");
_Static_assert(offsetof(berth_request, size) == 0, "size must stay first");
